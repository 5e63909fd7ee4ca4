"""Rewrite the three lifecycle tables in docs/architecture.md — orders, disputes and wishes — from
their rows (backend/*/lifecycle.py, through backend/lifecycle.py's Table.markdown); the docs tests
(tests/architecture/test_docs.py, tests/wishes/test_docs.py) fail until they agree.
    .venv/bin/python scripts/docs-lifecycle.py"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from backend.disputes.lifecycle import markdown_table as disputes_table  # noqa: E402
from backend.orders.lifecycle import markdown_table as orders_table  # noqa: E402
from backend.wishes.lifecycle import markdown_table as wishes_table  # noqa: E402

TABLES = {"lifecycle-table": orders_table, "disputes-table": disputes_table, "wish-lifecycle-table": wishes_table}

doc = ROOT / "docs" / "architecture.md"
text = doc.read_text(encoding="utf-8")
for marker, table in TABLES.items():
    text, n = re.subn(rf"(<!-- {marker}:.*?-->\n).*?(\n<!-- /{marker} -->)",
                      lambda m: m.group(1) + table() + m.group(2), text, flags=re.S)
    if n != 1:
        sys.exit(f"docs/architecture.md lost its {marker} markers")
doc.write_text(text, encoding="utf-8")
print("docs/architecture.md: the orders, disputes and wishes lifecycle tables rewritten")
