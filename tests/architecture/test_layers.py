"""The layering in `.importlinter` is checked here, in `make test`: the contracts hold for the code
as it is, and they do fail when a core module imports a face or two modules import each other."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache", "--no-logo", "--config", str(root / ".importlinter")],
                          cwd=root, env={"PYTHONPATH": f"{root}:{root / 'bot'}", "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def tree(tmp_path):
    """A copy of the code the contracts read (backend, the bot's actions, the contracts)."""
    shutil.copytree(ROOT / "backend", tmp_path / "backend", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "bot" / "actions", tmp_path / "bot" / "actions", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_a_core_module_importing_a_face_breaks_them(tree):
    _append(tree / "backend/orders/services.py", "from ..console import views  # noqa")
    result = _lint(tree)
    assert result.returncode != 0 and "Core modules never import a face" in result.stdout
    assert "BROKEN" in result.stdout


def test_a_cycle_between_two_modules_of_a_package_breaks_them(tree):
    _append(tree / "backend/wechat/services.py", "from . import channels  # noqa")
    result = _lint(tree)
    assert result.returncode != 0 and "No import cycles" in result.stdout


def test_the_bot_importing_the_backend_breaks_them(tree):
    _append(tree / "bot/actions/common.py", "import backend.orders.lifecycle  # noqa")
    result = _lint(tree)
    assert result.returncode != 0 and "only over HTTP" in result.stdout


def uncovered(root: Path) -> list[str]:
    """Backend modules no contract names (nor a package above them): a module nobody listed would
    be silently free to import anything."""
    import configparser
    config = configparser.ConfigParser()
    config.read(root / ".importlinter", encoding="utf-8")

    def listed(section: str, key: str) -> set[str]:
        return {line.strip() for line in config[f"importlinter:contract:{section}"].get(key, "").splitlines()
                if line.strip()}
    named = (listed("core-never-imports-a-face", "source_modules") | listed("core-never-imports-a-face", "forbidden_modules")
             | listed("base-imports-nothing-above", "source_modules"))
    modules = [".".join(p.relative_to(root).with_suffix("").parts) for p in sorted((root / "backend").rglob("*.py"))
               if p.name != "__init__.py"]
    return [m for m in modules if not any(m == n or m.startswith(n + ".") for n in named)]


def test_every_backend_module_is_under_a_contract():
    assert uncovered(ROOT) == []


def test_a_new_module_in_no_contract_fails(tree):
    (tree / "backend" / "orders" / "shortcut.py").write_text("from ..console import views  # noqa\n", encoding="utf-8")
    assert uncovered(tree) == ["backend.orders.shortcut"]
