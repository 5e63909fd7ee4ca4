"""Category classifier: resident text → taxonomy path with a confidence.

TF-IDF over character 1–3-grams plus jieba words, a multinomial LogisticRegression over the second
level (path); the top-level probability is the sum of its children's probabilities, the top level is
chosen first and the second level is the best child of it. Trained from ``intents/categories`` at first
use and cached per process, keyed by a hash of the data files (read-only data, so an in-memory cache
is safe with several processes: each one fits the same model).

``Prediction.confidence`` is the probability of the top level (what decides whether the order gets a
category automatically); ``level2_confidence`` is the probability of the full path.
"""
from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from .taxonomy import (
    DATA_DIR,
    DICTIONARY_FILE,
    SEP,
    Example,
    Taxonomy,
    data_fingerprint,
    load_examples,
    load_taxonomy,
)

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.35
RANDOM_STATE = 0
# LogisticRegression inverse regularisation; chosen by cross-validation on the training split.
DEFAULT_C = 20.0


@dataclass(frozen=True)
class Prediction:
    level1: str
    level2: str
    path: str                 # "城乡建设/物业管理"
    code: str                 # "urban.property"
    confidence: float         # P(level1 | text)
    level2_confidence: float = 0.0   # P(level1/level2 | text)

    def is_confident(self, threshold: float = DEFAULT_THRESHOLD) -> bool:
        return self.confidence >= threshold

    def to_dict(self) -> dict:
        return asdict(self)


# --- text preprocessing -------------------------------------------------------------------------
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC (full-width → half-width), lower case, digits → 0, collapse whitespace."""
    t = unicodedata.normalize("NFKC", text or "").lower()
    t = _DIGITS.sub("0", t)
    return _SPACE.sub(" ", t).strip()


_tok_lock = threading.Lock()
_tokenizers: Dict[str, object] = {}


def _tokenizer(data_dir: Path):
    """A private jieba Tokenizer (does not touch jieba's global one) with our domain words."""
    key = str(data_dir)
    with _tok_lock:
        tok = _tokenizers.get(key)
        if tok is None:
            import jieba
            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            d = Path(data_dir) / DICTIONARY_FILE
            if d.exists():
                tok.load_userdict(str(d))
            _tokenizers[key] = tok
        return tok


class _WordAnalyzer:
    """Callable analyzer for TfidfVectorizer: jieba words (no spaces/punctuation) + word bigrams."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir

    def __call__(self, text: str) -> List[str]:
        words = [w for w in _tokenizer(self.data_dir).lcut(text) if w.strip() and not _is_punct(w)]
        return words + [a + " " + b for a, b in zip(words, words[1:])]


def _is_punct(w: str) -> bool:
    return all(unicodedata.category(ch)[0] in "PZS" for ch in w)


# --- the model ----------------------------------------------------------------------------------
class CategoryClassifier:
    def __init__(self, taxonomy: Taxonomy, data_dir: Path | str = DATA_DIR, C: float = DEFAULT_C):
        self.taxonomy = taxonomy
        self.data_dir = Path(data_dir)
        self.C = C
        self.fit_seconds: Optional[float] = None
        self.n_examples = 0
        self._pipe = None
        self._paths: List[str] = []
        self._level1: List[str] = []
        self._l1_matrix: Optional[np.ndarray] = None   # (n_paths, n_level1) 0/1

    # training ---------------------------------------------------------------------------------
    def fit(self, examples: Sequence[Example]) -> "CategoryClassifier":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline

        t0 = time.perf_counter()
        texts = [normalize_text(e.text) for e in examples]
        y = [e.path for e in examples]
        features = FeatureUnion([
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True,
                                      min_df=1)),
            ("words", TfidfVectorizer(analyzer=_WordAnalyzer(self.data_dir), sublinear_tf=True,
                                      min_df=1)),
        ])
        clf = LogisticRegression(C=self.C, max_iter=2000, random_state=RANDOM_STATE)
        self._pipe = Pipeline([("features", features), ("clf", clf)]).fit(texts, y)
        self._paths = list(self._pipe.classes_)
        self._level1 = [c.path for c in self.taxonomy.top_levels()]
        m = np.zeros((len(self._paths), len(self._level1)))
        for i, p in enumerate(self._paths):
            m[i, self._level1.index(p.split(SEP, 1)[0])] = 1.0
        self._l1_matrix = m
        self.n_examples = len(examples)
        self.fit_seconds = time.perf_counter() - t0
        return self

    # prediction -------------------------------------------------------------------------------
    def _proba(self, texts: Sequence[str]) -> np.ndarray:
        if self._pipe is None:
            raise RuntimeError("classifier is not fitted")
        return self._pipe.predict_proba([normalize_text(t) for t in texts])

    def _rank(self, p2: np.ndarray) -> List[Prediction]:
        """All top levels ranked by probability, each with its best second level."""
        p1 = p2 @ self._l1_matrix
        out = []
        for j in np.argsort(-p1, kind="stable"):
            level1 = self._level1[j]
            rows = np.flatnonzero(self._l1_matrix[:, j])
            if rows.size == 0:  # a top level without training data
                child = self.taxonomy.children(level1)[0]
                out.append(self._make(child.path, float(p1[j]), 0.0))
                continue
            i = rows[np.argmax(p2[rows])]
            out.append(self._make(self._paths[i], float(p1[j]), float(p2[i])))
        return out

    def _make(self, path: str, conf1: float, conf2: float) -> Prediction:
        cat = self.taxonomy[path]
        return Prediction(cat.level1, cat.level2, cat.path, cat.code, round(conf1, 4), round(conf2, 4))

    def classify(self, text: str) -> Prediction:
        return self._rank(self._proba([text])[0])[0]

    def classify_many(self, texts: Sequence[str]) -> List[Prediction]:
        if not texts:
            return []
        return [self._rank(row)[0] for row in self._proba(texts)]

    def predict_top(self, text: str, k: int = 3) -> List[Prediction]:
        """The k most likely top levels (each with its best second level), best first."""
        return self._rank(self._proba([text])[0])[:max(1, k)]

    def predict_top_paths(self, text: str, k: int = 3) -> List[Prediction]:
        """The k most likely full paths, best first; confidence is still the top level's."""
        p2 = self._proba([text])[0]
        p1 = p2 @ self._l1_matrix
        order = np.argsort(-p2, kind="stable")[:max(1, k)]
        return [self._make(self._paths[i], float(p1[self._level1.index(self._paths[i].split(SEP)[0])]),
                           float(p2[i])) for i in order]


# --- process-wide default model -----------------------------------------------------------------
_model_lock = threading.Lock()
_models: Dict[str, CategoryClassifier] = {}


def get_classifier(data_dir: Path | str = DATA_DIR) -> CategoryClassifier:
    """The production model: trained on all examples (train + held-out), cached per data hash."""
    data_dir = Path(data_dir)
    key = f"{data_dir.resolve()}:{data_fingerprint(data_dir)}"
    model = _models.get(key)
    if model is not None:
        return model
    with _model_lock:
        model = _models.get(key)
        if model is None:
            tax = load_taxonomy(data_dir)
            model = CategoryClassifier(tax, data_dir).fit(load_examples(data_dir, tax))
            log.info("category classifier fitted on %d examples in %.2fs",
                     model.n_examples, model.fit_seconds)
            _models.clear()  # keep only the current data version
            _models[key] = model
        return model


def classify(text: str) -> Prediction:
    """Best category for `text`; check `is_confident` before putting it on an order."""
    return get_classifier().classify(text)


def predict_top(text: str, k: int = 3) -> List[Prediction]:
    """The k most likely top-level categories (each with its best second level), best first."""
    return get_classifier().predict_top(text, k)


def is_confident(prediction: Prediction, threshold: Optional[float] = None) -> bool:
    """True when the prediction may be used without a person (threshold: CATEGORY_CONFIDENCE_THRESHOLD)."""
    return prediction.is_confident(DEFAULT_THRESHOLD if threshold is None else float(threshold))


def suggest_category(text: str, threshold: Optional[float] = None) -> Optional[str]:
    """The taxonomy path to store on a new order, or None to leave it for the worker."""
    pred = classify(text)
    return pred.path if is_confident(pred, threshold) else None
