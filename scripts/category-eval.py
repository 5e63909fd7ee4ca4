#!/usr/bin/env python
"""Evaluation of the order category model on the frozen sets; writes bot/reports/category_report.{md,json}.

Same as `python -m backend.categories.evaluate`. Run with the backend venv: .venv/bin/python scripts/category-eval.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.categories.evaluate import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
