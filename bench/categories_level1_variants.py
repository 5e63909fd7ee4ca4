"""Level 1's second part (``l1r``, the 7 real top levels) and what might replace it, k-fold by message
(issue 25, third pass). Everything else is the shipped model: hashed character 1–3-grams + jieba words
with IDF, the 15-way gate ``l1`` (linear SVM, C 0.3, written texts ×2), the training split that holds
out every ``HOLDOUT_EVERY``-th message for calibration, as ``model.train`` does.

    .venv/bin/python bench/categories_level1_variants.py [--folds 0,1,2,3,4] [--variants base,nb0.5,...]

For each fold: the real messages of the other folds (and each title+body row's title alone) plus the
written training data; scored on the fold's real rows (titles; title + body) and the frozen written
sets (board titles, board title + body, chat). The 8 top levels without real data are decided by the
gate alone, which no variant changes, so they are not scored here. Prints accuracy per fold and the
mean. Variants (``VARIANTS``): class weights, written texts' weight, bodies alone as extra texts, C,
Crammer–Singer, the gate's own scores added, an NBSVM mixed with the plain SVM, a k-nearest-neighbour
vote over the real training messages, and a title feature space (``title:beta``).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.categories import evaluate, model as M, real, training  # noqa: E402
from backend.categories.taxonomy import DATA_DIR  # noqa: E402

SETS = ("real_titles", "real_full", "chat", "board_titles", "board_full")
VARIANTS = {
    "base": {}, "no_class_weights": {"cw": None}, "written_x0.5": {"ww": 0.5}, "written_x0": {"ww": 0.0},
    "bodies_alone_too": {"body": 1.0}, "C1.5": {"C": 1.5}, "crammer_singer": {"multi_class": "crammer_singer"},
    "gate_scores_x0.3": {"mix": 0.3}, "gate_scores_x1": {"mix": 1.0},
    "nb0.5": {"nb": 0.5}, "nb0.75": {"nb": 0.75}, "nb1": {"nb": 1.0},
    "knn10_x0.5": {"knn": 10, "alpha": 0.5, "power": 1.0}, "knn10_sim4_x1": {"knn": 10, "alpha": 1.0, "power": 4.0},
    "title0.8": {"title": 0.8},
}


def svm(X, y, C, w=None, cw="balanced", **kw):
    from sklearn.svm import LinearSVC
    m = LinearSVC(C=C, class_weight=cw, random_state=0, **kw).fit(X, y, sample_weight=w)
    return list(m.classes_), m.coef_.T.astype(np.float32), m.intercept_.astype(np.float32)


def nbsvm(X, y, C, beta):
    L = M._fit_nbsvm(X, y, lambda m: None, "l1r", C, beta)
    return L.classes, L.W.astype(np.float32), L.b


def knn_votes(Xtr, ytr, Xq, k, ncls, power):
    V = np.zeros((Xq.shape[0], ncls), dtype=np.float32)
    XtrT = Xtr.T.tocsr()
    for s in range(0, Xq.shape[0], 2000):
        S = (Xq[s:s + 2000] @ XtrT).toarray()
        top = np.argpartition(-S, k, axis=1)[:, :k]
        rows = np.arange(S.shape[0])
        for j in range(k):
            np.add.at(V[s:s + 2000], (rows, ytr[top[:, j]]), np.maximum(S[rows, top[:, j]], 0) ** power)
    return V


class Features:
    def __init__(self):
        self.tok = M.tokenizer(DATA_DIR / training.DICTIONARY_FILE)
        self.cache = {}

    def __call__(self, t):
        f = self.cache.get(t)
        if f is None:
            f = self.cache[t] = M.features(t, self.tok)
        return f

    def vocab(self, texts):
        df = {}
        for t in texts:
            for h in self(t):
                df[h] = df.get(h, 0) + 1
        b = np.array(sorted(h for h, n in df.items() if n >= M.MIN_DF), dtype=np.int64)
        idf = np.array([math.log((1 + len(texts)) / (1 + df[h])) + 1 for h in b.tolist()], dtype=np.float32)
        return b, idf

    def matrix(self, texts, b, idf):
        return M._matrix([self(t) for t in texts], b, idf)


def run_fold(f, folds, groups, written, wsets, feats, variants, real7):
    train = []   # (text, label, weight, is_real, key)
    for i, fr in enumerate(folds):
        if i == f:
            continue
        for r in fr:
            g = f"real:{groups[r.index]}"
            train.append((r.text, r.label, 1.0, True, g, r))
            if r.title and r.body:
                train.append((r.title, r.label, 1.0, True, g, None))
    for t, p in written:
        train.append((t, p.split("/")[0] if p else M.NONE, M.WRITTEN_WEIGHT, False, t, None))
    train = [x for x in train if not M.held_out(x[4])]
    sets = {"real_titles": [(r.title, r.label) for r in folds[f] if r.title],
            "real_full": [(r.text, r.label) for r in folds[f]]}
    sets.update({s: [(t, p.split("/")[0]) for t, p in items] for s, items in wsets.items()})
    texts = [x[0] for x in train]
    b, idf = feats.vocab(texts)
    X = feats.matrix(texts, b, idf)
    y = [x[1] for x in train]
    c1, W1, b1 = svm(X, y, M.C_REG1, np.array([x[2] for x in train]))
    Xs = {s: feats.matrix([t for t, _ in items], b, idf) for s, items in sets.items()}
    Z1 = {s: np.asarray(Xs[s] @ W1) + b1 for s in sets}
    out = {}
    for name in variants:
        v = VARIANTS[name]
        idx = [i for i, x in enumerate(train) if x[1] in real7 and (x[3] or v.get("ww", 1.0) > 0)]
        w = np.array([1.0 if train[i][3] else v.get("ww", 1.0) for i in idx])
        Xt, yt = X[idx], [y[i] for i in idx]
        Xq = Xs
        if v.get("body"):
            from scipy.sparse import vstack
            bodies = [(x[5].body, x[1]) for x in train if x[5] is not None and x[5].title and x[5].body]
            Xt = vstack([Xt, feats.matrix([t for t, _ in bodies], b, idf)]).tocsr()
            yt = yt + [lab for _, lab in bodies]
            w = np.concatenate([w, np.full(len(bodies), v["body"])])
        if v.get("title"):
            from scipy.sparse import hstack
            from sklearn.preprocessing import normalize
            first = [t.split("\n")[0] for t in texts]
            bt, idft = feats.vocab(first)
            Xt = normalize(hstack([X, v["title"] * feats.matrix(first, bt, idft)]).tocsr())[idx]
            Xq = {s: normalize(hstack([Xs[s], v["title"] * feats.matrix([t.split("\n")[0] for t, _ in sets[s]], bt, idft)]).tocsr())
                  for s in sets}
        if v.get("nb"):
            cr, Wr, br = nbsvm(Xt, yt, v.get("C", M.C_REAL), v["nb"])
        else:
            kw = {k: v[k] for k in ("multi_class",) if k in v}
            cr, Wr, br = svm(Xt, yt, v.get("C", M.C_REAL), w, v.get("cw", "balanced"), **kw)
        cols = np.array([c1.index(c) for c in cr])
        for s, items in sets.items():
            Z = np.asarray(Xq[s] @ Wr) + br
            if v.get("mix"):
                Z = Z + v["mix"] * Z1[s][:, cols]
            if v.get("knn"):
                ridx = np.array([i for i, x in enumerate(train) if x[3]])
                Z = Z + v["alpha"] * knn_votes(X[ridx], np.array([cr.index(y[i]) for i in ridx]), Xs[s], v["knn"],
                                               len(cr), v["power"])
            P = M.gate_real(_softmax(Z1[s]), cols, Z)
            P[:, c1.index(M.NONE)] = -1
            out[(name, s)] = float(np.mean([c1[i] == g for i, (_, g) in zip(P.argmax(1), items)]))
    return out


def _softmax(Z):
    Z = Z - Z.max(1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(1, keepdims=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", default=",".join(str(i) for i in range(real.K)))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    a = ap.parse_args(argv)
    folds_l = [int(x) for x in a.folds.split(",")]
    variants = a.variants.split(",")
    folds = real.folds()
    groups = real._groups(str(DATA_DIR / real.REAL_FILE))
    written = training.examples()
    wsets = {s: v for s, v in evaluate.eval_sets(real_fold=[]).items() if s in ("board_titles", "board_full", "chat")}
    real7 = sorted({r.label for fr in folds for r in fr})
    feats = Features()
    res = {}
    for f in folds_l:
        t0 = time.perf_counter()
        for k, v in run_fold(f, folds, groups, written, wsets, feats, variants, real7).items():
            res[k + (f,)] = v
        print(f"fold {f}: {time.perf_counter() - t0:.0f} s", flush=True)
    print("| variant | " + " | ".join(f"{s} (folds {a.folds}; mean)" for s in SETS) + " |")
    print("|---" * (len(SETS) + 1) + "|")
    for name in variants:
        cells = []
        for s in SETS:
            vals = [res[(name, s, f)] for f in folds_l]
            cells.append(" / ".join(f"{100 * x:.1f}" for x in vals) + f"; **{100 * np.mean(vals):.2f}**")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
