"""The order category taxonomy, loaded from ``intents/categories/taxonomy.yml``.

A category is addressed by its Chinese path ("城乡建设" or "城乡建设/物业管理") or by its stable ASCII
code ("urban" or "urban.property"). Orders store the path; codes are for URLs, metrics and config keys.

Training examples (``intents/categories/<level1 code>.yml``) are loaded and split here too, so the
classifier and the evaluation use the same deterministic train / held-out split.
"""
from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import yaml

SEP = "/"
DATA_DIR = Path(
    os.environ.get("CATEGORY_DATA_DIR")
    or Path(__file__).resolve().parents[2] / "intents" / "categories"
)
TAXONOMY_FILE = "taxonomy.yml"
DICTIONARY_FILE = "dictionary.txt"
# Every HOLDOUT_EVERY-th example of each top-level file (1-based: 5th, 10th, …) is held out.
HOLDOUT_EVERY = 5
# Example sections of a category file, in numbering order (see load_examples).
SECTIONS = ("examples", "more_examples")


class TaxonomyError(ValueError):
    """The taxonomy or a training file is malformed."""


@dataclass(frozen=True)
class Category:
    name: str                      # "物业管理" (or "城乡建设" for a top level)
    code: str                      # "urban.property" (or "urban")
    path: str                      # "城乡建设/物业管理" (or "城乡建设")
    level1: str                    # "城乡建设"
    level2: Optional[str]          # "物业管理", None for a top level
    description: str = ""
    children: Tuple["Category", ...] = field(default=(), compare=False, repr=False)
    keywords: Tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def level(self) -> int:
        return 1 if self.level2 is None else 2

    @property
    def parent_path(self) -> Optional[str]:
        return None if self.level2 is None else self.level1

    def to_dict(self) -> dict:
        return {"path": self.path, "code": self.code, "level1": self.level1,
                "level2": self.level2, "name": self.name, "description": self.description}


@dataclass(frozen=True)
class Example:
    text: str
    level1: str
    level2: str
    source: str          # file name
    index: int           # 0-based position within its file (``examples`` first, then ``more_examples``)
    batch: int = 0       # 0: the file's ``examples`` section, 1: its ``more_examples`` section

    @property
    def path(self) -> str:
        return self.level1 + SEP + self.level2

    @property
    def held_out(self) -> bool:
        return self.index >= 0 and (self.index + 1) % HOLDOUT_EVERY == 0


class Taxonomy:
    def __init__(self, top: List[Category], version: int = 1):
        self.version = version
        self._top = list(top)
        self._by_key: Dict[str, Category] = {}
        for c in self._top:
            for node in (c, *c.children):
                for key in (node.path, node.code):
                    if key in self._by_key:
                        raise TaxonomyError(f"duplicate category key {key!r}")
                    self._by_key[key] = node

    # lookup -----------------------------------------------------------------------------------
    def get(self, key: str) -> Optional[Category]:
        """Category by path ("城乡建设/物业管理", "城乡建设") or code ("urban.property", "urban")."""
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
        """True if `path` is a taxonomy path ("L1" or "L1/L2"; only "L1/L2" when leaf_only)."""
        if not isinstance(path, str):
            return False
        c = self._by_key.get(normalize_path(path))
        return c is not None and c.path == normalize_path(path) and (c.level == 2 or not leaf_only)

    # listing ----------------------------------------------------------------------------------
    def top_levels(self) -> List[Category]:
        return list(self._top)

    def children(self, level1: str) -> List[Category]:
        return list(self[level1].children)

    def leaves(self) -> List[Category]:
        return [ch for c in self._top for ch in c.children]

    def all(self) -> List[Category]:
        return [n for c in self._top for n in (c, *c.children)]

    def labels(self, level: int = 2) -> List[str]:
        """Paths in taxonomy order: level 1 → ["城乡建设", …]; level 2 → ["城乡建设/物业管理", …]."""
        if level == 1:
            return [c.path for c in self._top]
        if level == 2:
            return [c.path for c in self.leaves()]
        raise ValueError("level must be 1 or 2")

    def to_dict(self) -> dict:
        return {"version": self.version,
                "categories": [dict(c.to_dict(), children=[ch.to_dict() for ch in c.children])
                               for c in self._top]}


def normalize_path(path: str) -> str:
    """Tolerate spaces and full-width / back slashes around the separator."""
    p = path.strip().replace("／", SEP).replace("\\", SEP).replace(">", SEP)
    return SEP.join(part.strip() for part in p.split(SEP) if part.strip())


def load_taxonomy(data_dir: Path | str = DATA_DIR) -> Taxonomy:
    raw = yaml.safe_load((Path(data_dir) / TAXONOMY_FILE).read_text(encoding="utf-8"))
    top = []
    for c in raw.get("categories") or []:
        name, code = str(c["name"]), str(c["code"])
        kids = []
        for ch in c.get("children") or []:
            cname, ccode = str(ch["name"]), str(ch["code"])
            if not ccode.startswith(code + "."):
                raise TaxonomyError(f"code {ccode!r} must start with {code + '.'!r}")
            kids.append(Category(cname, ccode, name + SEP + cname, name, cname,
                                 str(ch.get("description", "")),
                                 keywords=tuple(str(k) for k in ch.get("keywords") or ())))
        if not kids:
            raise TaxonomyError(f"{name} has no second level")
        top.append(Category(name, code, name, name, None, str(c.get("description", "")), tuple(kids)))
    return Taxonomy(top, int(raw.get("version", 1)))


CHATTER_FILE = "_chatter.yml"


def _example_files(data_dir: Path) -> List[Path]:
    """Category files: every *.yml but taxonomy.yml and files starting with "_"."""
    return sorted(p for p in Path(data_dir).glob("*.yml")
                  if p.name != TAXONOMY_FILE and not p.name.startswith("_"))


def load_chatter(data_dir: Path | str = DATA_DIR) -> List[str]:
    """Text that is not a request (greetings, thanks, test input): the classifier's reject class."""
    f = Path(data_dir) / CHATTER_FILE
    if not f.exists():
        return []
    raw = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
    return [str(t).strip() for t in raw.get("examples") or [] if str(t).strip()]


def load_examples(data_dir: Path | str = DATA_DIR, taxonomy: Optional[Taxonomy] = None) -> List[Example]:
    """All training examples, in file order. Raises TaxonomyError on labels not in the taxonomy."""
    data_dir = Path(data_dir)
    tax = taxonomy or load_taxonomy(data_dir)
    out: List[Example] = []
    seen: Dict[str, str] = {}
    for f in _example_files(data_dir):
        raw = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        level1 = str(raw.get("level1", ""))
        top = tax.get(level1)
        if top is None or top.level != 1:
            raise TaxonomyError(f"{f.name}: unknown level1 {level1!r}")
        if raw.get("code") and raw["code"] != top.code:
            raise TaxonomyError(f"{f.name}: code {raw['code']!r} != {top.code!r}")
        # ``more_examples`` (same layout) is numbered after ``examples``, so adding data there never
        # moves an existing example between the train and held-out splits.
        i = 0
        for batch, section in enumerate(SECTIONS):
            for level2, texts in (raw.get(section) or {}).items():
                if not tax.is_valid(level1 + SEP + str(level2), leaf_only=True):
                    raise TaxonomyError(f"{f.name}: unknown second level {level1}/{level2}")
                for t in texts or []:
                    t = str(t).strip()
                    if not t:
                        continue
                    if t in seen:
                        raise TaxonomyError(f"{f.name}: duplicate example {t!r} (also in {seen[t]})")
                    seen[t] = f.name
                    out.append(Example(t, level1, str(level2), f.name, i, batch))
                    i += 1
    return out


def keyword_examples(taxonomy: Taxonomy) -> List[Example]:
    """Extra training text from the taxonomy: each second level's keywords and description."""
    out = []
    for leaf in taxonomy.leaves():
        texts = [*leaf.keywords, leaf.name] + ([leaf.description] if leaf.description else [])
        out.extend(Example(t, leaf.level1, leaf.level2, TAXONOMY_FILE, -1 - i)
                   for i, t in enumerate(texts))
    return out


def split_examples(examples: Iterable[Example]) -> Tuple[List[Example], List[Example]]:
    """Deterministic split: (train, held_out). Every 5th example of each file is held out."""
    train, held = [], []
    for e in examples:
        (held if e.held_out else train).append(e)
    return train, held


def data_fingerprint(data_dir: Path | str = DATA_DIR) -> str:
    """sha256 over the names and bytes of every data file (taxonomy, dictionary, examples)."""
    data_dir = Path(data_dir)
    h = hashlib.sha256()
    files = [data_dir / TAXONOMY_FILE, *_example_files(data_dir)]
    files += [data_dir / n for n in (CHATTER_FILE, DICTIONARY_FILE) if (data_dir / n).exists()]
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


# Process-wide default taxonomy (read-only data; reloaded when the files change).
_lock = threading.Lock()
_cache: Dict[str, Tuple[str, Taxonomy]] = {}


def get_taxonomy(data_dir: Path | str = DATA_DIR) -> Taxonomy:
    key = str(Path(data_dir).resolve())
    stamp = str((Path(data_dir) / TAXONOMY_FILE).stat().st_mtime_ns)
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
    """True if `path` is "一级" or "一级/二级" in the taxonomy (only the latter when leaf_only)."""
    return get_taxonomy().is_valid(path, leaf_only=leaf_only)


def labels(level: int = 2) -> List[str]:
    """All paths of the given level, in taxonomy order."""
    return get_taxonomy().labels(level)


def top_levels() -> List[str]:
    return get_taxonomy().labels(1)
