"""Views stay thin: every view function of the console, the H5 pages, the public pages and the
APIs is at most 15 lines (a refusal is the blueprint's business, backend/pages.py; the work is a
service's)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 15
HTTP = {"get", "post", "put", "patch", "delete"}


def view_lengths(root: Path) -> dict[str, int]:
    files = [*root.glob("backend/console/*.py"), *root.glob("backend/h5/*.py"), *root.glob("backend/*/api.py"),
             *root.glob("backend/public/views.py")]
    found = {}
    for path in sorted(files):
        name = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any("View" in ast.unparse(b) for b in node.bases):
                for fn in node.body:
                    if isinstance(fn, ast.FunctionDef) and fn.name in HTTP:
                        found[f"{name}:{node.name}.{fn.name}"] = fn.end_lineno - fn.lineno + 1
            if isinstance(node, ast.FunctionDef):
                routes = [ast.unparse(d) for d in node.decorator_list]
                if any(".route(" in d or d.split("(")[0].rsplit(".", 1)[-1] in HTTP for d in routes):
                    found[f"{name}:{node.name}"] = node.end_lineno - node.lineno + 1
    return found


def test_every_view_is_at_most_15_lines():
    lengths = view_lengths(ROOT)
    assert len(lengths) > 80  # the scan finds the views
    too_long = {name: n for name, n in lengths.items() if n > LIMIT}
    assert not too_long, too_long
