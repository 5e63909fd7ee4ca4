"""Order categories: the standard three-level taxonomy and a light classifier.

Data in ``intents/categories/`` (taxonomy.tsv + community.tsv, phrases.yml, train/*.tsv, eval/);
the model is trained at build time (scripts/category-train.sh) and loaded by each process.

    from backend.categories import classify
    pred = classify("3号楼2单元楼道灯坏了好几天了")
    pred.path, pred.confidence, pred.is_confident()
"""
from .taxonomy import (  # noqa: F401
    DATA_DIR, Category, Taxonomy, get_taxonomy, is_valid, labels, load_taxonomy, lookup, top_levels,
)
from .classifier import (  # noqa: F401
    DEFAULT_THRESHOLD, CategoryClassifier, Prediction, classify, get_classifier, is_confident,
    predict_top, suggest_category,
)
