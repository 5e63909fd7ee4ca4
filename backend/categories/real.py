"""Real labelled citizen messages (``real/tipdm2020c-messages.tsv.gz``, SOURCES.md) and their honest folds.

The file joins pieces of the same public message board: a row holds a title, a body or both, and a
body-only row may be the body of another row that has a title (or the same body as a titled row's).
Splitting rows at random would put a test message's own body in training. ``messages`` groups rows
into messages (union-find), so a fold holds whole messages:

- rows with the same normalised title, or the same normalised body, are one message;
- a body-only row joins the titled row whose title it contains best, if it contains most of it (≥
  ``COVER`` of the title's distinctive character bigrams, with at least ``MIN_BIGRAMS`` of them): a
  title mostly repeats words of its body. Only the best title (ties: all of them), or a long body
  that mentions many things would chain unrelated messages into one group of a thousand rows.

``fold_of`` assigns a message to one of ``K`` folds by a stable hash of its first row's text; fold
``FROZEN_FOLD`` is the frozen real evaluation fold (``make test`` gates on it, the production model
never trains on it).
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Tuple

from .taxonomy import DATA_DIR

REAL_FILE = "real/tipdm2020c-messages.tsv.gz"
K = 5
FROZEN_FOLD = 0
COVER = 0.6          # share of a title's distinctive bigrams found in a body-only row that joins them
MIN_BIGRAMS = 4      # titles shorter than this join only by exact text
COMMON_DF = 300      # bigrams in more titles than this (城市, 小区, A市 …) say nothing about which title
MAX_CHARS = 2000     # the classifier reads at most this many characters (model.MAX_CHARS)


@dataclass(frozen=True)
class Row:
    index: int
    title: str
    body: str
    label: str

    @property
    def text(self) -> str:
        """The text the classifier sees: title and body on two lines, or the one that is there."""
        return "\n".join(x for x in (self.title, self.body) if x)


def _norm(s: str) -> str:
    return "".join(unicodedata.normalize("NFKC", s or "").split()).lower()


@lru_cache(maxsize=4)
def _load(path: str) -> Tuple[Row, ...]:
    with gzip.open(path, "rb") as fh:
        text = fh.read().decode("utf-8")
    rd = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t")
    return tuple(Row(i, (r["title"] or "").strip(), (r["body"] or "").strip(), r["label"].strip())
                 for i, r in enumerate(rd))


def rows(data_dir: Path = DATA_DIR) -> List[Row]:
    return list(_load(str(Path(data_dir) / REAL_FILE)))


def _bigrams(s: str) -> set:
    return {s[i:i + 2] for i in range(len(s) - 1)}


@lru_cache(maxsize=4)
def _groups(path: str) -> Tuple[int, ...]:
    """For each row, the index of its message's first row."""
    rs = _load(path)
    parent = list(range(len(rs)))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):
        a, b = find(a), find(b)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first: Dict[tuple, int] = {}
    for r in rs:
        for key in (("t", _norm(r.title)), ("b", _norm(r.body))):
            if key[1]:
                if key in first:
                    union(first[key], r.index)
                else:
                    first[key] = r.index
    titles = [(r.index, _bigrams(_norm(r.title))) for r in rs if r.title]
    df: Dict[str, int] = defaultdict(int)
    for _, g in titles:
        for b in g:
            df[b] += 1
    posting: Dict[str, List[int]] = defaultdict(list)
    size: Dict[int, int] = {}
    for i, g in titles:
        rare = [b for b in g if df[b] <= COMMON_DF]
        size[i] = len(rare)
        if len(rare) >= MIN_BIGRAMS:
            for b in rare:
                posting[b].append(i)
    for r in rs:
        if r.title or not r.body:
            continue
        hits: Dict[int, int] = defaultdict(int)
        for b in _bigrams(_norm(r.body)):
            for i in posting.get(b, ()):
                hits[i] += 1
        scored = [(n / size[i], n, i) for i, n in hits.items() if n >= COVER * size[i]]
        if scored:
            best = max(scored)[:2]
            for cover, n, i in scored:
                if (cover, n) == best:
                    union(i, r.index)
    return tuple(find(i) for i in range(len(rs)))


def messages(data_dir: Path = DATA_DIR) -> List[List[Row]]:
    """Rows grouped into messages (each list in file order)."""
    rs = rows(data_dir)
    out: Dict[int, List[Row]] = defaultdict(list)
    for r, g in zip(rs, _groups(str(Path(data_dir) / REAL_FILE))):
        out[g].append(r)
    return list(out.values())


def fold_of(message: List[Row], k: int = K) -> int:
    r = message[0]
    return int(hashlib.md5(f"{r.title}\t{r.body}".encode()).hexdigest()[:8], 16) % k


def folds(data_dir: Path = DATA_DIR, k: int = K) -> List[List[Row]]:
    """k lists of rows; a message's rows are all in one."""
    out: List[List[Row]] = [[] for _ in range(k)]
    for m in messages(data_dir):
        out[fold_of(m, k)].extend(m)
    for f in out:
        f.sort(key=lambda r: r.index)
    return out


def training_rows(data_dir: Path = DATA_DIR) -> List[Row]:
    """The rows the production model trains on: every fold but the frozen one."""
    return [r for i, f in enumerate(folds(data_dir)) if i != FROZEN_FOLD for r in f]


def training_rows_with_groups(data_dir: Path = DATA_DIR) -> List[Tuple[Row, int]]:
    """(row, its message's key) of the training folds."""
    groups = _groups(str(Path(data_dir) / REAL_FILE))
    return [(r, groups[r.index]) for r in training_rows(data_dir)]


def frozen_fold(data_dir: Path = DATA_DIR) -> List[Row]:
    return folds(data_dir)[FROZEN_FOLD]
