"""The light category model: hashed TF-IDF features, three linear layers, numpy only at run time.

Features: character 1–CHAR_N-grams and jieba words of the normalised text (its first MAX_CHARS
characters: a long paste cannot slow a call past a bound), hashed (crc32) into 2^22 buckets; only
buckets seen in at least MIN_DF training texts are kept (a sorted index array); values are
sublinear term frequencies times the bucket's IDF, L2-normalised. Three multinomial logistic
regressions (scikit-learn, at build time only): level 1 (+ the ``_none`` reject class of chatter)
over every training text, real messages (top level only) and written ones, in two parts: a linear
SVM over all 15 top levels (``l1``) and one over the 7 top levels the real messages have (``l1r``,
real messages and the written texts of those 7, less regularised; its weights the mean of a plain
SVM's and an NBSVM's, ``_fit_nbsvm``); ``l1`` decides between the 7 and
the 8 others, ``l1r`` which of the 7 (``gate_real``); levels 2 and 3 over the
written texts, which carry those levels, on the buckets those texts have (``rows23`` maps a level-1
bucket to its row there, or -1), so the large layers do not grow with the real data's vocabulary.
Weights are stored as float16 numpy arrays in one ``.npz``; prediction is a sparse dot product.
Probabilities are temperature-scaled on a held-out split (every HOLDOUT_EVERY-th example by a
stable hash of its group: a real message's rows stay together), and the threshold for automatic
categories is chosen there too.
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
BUCKETS = 1 << 22
CHAR_N = 3                 # character n-grams 1..CHAR_N
MAX_CHARS = 2000           # the classifier reads this many characters of a text, no more
WORD_WEIGHT = 0.7
MIN_DF = 2                 # a bucket seen in fewer training texts is dropped (model size)
C_REG = 8.0                # inverse regularisation of the logistic regressions (levels 2 and 3)
C_REG1 = 0.3               # level 1: a linear SVM (bench/categories_compare.py chose it; lbfgs took minutes)
C_REAL = 1.0               # level 1's second part: a linear SVM over the top levels the real data has, less
                           # regularised (the real folds' best C alone; the 15-way layer needs 0.3 for the 8 others)
NB_BETA = 0.5             # level 1's second part: margins of the plain SVM and of an NBSVM mixed half and half
                           # (bench/categories_level1_variants.py: real title + body +0.5 on all five folds)
WRITTEN_WEIGHT = 2.0       # a written text counts this much in level 1 beside a real one: the 8 top levels
                           # the real data lacks would otherwise starve (written sets 85.9 → 71.0 %)
HOLDOUT_EVERY = 7          # calibration split
TARGET_PRECISION = 0.90    # the threshold: lowest confidence whose covered held-out requests reach this
                           # and that lets no held-out chatter through
WEAK_FACTOR = 0.5          # confidence factor for texts with fewer than two letters or digits ("行", "？？")
CONFIG = dict(buckets=BUCKETS, char_n=CHAR_N, max_chars=MAX_CHARS, word_weight=WORD_WEIGHT, min_df=MIN_DF,
              c=C_REG, c1=C_REG1, holdout=HOLDOUT_EVERY, target=TARGET_PRECISION, weak=WEAK_FACTOR, written_weight=WRITTEN_WEIGHT, c_real=C_REAL, nb_beta=NB_BETA, version=7)

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
    """bucket → value (sublinear tf, words weighted; not yet IDF-weighted nor normalised). Reads the
    first MAX_CHARS characters only: cost is bounded whatever is pasted."""
    t = normalize_text((text or "")[:MAX_CHARS])
    counts: Dict[int, float] = {}
    chars = "".join(ch for ch in t if not ch.isspace())
    for n in range(1, CHAR_N + 1):
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
    return out


def lookup(f: Dict[int, float], buckets: np.ndarray, idf: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Positions of the known buckets among `buckets` and their TF-IDF values, L2-normalised."""
    if not f:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    h = np.fromiter(f.keys(), dtype=np.int64, count=len(f))
    v = np.fromiter(f.values(), dtype=np.float32, count=len(f))
    pos = np.searchsorted(buckets, h)
    pos[pos >= len(buckets)] = 0
    hit = buckets[pos] == h
    pos, v = pos[hit], v[hit] * idf[pos[hit]]
    norm = float(np.sqrt((v * v).sum())) or 1.0
    return pos, v / norm


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


def gate_real(p1: np.ndarray, cols: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Level 1's two parts: the 15-way layer's probabilities (a row, or rows) decide whether the text is
    one of the real data's 7 top levels (``cols``) or one of the 8 others; among the 7 the second part's
    scores decide the order: its best gets the 15-way layer's largest probability of the 7, its second
    the second largest, and so on. So the top level is the second part's choice exactly when the 15-way
    layer's is one of the 7 (a gate), and the probabilities still sum to one. (Multiplying P(one of the
    7) by the second part's softmax instead lets the 7's summed mass outvote one of the 8 others: the
    written sets' 8 other top levels fell from 88 to 83 % on fold 0.)"""
    p1 = np.array(p1, copy=True)
    sub = p1[..., cols]
    values = -np.sort(-sub, axis=-1)
    order = np.argsort(-scores, axis=-1, kind="stable")
    out = np.empty_like(sub)
    np.put_along_axis(out, order, values, axis=-1)
    p1[..., cols] = out
    return p1


def weighted_sum(val: np.ndarray, W: np.ndarray) -> np.ndarray:
    """val @ W without BLAS: for a hundred rows the product is trivial, but OpenBLAS hands it to its
    own threads, which spin against the web worker's threads for the two cores (under load the
    classifier took 60 % of a worker's CPU that way, 0.2 ms once alone)."""
    return (W * val[:, None]).sum(axis=0)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


class Model:
    def __init__(self, buckets: np.ndarray, layers: Dict[str, Layer], meta: dict, dictionary: Optional[Path],
                 idf: Optional[np.ndarray] = None, rows23: Optional[np.ndarray] = None):
        self.buckets = buckets
        self.idf = np.ones(len(buckets), dtype=np.float32) if idf is None else idf
        # level-1 bucket position → row of the level-2/3 weights (-1: a bucket those levels never saw)
        self.rows23 = np.arange(len(buckets), dtype=np.int32) if rows23 is None else rows23
        self.layers = layers
        # level 1's second part: its classes' columns in level 1 (the 7 top levels of the real data)
        self.real_cols = (np.array([layers["l1"].classes.index(c) for c in layers["l1r"].classes], dtype=int)
                          if "l1r" in layers else None)
        self.meta = meta
        self.dictionary = dictionary
        self._tok = tokenizer(dictionary)
        # Weights stay float16 as stored: a call converts only the hundred rows it gathers (exactly
        # what converting them all at load gave), and each web worker holds half the bytes.
        for layer in layers.values():
            if not isinstance(layer.W, np.ndarray) or not layer.W.flags.c_contiguous:
                layer.W = np.ascontiguousarray(layer.W)

    @property
    def threshold(self) -> float:
        return float(self.meta["threshold"])

    def vector(self, text: str) -> Tuple[np.ndarray, np.ndarray]:
        """(level-1 rows, values) of the text's known buckets."""
        return lookup(features(text, self._tok), self.buckets, self.idf)

    def probabilities(self, text: str) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(level-2/3 rows, their values, P(level 1), P(level 2)); level 3 on demand via
        layers["l3"].proba with the rows and values returned."""
        idx, val = self.vector(text)
        l1, l2 = self.layers["l1"], self.layers["l2"]
        p1 = softmax((weighted_sum(val, l1.W[idx]) + l1.b) / l1.temperature)
        if self.real_cols is not None:
            lr = self.layers["l1r"]
            p1 = gate_real(p1, self.real_cols, weighted_sum(val, lr.W[idx]) + lr.b)
        r = self.rows23[idx]
        keep = r >= 0
        idx23, val23 = r[keep], val[keep]
        p2 = softmax((weighted_sum(val23, l2.W[idx23]) + l2.b) / l2.temperature)
        return idx23, val23, p1, p2

    def nbytes(self) -> int:
        """Bytes of the arrays a process holds for prediction."""
        return int(self.buckets.nbytes + self.idf.nbytes + self.rows23.nbytes +
                   sum(l.W.nbytes + l.b.nbytes for l in self.layers.values()))

    def save(self, path: Path) -> None:
        arrays = {"buckets": self.buckets, "idf": self.idf, "rows23": self.rows23}
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
            return cls(z["buckets"], layers, meta, dictionary, z["idf"], z["rows23"])


# --- training (build time) ----------------------------------------------------------------------
def held_out(key: str) -> bool:
    return int(hashlib.md5(key.encode()).hexdigest()[:8], 16) % HOLDOUT_EVERY == 0


def _matrix(vectors: Sequence[Dict[int, float]], buckets: np.ndarray, idf: np.ndarray):
    from scipy.sparse import csr_matrix
    indptr, cols, vals = [0], [], []
    for f in vectors:
        pos, v = lookup(f, buckets, idf)
        cols.append(pos)
        vals.append(v)
        indptr.append(indptr[-1] + len(pos))
    cols = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    vals = np.concatenate(vals) if vals else np.zeros(0, dtype=np.float32)
    return csr_matrix((vals, cols, np.array(indptr)), shape=(len(vectors), len(buckets)), dtype=np.float32)


def _fit(X, y, progress, name, C=C_REG, svm=False, weights=None) -> Layer:
    """Multinomial logistic regression, or a linear SVM (one against the rest; its margins become
    probabilities by the temperature-scaled softmax like the regression's)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC
    t0 = time.perf_counter()
    if svm:
        m = LinearSVC(C=C, class_weight="balanced", random_state=0).fit(X, y, sample_weight=weights)
    else:
        m = LogisticRegression(C=C, max_iter=300, class_weight="balanced").fit(X, y, sample_weight=weights)
    progress(f"  {name}: {len(m.classes_)} classes, {X.shape[0]} texts, {X.shape[1]} features, "
             f"{time.perf_counter() - t0:.1f}s")
    # C order: prediction gathers rows (features); a transposed view would make that a strided gather
    return Layer(list(m.classes_), np.ascontiguousarray(m.coef_.T, dtype=np.float16), m.intercept_.astype(np.float32))


def _fit_nbsvm(X, y, progress, name, C, beta=NB_BETA) -> Layer:
    """NBSVM (Wang & Manning 2012) interpolated with the plain SVM: for each class against the rest, the
    naive-Bayes log-count ratio r of every feature (over binarised features, add-one smoothed) scales
    the features an SVM is trained on; x·(r∘w) = (x∘r)·w, so the class's weights are r∘w, a linear
    layer of the same shape and cost as the plain one. The two layers' margins are mixed (1-beta, beta)."""
    from scipy.sparse import diags
    from sklearn.svm import LinearSVC
    t0 = time.perf_counter()
    plain = _fit(X, y, progress, name + ", plain part", C, svm=True)
    y = np.asarray(y)
    Xb = X.copy()
    Xb.data[:] = 1.0
    W = np.empty((X.shape[1], len(plain.classes)), dtype=np.float32)
    b = np.empty(len(plain.classes), dtype=np.float32)
    for j, c in enumerate(plain.classes):
        pos = y == c
        p = 1.0 + np.asarray(Xb[pos].sum(axis=0)).ravel()
        q = 1.0 + np.asarray(Xb[~pos].sum(axis=0)).ravel()
        r = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
        m = LinearSVC(C=C, class_weight="balanced", random_state=0).fit(X @ diags(r), pos.astype(int))
        W[:, j] = m.coef_.ravel() * r
        b[j] = m.intercept_[0]
    W = (1 - beta) * plain.W.astype(np.float32) + beta * W
    progress(f"  {name}: NBSVM part, {len(plain.classes)} classes, {time.perf_counter() - t0:.1f}s with the plain part")
    return Layer(plain.classes, np.ascontiguousarray(W, dtype=np.float16), ((1 - beta) * plain.b + beta * b).astype(np.float32))


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
    for T in np.exp(np.linspace(math.log(0.02), math.log(5.0), 90)):
        z = Z / T
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = -logp[np.arange(len(gold)), gold].mean()
        best = min(best, (nll, float(T)))
    return best[1]


def train(texts: Sequence[str], paths: Sequence[Optional[str]], dictionary: Optional[Path],
          progress=print, groups: Optional[Sequence[str]] = None) -> Tuple[Model, dict]:
    """paths: "L1/L2[/L3]", "L1" (a real message: top level only) or None for chatter (the reject
    class). groups: the key that decides the held-out split (default the text; a real message's
    rows share one). Returns the model and a held-out calibration report (reliability, threshold curve)."""
    tok = tokenizer(dictionary)
    t0 = time.perf_counter()
    progress(f"features for {len(texts)} texts …")
    vecs = [features(t, tok) for t in texts]
    y1 = [p.split("/")[0] if p else NONE for p in paths]
    y2 = ["/".join(p.split("/")[:2]) if p and "/" in p else None for p in paths]
    y3 = [p if p and p.count("/") == 2 else None for p in paths]
    df: Dict[int, int] = {}
    df23: Dict[int, int] = {}
    for f, l2 in zip(vecs, y2):
        for h in f:
            df[h] = df.get(h, 0) + 1
        if l2:
            for h in f:
                df23[h] = df23.get(h, 0) + 1
    buckets = np.array(sorted(h for h, n in df.items() if n >= MIN_DF), dtype=np.int64)
    n_docs = len(texts)
    idf = np.array([math.log((1 + n_docs) / (1 + df[h])) + 1.0 for h in buckets.tolist()], dtype=np.float32)
    in23 = np.array([df23.get(h, 0) >= MIN_DF for h in buckets.tolist()], dtype=bool)
    rows23 = np.full(len(buckets), -1, dtype=np.int32)
    rows23[in23] = np.arange(int(in23.sum()), dtype=np.int32)
    progress(f"  {len(buckets)} feature buckets kept (min df {MIN_DF}), {int(in23.sum())} for levels 2 and 3, "
             f"in {time.perf_counter() - t0:.1f}s")
    X = _matrix(vecs, buckets, idf)
    X23 = X[:, np.where(in23)[0]]
    keys = groups if groups is not None else texts
    hold = np.array([held_out(k) for k in keys])
    tr, ho = np.where(~hold)[0], np.where(hold)[0]
    layers = {}
    progress("training level 1 …")
    weights = np.array([1.0 if p and "/" not in p else WRITTEN_WEIGHT for p in paths])
    layers["l1"] = _fit(X[tr], [y1[i] for i in tr], progress, "level 1 (linear SVM)", C_REG1, svm=True,
                        weights=weights[tr])
    real_top = sorted({p for p in paths if p and "/" not in p})
    if real_top:
        progress(f"training level 1, second part ({len(real_top)} top levels of the real messages) …")
        sel = np.array([i for i in tr if y1[i] in real_top])
        layers["l1r"] = _fit_nbsvm(X[sel], [y1[i] for i in sel], progress, "level 1, real top levels (linear SVM)",
                                   C_REAL)
    for name, y in (("l2", y2), ("l3", y3)):
        progress(f"training level {name[1]} …")
        sel = np.array([i for i in tr if y[i]])
        layers[name] = _fit(X23[sel], [y[i] for i in sel], progress, f"level {name[1]}")
    for name, y, XX in (("l1", y1, X), ("l1r", y1, X), ("l2", y2, X23), ("l3", y3, X23)):
        if name not in layers:
            continue
        sel = np.array([i for i in ho if y[i]], dtype=int)
        layers[name].temperature = _temperature(layers[name], XX[sel], [y[i] for i in sel])
        progress(f"  temperature {name}: {layers[name].temperature:.2f}")
    model = Model(buckets, layers, {"config": CONFIG, "threshold": 0.5, "trained_on": int(len(tr)),
                                    "held_out": int(len(ho))}, dictionary, idf, rows23)
    # held-out predictions → reliability and the threshold
    L1 = layers["l1"]
    Z = np.asarray(X[ho] @ L1.W.astype(np.float32)) + L1.b
    Z = Z / L1.temperature
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    if model.real_cols is not None:
        P = gate_real(P, model.real_cols, np.asarray(X[ho] @ layers["l1r"].W.astype(np.float32)) + layers["l1r"].b)
    none = L1.classes.index(NONE)
    P[:, none] = -1  # never predicted as a category
    best = P.argmax(axis=1)
    conf = P[np.arange(len(ho)), best] * np.array([WEAK_FACTOR if weak(texts[i]) else 1.0 for i in ho])
    gold = [y1[i] for i in ho]
    right = np.array([L1.classes[b] == g for b, g in zip(best, gold)])
    is_request = np.array([g != NONE for g in gold])
    is_real = np.array([bool(paths[i]) and "/" not in paths[i] for i in ho])
    report = {"held_out": int(len(ho)), "held_out_real": int(is_real.sum()),
              "reliability": reliability(conf[is_request], right[is_request]),
              "reliability_real": reliability(conf[is_real], right[is_real])}
    curve, threshold = [], 0.9
    for th in np.round(np.arange(0.05, 0.96, 0.05), 2):
        cov = conf >= th
        req_cov = cov & is_request
        real_cov = cov & is_real
        acc = float(right[req_cov].mean()) if req_cov.any() else 1.0
        curve.append({"threshold": float(th), "coverage": round(float(req_cov.sum() / max(1, is_request.sum())), 3),
                      "accuracy_of_covered": round(acc, 3),
                      "real_coverage": round(float(real_cov.sum() / max(1, is_real.sum())), 3),
                      "real_accuracy_of_covered": round(float(right[real_cov].mean()), 3) if real_cov.any() else None,
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
