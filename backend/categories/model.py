"""The light category model: hashed features, three linear layers, numpy only at run time.

Features: character 1–3-grams and jieba words of the normalised text, hashed (crc32) into 2^20
buckets; only buckets seen in training are kept (a sorted index array), values are sublinear term
frequencies, L2-normalised. Three multinomial logistic regressions (scikit-learn, at build time
only) over the same features: level 1 (+ the ``_none`` reject class of chatter), level 2, level 3.
Weights are stored as float16 numpy arrays in one ``.npz``; prediction is a sparse dot product.
Probabilities are temperature-scaled on a held-out split (every HOLDOUT_EVERY-th example by a
stable hash), and the threshold for automatic categories is chosen there too.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import threading
import time
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

log = logging.getLogger(__name__)

NONE = "_none"
BUCKETS = 1 << 20
WORD_WEIGHT = 0.7
MIN_DF = 2                 # a bucket seen in fewer training texts is dropped (model size)
C_REG = 8.0                # inverse regularisation of the logistic regressions
HOLDOUT_EVERY = 7          # calibration split
TARGET_PRECISION = 0.90    # the threshold: lowest confidence whose covered held-out requests reach this
                           # and that lets no held-out chatter through
WEAK_FACTOR = 0.5          # confidence factor for texts with fewer than two letters or digits ("行", "？？")
CONFIG = dict(buckets=BUCKETS, word_weight=WORD_WEIGHT, min_df=MIN_DF, c=C_REG, holdout=HOLDOUT_EVERY,
              target=TARGET_PRECISION, weak=WEAK_FACTOR, version=4)

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    t = unicodedata.normalize("NFKC", text or "").lower()
    t = _DIGITS.sub("0", t)
    return _SPACE.sub(" ", t).strip()


def weak(text: str) -> bool:
    """Too little text to be sure of anything: one character hits a feature by chance."""
    return sum(ch.isalnum() for ch in normalize_text(text)) < 2


def _is_punct(w: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PZS" for ch in w)


_tok_lock = threading.Lock()
_tokenizers: Dict[str, object] = {}


def tokenizer(dictionary: Optional[Path]):
    key = str(dictionary)
    with _tok_lock:
        tok = _tokenizers.get(key)
        if tok is None:
            import jieba
            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            if dictionary and Path(dictionary).exists():
                tok.load_userdict(str(dictionary))
            _tokenizers[key] = tok
        return tok


def features(text: str, tok) -> Dict[int, float]:
    """bucket → value (sublinear tf, words weighted, L2-normalised)."""
    t = normalize_text(text)
    counts: Dict[int, float] = {}
    chars = "".join(ch for ch in t if not ch.isspace())
    for n in (1, 2, 3):
        for i in range(len(chars) - n + 1):
            h = zlib.crc32(chars[i:i + n].encode()) & (BUCKETS - 1)
            counts[h] = counts.get(h, 0.0) + 1.0
    words = {}
    for w in tok.lcut(t, HMM=False):
        if w.strip() and not _is_punct(w):
            h = zlib.crc32(b"w:" + w.encode()) & (BUCKETS - 1)
            words[h] = words.get(h, 0.0) + 1.0
    out = {h: 1.0 + math.log(c) for h, c in counts.items()}
    for h, c in words.items():
        out[h] = out.get(h, 0.0) + WORD_WEIGHT * (1.0 + math.log(c))
    norm = math.sqrt(sum(v * v for v in out.values())) or 1.0
    return {h: v / norm for h, v in out.items()}


# --- the loaded model ---------------------------------------------------------------------------
@dataclass
class Layer:
    classes: List[str]
    W: np.ndarray          # (n_features, n_classes) float16
    b: np.ndarray          # (n_classes,) float32
    temperature: float = 1.0

    def proba(self, idx: np.ndarray, val: np.ndarray, cols: Optional[np.ndarray] = None) -> np.ndarray:
        """Softmax over all classes, or over `cols` only (then relative to each other)."""
        W = self.W[idx] if cols is None else self.W[np.ix_(idx, cols)]
        b = self.b if cols is None else self.b[cols]
        return softmax((weighted_sum(val, W) + b) / self.temperature)


def weighted_sum(val: np.ndarray, W: np.ndarray) -> np.ndarray:
    """val @ W without BLAS: for a hundred rows the product is trivial, but OpenBLAS hands it to its
    own threads, which spin against the web worker's threads for the two cores (under load the
    classifier took 60 % of a worker's CPU that way, 0.2 ms once alone)."""
    return (W * val[:, None]).sum(axis=0)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


class Model:
    def __init__(self, buckets: np.ndarray, layers: Dict[str, Layer], meta: dict, dictionary: Optional[Path]):
        self.buckets = buckets
        self.layers = layers
        self.meta = meta
        self.dictionary = dictionary
        self._tok = tokenizer(dictionary)
        # Weights stay float16 as stored: a call converts only the hundred rows it gathers (exactly
        # what converting them all at load gave), and each web worker holds half the bytes.
        # Levels 1 and 2 share one gather.
        for layer in layers.values():
            layer.W = np.ascontiguousarray(layer.W)
        self._n1 = len(layers["l1"].classes)
        self._W12 = np.ascontiguousarray(np.hstack([layers["l1"].W, layers["l2"].W]))
        self._b12 = np.concatenate([layers["l1"].b, layers["l2"].b])
        layers["l1"].W, layers["l2"].W = self._W12[:, :self._n1], self._W12[:, self._n1:]  # views, no copies

    @property
    def threshold(self) -> float:
        return float(self.meta["threshold"])

    def vector(self, text: str) -> Tuple[np.ndarray, np.ndarray]:
        f = features(text, self._tok)
        if not f:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        h = np.fromiter(f.keys(), dtype=np.int64, count=len(f))
        v = np.fromiter(f.values(), dtype=np.float32, count=len(f))
        pos = np.searchsorted(self.buckets, h)
        pos[pos >= len(self.buckets)] = 0
        hit = self.buckets[pos] == h
        return pos[hit], v[hit]

    def probabilities(self, text: str) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(feature rows, values, P(level 1), P(level 2)); level 3 on demand via layers["l3"].proba."""
        idx, val = self.vector(text)
        z = weighted_sum(val, self._W12[idx]) + self._b12
        l1, l2 = self.layers["l1"], self.layers["l2"]
        return idx, val, softmax(z[:self._n1] / l1.temperature), softmax(z[self._n1:] / l2.temperature)

    def nbytes(self) -> int:
        """Bytes of the arrays a process holds for prediction."""
        return int(self.buckets.nbytes + self._W12.nbytes + self._b12.nbytes + self.layers["l3"].W.nbytes)

    def save(self, path: Path) -> None:
        arrays = {"buckets": self.buckets}
        meta = dict(self.meta, layers={})
        for name, l in self.layers.items():
            arrays[f"{name}_W"], arrays[f"{name}_b"] = l.W.astype(np.float16), l.b
            meta["layers"][name] = {"classes": l.classes, "temperature": l.temperature}
        arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8)
        tmp = path.with_suffix(".tmp.npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(tmp, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, dictionary: Optional[Path]) -> "Model":
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            layers = {name: Layer(m["classes"], z[f"{name}_W"], z[f"{name}_b"], float(m["temperature"]))
                      for name, m in meta["layers"].items()}
            return cls(z["buckets"], layers, meta, dictionary)


# --- training (build time) ----------------------------------------------------------------------
def held_out(text: str) -> bool:
    return int(hashlib.md5(text.encode()).hexdigest()[:8], 16) % HOLDOUT_EVERY == 0


def _matrix(vectors: Sequence[Dict[int, float]], buckets: np.ndarray):
    from scipy.sparse import csr_matrix
    rows, cols, vals = [], [], []
    for i, f in enumerate(vectors):
        h = np.fromiter(f.keys(), dtype=np.int64, count=len(f))
        v = np.fromiter(f.values(), dtype=np.float32, count=len(f))
        pos = np.searchsorted(buckets, h)
        pos[pos >= len(buckets)] = 0
        hit = buckets[pos] == h
        rows.extend([i] * int(hit.sum()))
        cols.extend(pos[hit].tolist())
        vals.extend(v[hit].tolist())
    return csr_matrix((vals, (rows, cols)), shape=(len(vectors), len(buckets)), dtype=np.float32)


def _fit(X, y, progress, name) -> Layer:
    from sklearn.linear_model import LogisticRegression
    t0 = time.perf_counter()
    m = LogisticRegression(C=C_REG, max_iter=300, class_weight="balanced").fit(X, y)
    progress(f"  {name}: {len(m.classes_)} classes, {X.shape[0]} texts, {time.perf_counter() - t0:.1f}s")
    # C order: prediction gathers rows (features); a transposed view would make that a strided gather
    return Layer(list(m.classes_), np.ascontiguousarray(m.coef_.T, dtype=np.float16), m.intercept_.astype(np.float32))


def _temperature(layer: Layer, X, y) -> float:
    """The temperature minimising held-out negative log-likelihood (grid search)."""
    if X.shape[0] == 0:
        return 1.0
    Z = np.asarray(X @ layer.W.astype(np.float32)) + layer.b
    col = {c: i for i, c in enumerate(layer.classes)}
    keep = np.array([t in col for t in y])
    if not keep.any():
        return 1.0
    Z, gold = Z[keep], np.array([col[t] for t, k in zip(y, keep) if k])
    best = (float("inf"), 1.0)
    for T in np.exp(np.linspace(math.log(0.2), math.log(5.0), 60)):
        z = Z / T
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = -logp[np.arange(len(gold)), gold].mean()
        best = min(best, (nll, float(T)))
    return best[1]


def train(texts: Sequence[str], paths: Sequence[Optional[str]], dictionary: Optional[Path],
          progress=print) -> Tuple[Model, dict]:
    """paths: "L1/L2[/L3]" or None for chatter (the reject class). Returns the model and a
    held-out calibration report (reliability, threshold curve)."""
    tok = tokenizer(dictionary)
    t0 = time.perf_counter()
    progress(f"features for {len(texts)} texts …")
    vecs = []
    for i, t in enumerate(texts):
        vecs.append(features(t, tok))
        if (i + 1) % 5000 == 0:
            progress(f"  {i + 1}/{len(texts)}")
    df: Dict[int, int] = {}
    for f in vecs:
        for h in f:
            df[h] = df.get(h, 0) + 1
    buckets = np.array(sorted(h for h, n in df.items() if n >= MIN_DF), dtype=np.int64)
    progress(f"  {len(buckets)} feature buckets kept (min df {MIN_DF}) in {time.perf_counter() - t0:.1f}s")
    X = _matrix(vecs, buckets)
    hold = np.array([held_out(t) for t in texts])
    tr, ho = np.where(~hold)[0], np.where(hold)[0]
    y1 = [p.split("/")[0] if p else NONE for p in paths]
    y2 = ["/".join(p.split("/")[:2]) if p else None for p in paths]
    y3 = [p if p and p.count("/") == 2 else None for p in paths]
    layers = {}
    progress("training level 1 …")
    layers["l1"] = _fit(X[tr], [y1[i] for i in tr], progress, "level 1")
    for name, y in (("l2", y2), ("l3", y3)):
        progress(f"training level {name[1]} …")
        sel = np.array([i for i in tr if y[i]])
        layers[name] = _fit(X[sel], [y[i] for i in sel], progress, f"level {name[1]}")
    for name, y in (("l1", y1), ("l2", y2), ("l3", y3)):
        sel = np.array([i for i in ho if y[i]])
        layers[name].temperature = _temperature(layers[name], X[sel], [y[i] for i in sel])
        progress(f"  temperature {name}: {layers[name].temperature:.2f}")
    model = Model(buckets, layers, {"config": CONFIG, "threshold": 0.5, "trained_on": int(len(tr)),
                                    "held_out": int(len(ho))}, dictionary)
    # held-out predictions → reliability and the threshold
    L1 = layers["l1"]
    Z = np.asarray(X[ho] @ L1.W.astype(np.float32)) + L1.b
    Z = Z / L1.temperature
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    none = L1.classes.index(NONE)
    P[:, none] = -1  # never predicted as a category
    best = P.argmax(axis=1)
    conf = P[np.arange(len(ho)), best] * np.array([WEAK_FACTOR if weak(texts[i]) else 1.0 for i in ho])
    gold = [y1[i] for i in ho]
    right = np.array([L1.classes[b] == g for b, g in zip(best, gold)])
    is_request = np.array([g != NONE for g in gold])
    report = {"held_out": int(len(ho)), "reliability": reliability(conf[is_request], right[is_request])}
    curve, threshold = [], 0.9
    for th in np.round(np.arange(0.05, 0.96, 0.05), 2):
        cov = conf >= th
        req_cov = cov & is_request
        acc = float(right[req_cov].mean()) if req_cov.any() else 1.0
        curve.append({"threshold": float(th), "coverage": round(float(req_cov.sum() / max(1, is_request.sum())), 3),
                      "accuracy_of_covered": round(acc, 3),
                      "chatter_passing": int((cov & ~is_request).sum())})
    for c in curve:
        if c["accuracy_of_covered"] >= TARGET_PRECISION and c["chatter_passing"] == 0:
            threshold = c["threshold"]
            break
    model.meta["threshold"] = float(threshold)
    report["threshold_curve"] = curve
    report["threshold"] = float(threshold)
    progress(f"threshold {threshold:.2f} (held-out accuracy of covered ≥ {TARGET_PRECISION}); "
             f"model {model.nbytes() / 1e6:.1f} MB; total {time.perf_counter() - t0:.1f}s")
    return model, report


def reliability(conf: np.ndarray, right: np.ndarray, bins=(0, .3, .4, .5, .6, .7, .8, .9, 1.0001)) -> List[dict]:
    """Per confidence bin: count, mean confidence, accuracy (does 0.8 mean 80 % right?)."""
    out = []
    for lo, hi in zip(bins, bins[1:]):
        m = (conf >= lo) & (conf < hi)
        if m.any():
            out.append({"bin": f"{lo:.1f}–{min(hi, 1):.1f}", "n": int(m.sum()),
                        "mean_confidence": round(float(conf[m].mean()), 3),
                        "accuracy": round(float(right[m].mean()), 3)})
    return out
