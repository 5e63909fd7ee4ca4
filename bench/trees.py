"""Two trees side by side in one run: this checkout and an older commit exported beside it, each in a
child process of its own that answers `round N` lines with one JSON line, rounds alternating the
trees (before, after, after, before, …) so that whatever else loads the machine falls on both alike.
Used by the in-process harnesses (`intake_cpu`, `worker_cpu`); the child side stays in each harness
file, since an older tree's bench package may not have what this one has."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Tree:
    """One tree's child: `python <harness> --child *args`, run with the tree as cwd and import path."""

    def __init__(self, name: str, path: Path, harness: str, args: list[str]):
        self.name, self.rounds = name, []
        self.proc = subprocess.Popen(
            [sys.executable, str(path / "bench" / harness), "--child", *args], cwd=path,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(path)})
        self._read()  # ready

    def _read(self) -> dict:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit(f"{self.name}: the child ended")
            if line.startswith("{"):
                return json.loads(line)

    def round(self, n: int) -> dict:
        self.proc.stdin.write(f"round {n}\n")
        self.proc.stdin.flush()
        figures = self._read()
        self.rounds.append(figures)
        return figures

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def export(ref: str, harness: str) -> Path:
    """`ref` exported to a temporary directory, with this tree's `bench/<harness>` in it (the older
    tree may have an older one, or none)."""
    where = Path(tempfile.mkdtemp(prefix=f"{Path(harness).stem}-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    (where / "bench" / harness).write_text((ROOT / "bench" / harness).read_text())
    return where


def this_tree() -> str:
    """This checkout's short commit, `+dirty` when tracked files have changed."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return commit + ("+dirty" if dirty else "")


def alternate(trees: list[Tree], rounds: int, n: int, report) -> None:
    """`rounds` rounds of `n`, the trees' order reversed every other round; `report(r, tree, figures)`."""
    for r in range(rounds):
        for tree in (trees if r % 2 == 0 else trees[::-1]):
            report(r, tree, tree.round(n))
    for tree in trees:
        tree.close()


def spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}
