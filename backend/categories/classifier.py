"""Category classifier: resident text → taxonomy path with a calibrated confidence.

Loads the model trained at build time (``training.build``; scripts/category-train.sh) from the
cache; it never fits at start-up or per request. If the cache lacks this data's model (a fresh
checkout that skipped setup), the first use trains it once and logs a warning.

``Prediction.confidence`` is the calibrated probability of the top level (what decides whether the
order gets a category without a person); ``level2_confidence`` that of the level-2 path. Level 3 is
added to the path only when its own probability clears LEVEL3_THRESHOLD.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from . import compact, training
from .model import NONE, WEAK_FACTOR, Model, weak
from .taxonomy import DATA_DIR, OTHER, SEP, get_taxonomy

log = logging.getLogger(__name__)

LEVEL3_THRESHOLD = 0.6
FALLBACK_THRESHOLD = 0.5   # only before a model is loaded


@dataclass(frozen=True)
class Prediction:
    level1: str
    level2: str
    path: str                  # "L1/L2" or "L1/L2/L3"
    code: str
    confidence: float          # P(level1 | text), calibrated
    level2_confidence: float = 0.0
    level3: Optional[str] = None
    level3_confidence: float = 0.0
    threshold: float = FALLBACK_THRESHOLD

    def is_confident(self, threshold: Optional[float] = None) -> bool:
        return self.confidence >= (self.threshold if threshold is None else float(threshold))

    def to_dict(self) -> dict:
        return asdict(self)


class CategoryClassifier:
    def __init__(self, model: Model, data_dir: Path = DATA_DIR):
        self.model = model
        self.taxonomy = get_taxonomy(data_dir)
        l2 = model.layers["l2"].classes
        l3 = model.layers["l3"].classes
        self._l2_of = {c: np.array([i for i, p in enumerate(l2) if p.split(SEP)[0] == c], dtype=int)
                       for c in model.layers["l1"].classes if c != NONE}
        self._l3_of = {p: np.array([i for i, q in enumerate(l3) if q.rsplit(SEP, 1)[0] == p], dtype=int)
                       for p in l2}

    @property
    def threshold(self) -> float:
        return self.model.threshold

    def predict_top(self, text: str, k: int = 3) -> List[Prediction]:
        """The k most likely top levels (each with its best level 2, and level 3 when sure), best first."""
        idx, val, p1, p2 = self.model.probabilities(text or "")
        l1, l2, l3 = self.model.layers["l1"], self.model.layers["l2"], self.model.layers["l3"]
        factor = WEAK_FACTOR if weak(text or "") else 1.0
        out = []
        for j in np.argsort(-p1, kind="stable"):
            name = l1.classes[j]
            if name == NONE:
                continue
            conf1 = float(p1[j]) * factor
            kids = self._l2_of.get(name)
            if kids is None or kids.size == 0:
                path2 = self.taxonomy.children(name)[0].path
                conf2 = 0.0
            else:
                within = p2[kids]
                i = int(np.argmax(within))
                path2 = l2.classes[kids[i]]
                conf2 = conf1 * float(within[i] / within.sum())
            path, level3, conf3 = path2, None, 0.0
            grand = self._l3_of.get(path2)
            if grand is not None and grand.size and conf2 >= LEVEL3_THRESHOLD:
                within = l3.proba(idx, val, grand)   # level 3 among this level 2's children only
                i = int(np.argmax(within))
                cand = l3.classes[grand[i]]
                if conf2 * float(within[i]) >= LEVEL3_THRESHOLD and not cand.endswith(SEP + OTHER):
                    path, level3, conf3 = cand, cand.rsplit(SEP, 1)[1], conf2 * float(within[i])
            cat = self.taxonomy[path]
            out.append(Prediction(cat.level1, cat.level2, cat.path, cat.code, round(conf1, 4), round(conf2, 4),
                                  level3, round(conf3, 4), self.threshold))
            if len(out) >= max(1, k):
                break
        return out

    def classify(self, text: str) -> Prediction:
        return self.predict_top(text, 1)[0]

    def classify_many(self, texts) -> List[Prediction]:
        return [self.classify(t) for t in texts]


_lock = threading.Lock()
_models: Dict[str, CategoryClassifier] = {}
_checked: Dict[str, tuple] = {}   # data dir → (monotonic time of the last data check, model path)
RECHECK_SECONDS = 5.0              # how often a process looks whether the data (so the model) changed


def load(path: Path, data_dir: Path = DATA_DIR) -> CategoryClassifier:
    # The same model in less memory per process (compact.py says how); Model.load reads it all.
    return CategoryClassifier(compact.load_model(path, Path(data_dir) / training.DICTIONARY_FILE), data_dir)


def get_classifier(data_dir: Path | str = DATA_DIR) -> CategoryClassifier:
    """The production model of the current data, loaded once per process."""
    data_dir = Path(data_dir)
    last = _checked.get(str(data_dir))
    if last and time.monotonic() - last[0] < RECHECK_SECONDS and last[1] in _models:
        return _models[last[1]]
    path = training.model_path(data_dir)
    _checked[str(data_dir)] = (time.monotonic(), str(path))
    hit = _models.get(str(path))
    if hit is not None:
        return hit
    with _lock:
        hit = _models.get(str(path))
        if hit is None:
            if not path.exists():
                log.warning("category model %s is not built (scripts/category-train.sh); training it now", path.name)
                training.build(data_dir, progress=log.info)
            hit = load(path, data_dir)
            _models.clear()
            _models[str(path)] = hit
        return hit


def classify(text: str) -> Prediction:
    return get_classifier().classify(text)


def predict_top(text: str, k: int = 3) -> List[Prediction]:
    return get_classifier().predict_top(text, k)


def is_confident(prediction: Prediction, threshold: Optional[float] = None) -> bool:
    """True when the prediction may be used without a person. threshold: CATEGORY_CONFIDENCE_THRESHOLD
    when set, else the model's own (calibrated on held-out data)."""
    return prediction.is_confident(None if threshold is None else float(threshold))


def suggest_category(text: str, threshold: Optional[float] = None) -> Optional[str]:
    pred = classify(text)
    return pred.path if is_confident(pred, threshold) else None


DEFAULT_THRESHOLD = None  # the model's calibrated threshold; kept for callers that pass it through
