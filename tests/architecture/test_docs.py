"""docs/architecture.md is the project's architecture: its lifecycle table is the code's."""
import re
from pathlib import Path

from backend.orders.lifecycle import markdown_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
BLOCK = re.compile(r"<!-- lifecycle-table:.*?-->\n(.*?)\n<!-- /lifecycle-table -->", re.S)


def test_the_documented_lifecycle_table_is_the_codes():
    found = BLOCK.search(DOC.read_text(encoding="utf-8"))
    assert found, "docs/architecture.md lost its lifecycle-table markers"
    assert found.group(1).strip() == markdown_table().strip(), (
        "the lifecycle changed: run .venv/bin/python scripts/docs-lifecycle.py")


def test_the_readme_links_the_architecture():
    assert "docs/architecture.md" in (DOC.parents[1] / "README.md").read_text(encoding="utf-8")


def test_the_documented_disputes_table_is_the_codes():
    from backend.disputes.lifecycle import markdown_table as disputes_table
    found = re.search(r"<!-- disputes-table:.*?-->\n(.*?)\n<!-- /disputes-table -->", DOC.read_text(encoding="utf-8"), re.S)
    assert found, "docs/architecture.md lost its disputes-table markers"
    assert found.group(1).strip() == disputes_table().strip(), (
        "the disputes lifecycle changed: run .venv/bin/python scripts/docs-lifecycle.py")
