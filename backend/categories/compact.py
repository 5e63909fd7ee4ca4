"""The loaded category model in less memory, with the same numbers: jieba's word frequencies from a
memory-mapped trie, the largest weight array memory-mapped from the model file.

jieba keeps its dictionary as a Python dict of ~500,000 str → int (words and word prefixes): ~76 MB
in every web worker, three quarters of what classification added to one (BENCHMARKS.md, memory).
The same mapping, with the user dictionary applied exactly as ``jieba.Tokenizer.load_userdict``
applies it, is written once to a marisa trie in the cache (``jieba-freq-<hash>.marisa``, keyed by
jieba's version, its dictionary and ours) and read memory-mapped: a few MB of page cache shared
by every process. ``jieba.Tokenizer`` reads FREQ only through ``in``, ``[]`` and ``get``, so the
segmentation is the same word for word (tests/categories/test_category_compact.py checks it).

The ``.npz`` is written uncompressed (``np.savez``), so each array is a byte range of the file: the
level-3 weights (19 MB, read a hundred rows per call) are mapped in place instead of copied into
each process. Neither changes the model file, its fingerprint or its threshold.

Without marisa_trie installed everything falls back to jieba's own dict (more memory, same answers)."""
from __future__ import annotations

import hashlib
import logging
import os
import struct
import threading
import zipfile
from array import array
import math
from pathlib import Path
from typing import Optional

import numpy as np

from . import model as M
from .training import cache_dir

log = logging.getLogger(__name__)

_lock = threading.Lock()


class Frequencies:
    """jieba's FREQ read from the trie (word → count; a prefix only is absent here, where jieba
    holds it with 0: every reader tests the count, so 0 and absent answer alike)."""

    __slots__ = ("_ids", "_counts")

    def __init__(self, ids, counts):
        self._ids, self._counts = ids, counts

    def __contains__(self, word) -> bool:
        return word in self._ids

    def __getitem__(self, word) -> int:
        return self._counts[self._ids[word]]

    def get(self, word, default=None):
        i = self._ids.get(word)
        return default if i is None else self._counts[i]

    def __len__(self) -> int:
        return len(self._ids)


def _full_tokenizer(dictionary: Optional[Path]):
    import jieba
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    if dictionary and Path(dictionary).exists():
        tok.load_userdict(str(dictionary))
    return tok


def frequencies_path(dictionary: Optional[Path]) -> Path:
    """The trie file; its counts are beside it (same name, ``.counts``)."""
    import jieba
    h = hashlib.sha256(jieba.__version__.encode() + b"\0")
    h.update(Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME).read_bytes())
    if dictionary and Path(dictionary).exists():
        h.update(b"\0" + Path(dictionary).read_bytes())
    return cache_dir() / f"jieba-freq-{h.hexdigest()[:16]}.marisa"


def build_frequencies(dictionary: Optional[Path], path: Optional[Path] = None) -> Path:
    """Write jieba's words with a count (its dictionary plus ours) to the trie file and their counts,
    indexed by the trie's key ids and followed by jieba's total, beside it; returns the trie's path."""
    import marisa_trie
    path = path or frequencies_path(dictionary)
    tok = _full_tokenizer(dictionary)
    trie = marisa_trie.Trie([word for word, count in tok.FREQ.items() if count])
    counts = array("Q", bytes(8 * (len(trie) + 1)))
    for word, i in trie.iteritems():
        counts[i] = tok.FREQ[word]
    counts[len(trie)] = tok.total
    path.parent.mkdir(parents=True, exist_ok=True)
    counts_path = path.with_suffix(".counts")
    tmp_trie = path.parent / f"{path.name}.tmp{os.getpid()}"
    tmp_counts = path.parent / f"{counts_path.name}.tmp{os.getpid()}"
    with open(tmp_counts, "wb") as f:
        counts.tofile(f)
    trie.save(str(tmp_trie))
    # Counts first: a trie file present means its counts are complete beside it.
    tmp_counts.replace(counts_path)
    tmp_trie.replace(path)
    return path


def _compact_tokenizer_class():
    import jieba

    class CompactTokenizer(jieba.Tokenizer):
        """jieba.Tokenizer with get_DAG and calc reading the trie: the same words, the same route
        (jieba 0.42.1's code, with its two dict look-ups per fragment done by the trie in one)."""

        def get_DAG(self, sentence):
            # jieba walks sentence[k:i+1] while it is in FREQ and keeps those with a count; FREQ holds
            # every prefix of every word, so that is exactly the words among sentence[k:]'s prefixes.
            prefixes = self._ids.prefixes
            DAG = {}
            for k in range(len(sentence)):
                DAG[k] = [k + len(word) - 1 for word in prefixes(sentence[k:])] or [k]
            return DAG

        def calc(self, sentence, DAG, route):
            N = len(sentence)
            route[N] = (0, 0)
            ln, ids, counts = math.log, self._ids.get, self._counts
            logtotal = ln(self.total)
            for idx in range(N - 1, -1, -1):
                route[idx] = max((ln(counts[i] if (i := ids(sentence[idx:x + 1])) is not None else 1) -
                                  logtotal + route[x + 1][0], x) for x in DAG[idx])

    return CompactTokenizer


def tokenizer(dictionary: Optional[Path]):
    """A jieba Tokenizer over the memory-mapped trie (built on first use if missing)."""
    try:
        import marisa_trie
    except ImportError:
        return _full_tokenizer(dictionary)
    import jieba
    path = frequencies_path(dictionary)
    if not path.exists():
        log.warning("jieba frequencies %s are not built (scripts/category-train.sh); building them now", path.name)
        build_frequencies(dictionary, path)
    ids = marisa_trie.Trie().mmap(str(path))
    counts = array("Q")
    counts.frombytes(path.with_suffix(".counts").read_bytes())
    jieba.setLogLevel(logging.WARNING)
    tok = _compact_tokenizer_class()()
    tok._ids, tok._counts = ids, counts
    tok.FREQ = Frequencies(ids, counts)
    tok.total = counts[len(ids)]
    tok.initialized = True  # FREQ and total are what initialize() would have loaded
    return tok


def use_compact_tokenizer(dictionary: Optional[Path]) -> None:
    """Register the trie-backed tokenizer where ``model.tokenizer`` looks first (once per process)."""
    key = str(dictionary)
    with M._tok_lock:
        if key in M._tokenizers:
            return
    tok = tokenizer(dictionary)
    with M._tok_lock:
        M._tokenizers.setdefault(key, tok)


def _mapped(path: Path, member: zipfile.ZipInfo) -> np.ndarray:
    """A stored (uncompressed) .npy member of a zip, memory-mapped read-only."""
    with open(path, "rb") as f:
        f.seek(member.header_offset)
        header = f.read(30)
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        f.seek(member.header_offset + 30 + name_len + extra_len)
        version = np.lib.format.read_magic(f)
        shape, fortran, dtype = np.lib.format._read_array_header(f, version)
        offset = f.tell()
    mapped = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")
    # A plain ndarray over the mapping: slices of an np.memmap are memmaps, each with its bookkeeping.
    return mapped.view(np.ndarray)


def load_model(path: Path, dictionary: Optional[Path], mapped: tuple = ("l3_W",)) -> M.Model:
    """``Model.load`` with the arrays named in `mapped` memory-mapped from the file when it stores
    them uncompressed (read as usual otherwise) and the trie-backed tokenizer."""
    with _lock:
        use_compact_tokenizer(dictionary)
    import json
    with zipfile.ZipFile(path) as zf:
        members = {info.filename[:-4]: info for info in zf.infolist() if info.filename.endswith(".npy")}
    with np.load(path, allow_pickle=False) as z:
        def array(name):
            info = members.get(name)
            if name in mapped and info is not None and info.compress_type == zipfile.ZIP_STORED:
                return _mapped(path, info)
            return z[name]
        meta = json.loads(bytes(z["meta"]).decode())
        layers = {name: M.Layer(m["classes"], array(f"{name}_W"), z[f"{name}_b"], float(m["temperature"]))
                  for name, m in meta["layers"].items()}
        return M.Model(z["buckets"], layers, meta, dictionary, z["idf"], z["rows23"])



def main() -> int:
    """Build the trie unless it is cached (scripts/category-train.sh, after the model)."""
    from .taxonomy import DATA_DIR
    from .training import DICTIONARY_FILE
    try:
        import marisa_trie  # noqa: F401
    except ImportError:
        print("marisa_trie is not installed: workers load jieba's dictionary in full")
        return 0
    path = frequencies_path(DATA_DIR / DICTIONARY_FILE)
    print(f"jieba frequencies up to date ({path.name})" if path.exists() else
          f"saved {build_frequencies(DATA_DIR / DICTIONARY_FILE, path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
