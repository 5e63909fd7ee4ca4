"""Category classifier: resident text → taxonomy path with a confidence.

TF-IDF over character 1–3-grams plus jieba words and word bigrams; two linear SVMs with Platt-calibrated
probabilities, one over the top level and one over the full path. The top level is chosen first and the
second level is the best child of it. The taxonomy's keyword lists are added to the training text. Trained from ``intents/categories`` at first
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
    keyword_examples,
    load_chatter,
    load_examples,
    load_taxonomy,
)

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.35
RANDOM_STATE = 0
DEFAULT_C = 0.75           # LinearSVC regularisation
WORD_WEIGHT = 0.5          # weight of the jieba word features relative to the character n-grams
CALIBRATION_FOLDS = 5      # CalibratedClassifierCV folds (sigmoid / Platt scaling); each fold model sees 4/5 of the data
NO_WORD_FACTOR = 0.5       # confidence factor when none of the text's words was seen in training
NONE = "_none"             # top-level label of the reject class (intents/categories/_chatter.yml)


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
    """Two calibrated linear SVMs on shared features: one over top levels, one over full paths.

    The top level comes from the first; the second level is the best child of that top level
    according to the second. Keyword lists of the taxonomy are added to the training text.
    """

    def __init__(self, taxonomy: Taxonomy, data_dir: Path | str = DATA_DIR, C: float = DEFAULT_C,
                 use_keywords: bool = True, word_weight: float = WORD_WEIGHT,
                 chatter: Optional[Sequence[str]] = None):
        self.taxonomy = taxonomy
        self.data_dir = Path(data_dir)
        self.C = C
        self.use_keywords = use_keywords
        self.word_weight = word_weight
        self.chatter = list(load_chatter(self.data_dir) if chatter is None else chatter)
        self.fit_seconds: Optional[float] = None
        self.n_examples = 0
        self._features = None
        self._m1 = None
        self._m2 = None
        self._children: Dict[str, np.ndarray] = {}   # level1 → column indices in _m2.classes_

    # training ---------------------------------------------------------------------------------
    def fit(self, examples: Sequence[Example]) -> "CategoryClassifier":
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion
        from sklearn.svm import LinearSVC

        t0 = time.perf_counter()
        examples = list(examples)
        if self.use_keywords:
            examples += keyword_examples(self.taxonomy)
        texts = [normalize_text(e.text) for e in examples]
        n = len(texts)
        texts += [normalize_text(t) for t in self.chatter]
        self._features = FeatureUnion([
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)),
            ("words", TfidfVectorizer(analyzer=_WordAnalyzer(self.data_dir), sublinear_tf=True)),
        ], transformer_weights={"chars": 1.0, "words": self.word_weight})
        X = self._features.fit_transform(texts)

        def model(X, y):
            svc = LinearSVC(C=self.C, class_weight="balanced", random_state=RANDOM_STATE)
            return CalibratedClassifierCV(svc, method="sigmoid", cv=CALIBRATION_FOLDS).fit(X, y)

        # top level: the categories plus the reject class; full path: categories only
        self._m1 = model(X, [e.level1 for e in examples] + [NONE] * len(self.chatter))
        self._m2 = model(X[:n], [e.path for e in examples])
        paths = list(self._m2.classes_)
        self._children = {}
        for l1 in self._m1.classes_:
            if l1 == NONE:
                continue
            self._children[l1] = np.array([i for i, p in enumerate(paths)
                                           if p.split(SEP, 1)[0] == l1], dtype=int)
        self.n_examples = len(examples)
        self.fit_seconds = time.perf_counter() - t0
        return self

    # prediction -------------------------------------------------------------------------------
    def _proba(self, texts: Sequence[str]):
        if self._m1 is None:
            raise RuntimeError("classifier is not fitted")
        X = self._features.transform([normalize_text(t) for t in texts])
        p1 = self._m1.predict_proba(X)
        # No known word at all (only stray characters matched), or a single character: not enough
        # evidence to be sure.
        norm = [normalize_text(t) for t in texts]
        words = self._features.transformer_list[1][1].transform(norm)
        weak = (words.getnnz(axis=1) == 0) | np.array([sum(ch.isalnum() for ch in t) < 2 for t in norm])
        p1 = p1 * np.where(weak, NO_WORD_FACTOR, 1.0)[:, None]
        return p1, self._m2.predict_proba(X)

    def _rank(self, p1: np.ndarray, p2: np.ndarray) -> List[Prediction]:
        """All top levels ranked by probability, each with its best second level."""
        out = []
        paths = self._m2.classes_
        for j in np.argsort(-p1, kind="stable"):
            level1 = self._m1.classes_[j]
            if level1 == NONE:  # its probability mass just lowers everyone else's confidence
                continue
            kids = self._children[level1]
            if kids.size == 0:  # cannot happen with keywords on; be safe anyway
                out.append(self._make(self.taxonomy.children(level1)[0].path, float(p1[j]), 0.0))
                continue
            within = p2[kids]
            i = int(np.argmax(within))
            share = float(within[i] / within.sum()) if within.sum() > 0 else 1.0 / kids.size
            out.append(self._make(paths[kids[i]], float(p1[j]), float(p1[j]) * share))
        return out

    def _make(self, path: str, conf1: float, conf2: float) -> Prediction:
        cat = self.taxonomy[path]
        return Prediction(cat.level1, cat.level2, cat.path, cat.code, round(conf1, 4), round(conf2, 4))

    def classify(self, text: str) -> Prediction:
        return self.predict_top(text, 1)[0]

    def classify_many(self, texts: Sequence[str]) -> List[Prediction]:
        if not texts:
            return []
        p1, p2 = self._proba(texts)
        return [self._rank(a, b)[0] for a, b in zip(p1, p2)]

    def predict_top(self, text: str, k: int = 3) -> List[Prediction]:
        """The k most likely top levels (each with its best second level), best first."""
        p1, p2 = self._proba([text])
        return self._rank(p1[0], p2[0])[:max(1, k)]


# --- process-wide default model -----------------------------------------------------------------
_model_lock = threading.Lock()
_models: Dict[str, CategoryClassifier] = {}


def get_classifier(data_dir: Path | str = DATA_DIR) -> CategoryClassifier:
    """The production model: trained on all examples (train + held-out) plus the taxonomy keywords,
    cached per process keyed by the hash of the data files."""
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
