"""Choosing the category model on evidence (issue 25): top-level accuracy and macro-F1 of candidate
models, k-fold by message on the real set (``backend/categories/real.py``: no body of a test message
in training) plus the frozen written sets, single-call time and model memory.

    .venv/bin/python bench/categories_compare.py [--folds 0,1,2,3,4] [--models a,b] [--out bot/reports]

Every candidate is trained, for each fold, on the real messages of the other folds and all the
written training data (phrases, written chat, chatter), and scored on the fold's real messages and
the frozen written sets; the written sets' figures are averaged over the folds. Only the top level
is compared (levels 2 and 3 come from the written data alike for all). Candidates:

- ``today``: today's shipped model, hashed character 1–3-grams + words, logistic regression, written data only;
- ``today_real``: the same model with the real messages (its lbfgs fit takes minutes: fold 0 only unless asked);
- ``tfidf_svm`` / ``tfidf_lr``: scikit-learn TF-IDF of character 1–4-grams + jieba word 1–2-grams,
  linear SVM / logistic regression (the issue's reference; LR slow: fold 0 only unless asked);
- ``fasttext``: fastText supervised (PyPI ``fasttext-wheel``), jieba words, word bigrams, character
  1–3-gram subwords, trained here (skipped when the package is absent);
- ``hashed_svm``: the shipped candidate, today's hashed features with IDF and a linear SVM, written
  texts weighted (``model.WRITTEN_WEIGHT``), real titles also as texts of their own;
- ``blend``: the mean of ``hashed_svm``'s and ``fasttext``'s probabilities;
- ``two_part``: ``hashed_svm`` and, on the same features, a second linear SVM over the 7 top levels of
  the real messages (real messages and the written texts of those 7, ``model.C_REAL``): the first decides
  between the 7 and the 8 others, the second which of the 7 (``model.gate_real``; shipped since the second pass).

Writes ``category_compare.json`` (read by ``backend.categories.evaluate`` into the report).
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.categories import evaluate, model as M, real, training  # noqa: E402
from backend.categories.taxonomy import DATA_DIR  # noqa: E402

SLOW = {"today_real", "tfidf_lr"}
ALL = ["today", "today_real", "tfidf_svm", "tfidf_lr", "fasttext", "hashed_svm", "blend", "two_part", "two_part_nb"]
TIMING_TEXTS = 300


def softmax(D):
    D = D - D.max(axis=1, keepdims=True)
    e = np.exp(D)
    return e / e.sum(axis=1, keepdims=True)


class Hashed:
    """Today's features (optionally IDF-weighted), LR or linear SVM over the level-1 labels."""

    def __init__(self, tok, idf: bool, kind: str, C: float):
        self.tok, self.use_idf, self.kind, self.C = tok, idf, kind, C

    def fit(self, texts, y, weights):
        vecs = self.train_vecs = [M.features(t, self.tok) for t in texts]
        df = Counter(h for f in vecs for h in f)
        self.buckets = np.array(sorted(h for h, n in df.items() if n >= M.MIN_DF), dtype=np.int64)
        n = len(texts)
        self.idf = (np.array([np.log((1 + n) / (1 + df[h])) + 1 for h in self.buckets.tolist()], dtype=np.float32)
                    if self.use_idf else np.ones(len(self.buckets), dtype=np.float32))
        X = M._matrix(vecs, self.buckets, self.idf)
        if self.kind == "lr":
            from sklearn.linear_model import LogisticRegression
            m = LogisticRegression(C=self.C, max_iter=300, class_weight="balanced").fit(X, y, sample_weight=weights)
        else:
            from sklearn.svm import LinearSVC
            m = LinearSVC(C=self.C, class_weight="balanced", random_state=0).fit(X, y, sample_weight=weights)
        self.classes = list(m.classes_)
        self.W = np.ascontiguousarray(m.coef_.T.astype(np.float16))
        self.b = m.intercept_.astype(np.float32)
        self.scale = 1.0 if self.kind == "lr" else 3.0
        return self

    def proba(self, texts):
        X = M._matrix([M.features(t, self.tok) for t in texts], self.buckets, self.idf)
        return softmax(np.asarray(X @ self.W.astype(np.float32)) * self.scale + self.b * self.scale)

    def one(self, text):
        idx, val = M.lookup(M.features(text, self.tok), self.buckets, self.idf)
        return M.softmax(M.weighted_sum(val, self.W[idx]) + self.b)

    def nbytes(self):
        return self.buckets.nbytes + self.idf.nbytes + self.W.nbytes + self.b.nbytes


class TwoPart:
    """hashed_svm's features and 15-way layer, and a 7-way layer over the real data's top levels."""

    def __init__(self, base: Hashed, nb_beta: float = 0.0):
        self.base, self.classes, self.nb_beta = base, base.classes, nb_beta

    def fit(self, texts, y, weights):
        b = self.base
        real_top = sorted({c for c, w in zip(y, weights) if w == 1.0 and c != M.NONE})
        sel = [i for i, c in enumerate(y) if c in real_top]
        X = M._matrix([b.train_vecs[i] for i in sel], b.buckets, b.idf)
        if self.nb_beta:
            layer = M._fit_nbsvm(X, [y[i] for i in sel], lambda m: None, "l1r", M.C_REAL, self.nb_beta)
            self.real_classes, self.W, self.b = layer.classes, layer.W, layer.b
        else:
            from sklearn.svm import LinearSVC
            m = LinearSVC(C=M.C_REAL, class_weight="balanced", random_state=0).fit(X, [y[i] for i in sel])
            self.real_classes = list(m.classes_)
            self.W = np.ascontiguousarray(m.coef_.T.astype(np.float16))
            self.b = m.intercept_.astype(np.float32)
        self.cols = np.array([self.classes.index(c) for c in self.real_classes])
        return self

    def _combine(self, P, Zr):
        return M.gate_real(P, self.cols, Zr)

    def proba(self, texts):
        X = M._matrix([M.features(t, self.base.tok) for t in texts], self.base.buckets, self.base.idf)
        return self._combine(self.base.proba(texts), np.asarray(X @ self.W.astype(np.float32)) + self.b)

    def one(self, text):
        idx, val = M.lookup(M.features(text, self.base.tok), self.base.buckets, self.base.idf)
        P = M.softmax((M.weighted_sum(val, self.base.W[idx]) + self.base.b) * self.base.scale)
        return self._combine(P, M.weighted_sum(val, self.W[idx]) + self.b)

    def nbytes(self):
        return self.base.nbytes() + self.W.nbytes + self.b.nbytes


class Tfidf:
    def __init__(self, tok, kind: str, C: float):
        self.tok, self.kind, self.C = tok, kind, C

    def _words(self, t):
        w = [x for x in self.tok.lcut(M.normalize_text(t[:M.MAX_CHARS]), HMM=False) if x.strip()]
        return w + [a + " " + b for a, b in zip(w, w[1:])]

    def _X(self, texts):
        from scipy.sparse import hstack
        from sklearn.preprocessing import normalize
        return normalize(hstack([self.cv.transform(texts), self.wv.transform(texts) * M.WORD_WEIGHT]).tocsr())

    def fit(self, texts, y, weights):
        from sklearn.feature_extraction.text import TfidfVectorizer
        self.cv = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), min_df=2, sublinear_tf=True, dtype=np.float32,
                                  preprocessor=lambda t: "".join(M.normalize_text(t[:M.MAX_CHARS]).split()))
        self.wv = TfidfVectorizer(analyzer=self._words, min_df=2, sublinear_tf=True, dtype=np.float32)
        self.cv.fit(texts)
        self.wv.fit(texts)
        X = self._X(texts)
        if self.kind == "lr":
            from sklearn.linear_model import LogisticRegression
            self.m = LogisticRegression(C=20, max_iter=300, class_weight="balanced").fit(X, y, sample_weight=weights)
        else:
            from sklearn.svm import LinearSVC
            self.m = LinearSVC(C=self.C, class_weight="balanced", random_state=0).fit(X, y, sample_weight=weights)
        self.classes = list(self.m.classes_)
        return self

    def proba(self, texts):
        X = self._X(texts)
        return self.m.predict_proba(X) if self.kind == "lr" else softmax(self.m.decision_function(X) * 3.0)

    def one(self, text):
        return self.proba([text])[0]

    def nbytes(self):
        vocab = len(self.cv.vocabulary_) + len(self.wv.vocabulary_)
        return self.m.coef_.astype(np.float16).nbytes + len(pickle.dumps((self.cv.vocabulary_, self.wv.vocabulary_))) \
            + vocab * 4


class FastText:
    def __init__(self, tok):
        self.tok = tok
        import fasttext  # noqa: F401  (ImportError: skipped)

    def _line(self, t):
        return " ".join(w for w in self.tok.lcut(M.normalize_text(t[:M.MAX_CHARS]), HMM=False) if w.strip())

    def fit(self, texts, y, weights):
        import fasttext
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
            for t, lab, w in zip(texts, y, weights):
                for _ in range(int(round(w))):
                    fh.write(f"__label__{lab} {self._line(t)}\n")
        self.m = fasttext.train_supervised(fh.name, epoch=25, lr=0.5, wordNgrams=2, dim=100, minn=1, maxn=3,
                                           bucket=500000, thread=2, verbose=0, seed=1)
        os.unlink(fh.name)
        self.classes = [c[len("__label__"):] for c in self.m.get_labels()]
        path = tempfile.mktemp(suffix=".bin")
        self.m.save_model(path)
        self.size = os.path.getsize(path)
        os.unlink(path)
        return self

    def proba(self, texts):
        return np.array([self.one(t) for t in texts])

    def one(self, text):
        labels, probs = self.m.predict(self._line(text), k=-1)
        p = dict(zip((x[len("__label__"):] for x in labels), probs))
        return np.array([p.get(c, 0.0) for c in self.classes])

    def nbytes(self):
        return self.size


class Blend:
    def __init__(self, parts):
        self.parts = parts
        self.classes = parts[0].classes

    def _align(self, part, P):
        col = [part.classes.index(c) for c in self.classes]
        return P[:, col] if P.ndim == 2 else P[col]

    def proba(self, texts):
        return np.mean([self._align(p, p.proba(texts)) for p in self.parts], axis=0)

    def one(self, text):
        return np.mean([self._align(p, p.one(text)) for p in self.parts], axis=0)

    def nbytes(self):
        return sum(p.nbytes() for p in self.parts)


def training_data(train_rows, with_real=True, title_copies=True):
    """texts, level-1 labels, weights: real rows (+ each title+body row's title alone), written data."""
    written = training.examples()
    texts, y, w = [], [], []
    if with_real:
        for r in train_rows:
            texts.append(r.text)
            y.append(r.label)
            w.append(1.0)
            if title_copies and r.title and r.body:
                texts.append(r.title)
                y.append(r.label)
                w.append(1.0)
    for t, p in written:
        texts.append(t)
        y.append(p.split("/")[0] if p else M.NONE)
        w.append(M.WRITTEN_WEIGHT if with_real else 1.0)
    return texts, y, np.array(w)


def build(name, tok, train_rows, cache):
    if name == "today":
        t, y, w = training_data(train_rows, with_real=False)
        return Hashed(tok, False, "lr", 8.0).fit(t, y, w)
    if name == "today_real":
        t, y, w = training_data(train_rows, title_copies=False)
        return Hashed(tok, False, "lr", 8.0).fit(t, y, np.ones(len(t)))
    t, y, w = training_data(train_rows)
    if name == "tfidf_svm":
        return Tfidf(tok, "svm", 1.0).fit(t, y, w)
    if name == "tfidf_lr":
        return Tfidf(tok, "lr", 20.0).fit(t, y, w)
    if name == "fasttext":
        return FastText(tok).fit(t, y, w)
    if name == "hashed_svm":
        return Hashed(tok, True, "svm", M.C_REG1).fit(t, y, w)
    if name == "blend":
        return Blend([cache["hashed_svm"], cache["fasttext"]])
    if name == "two_part":
        base = cache.get("hashed_svm") or Hashed(tok, True, "svm", M.C_REG1).fit(t, y, w)
        return TwoPart(base).fit(t, y, w)
    if name == "two_part_nb":
        base = cache.get("hashed_svm") or Hashed(tok, True, "svm", M.C_REG1).fit(t, y, w)
        return TwoPart(base, M.NB_BETA).fit(t, y, w)
    raise ValueError(name)


def single_call_ms(m, texts):
    for t in texts[:20]:
        m.one(t)
    s = []
    for t in texts:
        t0 = time.perf_counter()
        m.one(t)
        s.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(s), 3)


def write(a, gold, cost, slow_folds, done):
    """The comparison so far (written after every fold: a long run leaves its figures as it goes)."""
    out = {"folds": ",".join(map(str, done)), "slow_folds": sorted(slow_folds), "models": {}}
    f = Path(a.out, "category_compare.json")
    if a.merge and f.exists():
        old = json.loads(f.read_text(encoding="utf-8"))
        out["models"] = {k: v for k, v in old["models"].items() if k not in gold}
        out["folds"], out["slow_folds"] = old["folds"], old["slow_folds"]
    for name, per in gold.items():
        out["models"][name] = {"cost": cost.get(name, {}), "sets": {}}
        for s, pairs in per.items():
            g, p = [x for x, _ in pairs], [y for _, y in pairs]
            classes = sorted(set(g))
            out["models"][name]["sets"][s] = {
                "n": len(pairs), "accuracy": round(float(np.mean([x == y for x, y in pairs])), 4),
                "macro_f1": round(evaluate.macro_f1(g, p), 4),
                "per_class": {c: round(float(np.mean([y == c for x, y in pairs if x == c])), 3) for c in classes},
                "confusions": [[x, y, n] for (x, y), n in Counter((x, y) for x, y in pairs if x != y).most_common(12)]}
    f.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", default=",".join(str(i) for i in range(real.K)))
    ap.add_argument("--models", default=",".join(ALL))
    ap.add_argument("--slow-folds", default="0", help="folds on which the slow candidates run")
    ap.add_argument("--out", default=str(ROOT / "bot" / "reports"))
    ap.add_argument("--merge", action="store_true", help="keep the other models' figures already in the json")
    a = ap.parse_args(argv)
    tok = M.tokenizer(DATA_DIR / training.DICTIONARY_FILE)
    folds = real.folds()
    names = a.models.split(",")
    slow_folds = {int(x) for x in a.slow_folds.split(",") if x}
    gold = defaultdict(lambda: defaultdict(list))   # model → set → [(gold, predicted)]
    cost = defaultdict(dict)
    chat = [t for t, _ in evaluate.eval_sets(real_fold=[])["chat"]][:TIMING_TEXTS]
    done = []
    for f in (int(x) for x in a.folds.split(",")):
        train_rows = [r for i, fr in enumerate(folds) if i != f for r in fr]
        sets = evaluate.eval_sets(real_fold=folds[f])
        sets["written_other8"] = evaluate.other8(sets)
        cache = {}
        for name in names:
            if name in SLOW and f not in slow_folds:
                continue
            if name == "blend" and not {"hashed_svm", "fasttext"} <= set(cache):
                continue
            t0 = time.perf_counter()
            try:
                m = build(name, tok, train_rows, cache)
            except ImportError as e:
                print(f"{name}: skipped ({e})", flush=True)
                continue
            fit_s = time.perf_counter() - t0
            cache[name] = m
            for s, items in sets.items():
                P = m.proba([t for t, _ in items])
                if M.NONE in m.classes:
                    P[:, m.classes.index(M.NONE)] = -1
                pred = [m.classes[i] for i in P.argmax(axis=1)]
                gold[name][s] += [(g.split("/")[0], p) for (_, g), p in zip(items, pred)]
            if f == min(int(x) for x in a.folds.split(",")) or name in SLOW:
                cost[name] = {"fit_s": round(fit_s, 1), "single_call_ms": single_call_ms(m, chat),
                              "model_mb": round(m.nbytes() / 1e6, 1)}
            acc = {s: np.mean([g == p for g, p in gold[name][s]]) for s in sets}
            print(f"fold {f} {name} ({fit_s:.0f}s): " + " ".join(f"{s} {v:.3f}" for s, v in acc.items()), flush=True)
        done.append(f)
        write(a, gold, cost, slow_folds, done)
    out = write(a, gold, cost, slow_folds, done)
    for name, r in out["models"].items():
        print(name, r["cost"], {s: (v["accuracy"], v["macro_f1"]) for s, v in r["sets"].items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
