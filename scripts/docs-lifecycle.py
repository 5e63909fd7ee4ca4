"""Rewrite the lifecycle tables in docs/architecture.md from backend/orders/lifecycle.py and
backend/disputes/lifecycle.py (tests/unit/test_docs.py fails until they agree).   .venv/bin/python scripts/docs-lifecycle.py"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from backend.orders.lifecycle import markdown_table  # noqa: E402
from backend.disputes.lifecycle import markdown_table as disputes_table  # noqa: E402

doc = ROOT / "docs" / "architecture.md"
text = doc.read_text(encoding="utf-8")
new, n = re.subn(r"(<!-- lifecycle-table:.*?-->\n).*?(\n<!-- /lifecycle-table -->)",
                 lambda m: m.group(1) + markdown_table() + m.group(2), text, flags=re.S)
if n != 1:
    sys.exit("docs/architecture.md lost its lifecycle-table markers")
new, n = re.subn(r"(<!-- disputes-table:.*?-->\n).*?(\n<!-- /disputes-table -->)",
                 lambda m: m.group(1) + disputes_table() + m.group(2), new, flags=re.S)
if n != 1:
    sys.exit("docs/architecture.md lost its disputes-table markers")
doc.write_text(new, encoding="utf-8")
print("docs/architecture.md: lifecycle tables rewritten")
