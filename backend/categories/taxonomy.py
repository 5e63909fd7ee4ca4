"""The order category taxonomy: the standard three-level taxonomy of Chinese government message
platforms (``intents/categories/taxonomy.tsv``, 15 / 117 / 517) plus a few community-specific
level-3 nodes where the standard has none (``community.tsv``, each with its reason).

A category is addressed by its Chinese path ("城乡建设", "城乡建设/住房保障与房地产",
"城乡建设/住房保障与房地产/物业服务") or by its ASCII code ("urban", "urban.10", "urban.10.03":
the level-1 code plus the 1-based position of the node in the standard's file; community nodes
number after the standard's). Orders store the path ("L1/L2", or "L1/L2/L3" when the level 3 is
confident); codes are for URLs, metrics and config keys.
"""
from __future__ import annotations

import csv
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

SEP = "/"
DATA_DIR = Path(
    os.environ.get("CATEGORY_DATA_DIR")
    or Path(__file__).resolve().parents[2] / "intents" / "categories"
)
TAXONOMY_FILE = "taxonomy.tsv"
COMMUNITY_FILE = "community.tsv"
OTHER = "其他"
# Stable ASCII codes of the 15 top levels (never rename: config keys and metrics use them).
LEVEL1_CODES = {
    "城乡建设": "urban", "环境保护": "environment", "交通运输": "transport", "教育文体": "education",
    "劳动和社会保障": "labor", "商贸旅游": "commerce", "卫生计生": "health", "民政": "civil",
    "政法": "legal", "农村农业": "agriculture", "国土资源": "land", "经济管理": "economy",
    "科技与信息产业": "tech", "党务政务": "party", "纪检监察": "discipline",
}
# Display order of the top levels (the project's order, commonest community requests first).
LEVEL1_ORDER = list(LEVEL1_CODES)


class TaxonomyError(ValueError):
    """The taxonomy or a training file is malformed."""


@dataclass(frozen=True)
class Category:
    name: str                      # "物业服务" (the last part of the path)
    code: str                      # "urban.10.03"
    path: str                      # "城乡建设/住房保障与房地产/物业服务"
    level1: str
    level2: Optional[str] = None
    level3: Optional[str] = None
    community: bool = False        # not in the standard: one of community.tsv's nodes
    children: Tuple["Category", ...] = field(default=(), compare=False, repr=False)

    @property
    def level(self) -> int:
        return 1 if self.level2 is None else 2 if self.level3 is None else 3

    @property
    def parent_path(self) -> Optional[str]:
        return None if self.level == 1 else self.path.rsplit(SEP, 1)[0]

    @property
    def level2_path(self) -> Optional[str]:
        return None if self.level2 is None else self.level1 + SEP + self.level2

    def to_dict(self) -> dict:
        return {"path": self.path, "code": self.code, "level": self.level, "level1": self.level1,
                "level2": self.level2, "level3": self.level3, "name": self.name,
                "community": self.community}


class Taxonomy:
    def __init__(self, top: List[Category]):
        self._top = list(top)
        self._by_key: Dict[str, Category] = {}
        for node in self.all():
            for key in (node.path, node.code):
                if key in self._by_key:
                    raise TaxonomyError(f"duplicate category key {key!r}")
                self._by_key[key] = node

    def get(self, key: str) -> Optional[Category]:
        """Category by path or code (any level)."""
        if not isinstance(key, str):
            return None
        return self._by_key.get(normalize_path(key))

    def __getitem__(self, key: str) -> Category:
        c = self.get(key)
        if c is None:
            raise KeyError(key)
        return c

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def is_valid(self, path: str, leaf_only: bool = False) -> bool:
        """True if `path` is a taxonomy path of any level (only levels 2 and 3 when leaf_only:
        what an order may carry)."""
        if not isinstance(path, str):
            return False
        p = normalize_path(path)
        c = self._by_key.get(p)
        return c is not None and c.path == p and (c.level >= 2 or not leaf_only)

    def top_levels(self) -> List[Category]:
        return list(self._top)

    def children(self, path: str) -> List[Category]:
        return list(self[path].children)

    def level2(self) -> List[Category]:
        return [c for t in self._top for c in t.children]

    def level3(self) -> List[Category]:
        return [g for c in self.level2() for g in c.children]

    leaves = level2  # an order's category is at least level 2

    def all(self) -> List[Category]:
        out = []
        for t in self._top:
            out.append(t)
            for c in t.children:
                out.append(c)
                out.extend(c.children)
        return out

    def labels(self, level: int = 2) -> List[str]:
        """Paths of one level, in taxonomy order."""
        nodes = {1: self._top, 2: self.level2(), 3: self.level3()}.get(level)
        if nodes is None:
            raise ValueError("level must be 1, 2 or 3")
        return [c.path for c in nodes]

    def to_dict(self) -> dict:
        def node(c):
            d = c.to_dict()
            if c.children:
                d["children"] = [node(ch) for ch in c.children]
            return d
        return {"categories": [node(t) for t in self._top]}


def normalize_path(path: str) -> str:
    """Tolerate spaces and full-width / back slashes around the separator."""
    p = path.strip().replace("／", SEP).replace("\\", SEP).replace(">", SEP)
    return SEP.join(part.strip() for part in p.split(SEP) if part.strip())


def _rows(f: Path) -> List[Tuple[str, str, str, bool]]:
    with open(f, encoding="utf-8", newline="") as fh:
        rd = csv.reader(fh, delimiter="\t")
        next(rd, None)
        return [(r[0].strip(), r[1].strip(), r[2].strip(), f.name == COMMUNITY_FILE) for r in rd if r and r[0]]


def load_taxonomy(data_dir: Path | str = DATA_DIR) -> Taxonomy:
    data_dir = Path(data_dir)
    rows = _rows(data_dir / TAXONOMY_FILE)
    if (data_dir / COMMUNITY_FILE).exists():
        rows += _rows(data_dir / COMMUNITY_FILE)
    tree: Dict[str, Dict[str, List[Tuple[str, bool]]]] = {}
    for l1, l2, l3, community in rows:
        if l1 not in LEVEL1_CODES:
            raise TaxonomyError(f"unknown top level {l1!r}")
        kids = tree.setdefault(l1, {}).setdefault(l2, [])
        if community and any(n == l3 for n, _ in kids):
            raise TaxonomyError(f"community node {l1}/{l2}/{l3} is already in the standard")
        kids.append((l3, community))
    top = []
    for l1 in LEVEL1_ORDER:
        code1 = LEVEL1_CODES[l1]
        level2 = []
        for i, (l2, grand) in enumerate(tree.get(l1, {}).items(), 1):
            code2 = f"{code1}.{i:02d}"
            level3 = tuple(Category(l3, f"{code2}.{j:02d}", SEP.join((l1, l2, l3)), l1, l2, l3, community)
                           for j, (l3, community) in enumerate(grand, 1))
            level2.append(Category(l2, code2, l1 + SEP + l2, l1, l2, None, False, level3))
        if not level2:
            raise TaxonomyError(f"{l1} has no second level")
        top.append(Category(l1, code1, l1, l1, None, None, False, tuple(level2)))
    return Taxonomy(top)


# Process-wide default taxonomy (read-only data; reloaded when the files change).
_lock = threading.Lock()
_cache: Dict[str, Tuple[str, Taxonomy]] = {}


def get_taxonomy(data_dir: Path | str = DATA_DIR) -> Taxonomy:
    data_dir = Path(data_dir)
    key = str(data_dir.resolve())
    stamp = ":".join(str((data_dir / n).stat().st_mtime_ns) for n in (TAXONOMY_FILE, COMMUNITY_FILE)
                     if (data_dir / n).exists())
    with _lock:
        hit = _cache.get(key)
        if hit and hit[0] == stamp:
            return hit[1]
        tax = load_taxonomy(data_dir)
        _cache[key] = (stamp, tax)
        return tax


def lookup(key: str) -> Optional[Category]:
    """Category by path or code, None if unknown."""
    return get_taxonomy().get(key)


def is_valid(path: str, leaf_only: bool = False) -> bool:
    """True if `path` is a taxonomy path (of level 2 or 3 when leaf_only)."""
    return get_taxonomy().is_valid(path, leaf_only=leaf_only)


def labels(level: int = 2) -> List[str]:
    return get_taxonomy().labels(level)


def top_levels() -> List[str]:
    return get_taxonomy().labels(1)
