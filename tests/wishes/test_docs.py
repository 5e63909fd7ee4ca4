"""docs/architecture.md's wish lifecycle table is the code's."""
import re
from pathlib import Path

from backend.wishes.lifecycle import markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
BLOCK = re.compile(r"<!-- wish-lifecycle-table:.*?-->\n(.*?)\n<!-- /wish-lifecycle-table -->", re.S)


def test_the_documented_wish_lifecycle_table_is_the_codes():
    found = BLOCK.search(DOC.read_text(encoding="utf-8"))
    assert found, "docs/architecture.md lost its wish-lifecycle-table markers"
    assert found.group(1).strip() == markdown_table().strip()
