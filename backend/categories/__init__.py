"""Order category taxonomy (诉求分类) and the category classifier.

Data lives in ``intents/categories/`` (taxonomy.yml + one training file per top level); this package
only loads it. The classifier is trained from those files on first use in each process and cached in
memory keyed by a hash of the files, so it works when the Rasa bot is down.

    from backend.categories import classify, is_valid
    pred = classify("3号楼2单元楼道灯坏了好几天了")
    pred.path, pred.confidence, pred.is_confident(0.35)
"""
from .taxonomy import (  # noqa: F401
    Category,
    Example,
    Taxonomy,
    DATA_DIR,
    data_fingerprint,
    get_taxonomy,
    is_valid,
    keyword_examples,
    labels,
    load_chatter,
    load_examples,
    load_taxonomy,
    lookup,
    split_examples,
    top_levels,
)
from .classifier import (  # noqa: F401
    DEFAULT_THRESHOLD,
    CategoryClassifier,
    Prediction,
    classify,
    get_classifier,
    is_confident,
    predict_top,
    suggest_category,
)
