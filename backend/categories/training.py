"""Build-time training of the category model, cached by a hash of data and configuration.

    python -m backend.categories.training [--force]      (scripts/category-train.sh, run by setup.sh)

Training data: ``train/*.tsv`` (text, path: written chat messages, exported staff corrections, …),
the texts composed from ``phrases.yml`` and ``_chatter.yml`` (the reject class), and for the top
level the real messages of the training folds (``real/``, ``real.py``; the frozen fold never). The model lands in
``$RED_MAILBOX_CACHE/categories/model-<hash>.npz``; processes load it (``classifier.get_classifier``).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from . import compose, model as M, real
from .taxonomy import DATA_DIR, get_taxonomy

TRAIN_DIR = "train"
CHATTER_FILE = "_chatter.yml"
DICTIONARY_FILE = "dictionary.txt"
EXCLUDE_ENV = "CATEGORY_TRAIN_EXCLUDE"   # comma-separated train/*.tsv names to leave out (acceptance runs)


def cache_dir() -> Path:
    return Path(os.environ.get("RED_MAILBOX_CACHE") or Path.home() / ".cache" / "red-mailbox") / "categories"


def train_files(data_dir: Path, exclude: Tuple[str, ...] = ()) -> List[Path]:
    return [p for p in sorted((Path(data_dir) / TRAIN_DIR).glob("*.tsv")) if p.name not in exclude]


def read_tsv(path: Path) -> List[Tuple[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rd = csv.reader(fh, delimiter="\t")
        next(rd, None)
        return [(r[0].replace("\\n", "\n"), r[1].strip()) for r in rd if len(r) >= 2 and r[0].strip()]


def load_chatter(data_dir: Path) -> List[str]:
    f = Path(data_dir) / CHATTER_FILE
    raw = yaml.safe_load(f.read_text(encoding="utf-8")) if f.exists() else {}
    return [str(t).strip() for t in (raw or {}).get("examples") or [] if str(t).strip()]


def real_examples(data_dir: Path = DATA_DIR) -> List[Tuple[str, str, str]]:
    """[(text, top level, group)] of the real messages the model trains on (every fold but the
    frozen one), and the title alone of a row with title and body (short texts like a resident's);
    group: the message's key, so its rows are held out together."""
    out = []
    for r, g in real.training_rows_with_groups(data_dir):
        out.append((r.text, r.label, f"real:{g}"))
        if r.title and r.body:
            out.append((r.title, r.label, f"real:{g}"))
    return out


def examples(data_dir: Path = DATA_DIR, exclude: Tuple[str, ...] = (), with_real: bool = False
             ) -> List[Tuple[str, Optional[str]]]:
    """[(text, path or None for chatter)]: the written data; with_real adds the real messages of the
    training folds (path = their top level). Raises ValueError on a path not in the taxonomy."""
    tax = get_taxonomy(data_dir)
    out: List[Tuple[str, Optional[str]]] = []
    if with_real:
        for text, label, _ in real_examples(data_dir):
            if not tax.is_valid(label):
                raise ValueError(f"{real.REAL_FILE}: {label!r} is not a top level")
            out.append((text, label))
    for f in train_files(data_dir, exclude):
        for text, path in read_tsv(f):
            if not tax.is_valid(path, leaf_only=True):
                raise ValueError(f"{f.name}: {path!r} is not a level-2 or level-3 taxonomy path")
            out.append((text, tax.get(path).path))
    for text, path in compose.compose(data_dir):
        if not tax.is_valid(path, leaf_only=True):
            raise ValueError(f"phrases.yml: {path!r} is not a taxonomy path")
        out.append((text, path))
    out += [(t, None) for t in load_chatter(data_dir)]
    return out


def _data_files(data_dir: Path, exclude: Tuple[str, ...]) -> List[Path]:
    files = [data_dir / n for n in ("taxonomy.tsv", "community.tsv", compose.PHRASES_FILE, CHATTER_FILE,
                                    DICTIONARY_FILE, real.REAL_FILE)]
    return [f for f in [*files, *train_files(data_dir, exclude)] if f.exists()]


_CODE = None                      # the composer's and model's source (fixed for a process)
_memo: Dict[tuple, str] = {}      # (dir, exclude, file stamps) → fingerprint


def fingerprint(data_dir: Path = DATA_DIR, exclude: Tuple[str, ...] = ()) -> str:
    """sha256 of every data file, the composer and model source and the configuration. Memoised on
    the files' sizes and modification times, so the per-request lookup of the model costs a few stats."""
    global _CODE
    data_dir = Path(data_dir)
    files = _data_files(data_dir, exclude)
    stats = [(f.name, f.stat()) for f in files]
    stamp = (str(data_dir), exclude, tuple((n, st.st_mtime_ns, st.st_size) for n, st in stats))
    hit = _memo.get(stamp)
    if hit:
        return hit
    if _CODE is None:
        _CODE = "".join(inspect.getsource(mod) for mod in (compose, M, real)) + json.dumps(M.CONFIG, sort_keys=True)
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    h.update(_CODE.encode())
    _memo[stamp] = h.hexdigest()[:16]
    return _memo[stamp]


def model_path(data_dir: Path = DATA_DIR, exclude: Tuple[str, ...] = ()) -> Path:
    return cache_dir() / f"model-{fingerprint(data_dir, exclude)}.npz"


def build(data_dir: Path = DATA_DIR, force: bool = False, exclude: Tuple[str, ...] = (),
          progress=print) -> Path:
    """Train unless the cache already holds this data's model; returns the model file."""
    data_dir = Path(data_dir)
    path = model_path(data_dir, exclude)
    if path.exists() and not force:
        progress(f"category model up to date ({path.name})")
        return path
    written = examples(data_dir, exclude)
    reals = real_examples(data_dir) if (data_dir / real.REAL_FILE).exists() else []
    texts = [t for t, _, _ in reals] + [t for t, _ in written]
    paths = [p for _, p, _ in reals] + [p for _, p in written]
    groups = [g for _, _, g in reals] + [t for t, _ in written]
    progress(f"training category model {path.name}: {len(reals)} real + {len(written)} written examples")
    model, report = M.train(texts, paths, data_dir / DICTIONARY_FILE, progress, groups)
    model.meta["calibration"] = report
    model.meta["fingerprint"] = path.stem
    model.save(path)
    progress(f"saved {path}")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA_DIR))
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args(argv)
    exclude = tuple(x for x in os.environ.get(EXCLUDE_ENV, "").split(",") if x)
    print(build(Path(a.data), a.force, exclude, progress=lambda m: print(m, flush=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
