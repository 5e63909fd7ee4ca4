"""The order's kind from its text (backend/kinds): data, frozen evaluation set, the shipped model and its gate.

Plain functions, no app: the model is the cached build-time one (trained once on first use)."""
import hashlib

import numpy as np

from backend.kinds import model as kinds
from backend.orders.models import KINDS

# Frozen before the model was first trained (issue 25 item 8): changing it is not allowed.
EVAL_SHA256 = "94ba7f394eaacd396ef02ed826edf9cc9a31149ba5b4b500e2eee0e2428a44b0"


def test_the_kinds_are_the_orders_kinds_and_both_sets_cover_each():
    assert set(kinds.KINDS) == set(KINDS)
    assert {k for _, k in kinds.training_rows()} == set(KINDS)
    assert {k for _, k in kinds.eval_rows()} == set(KINDS)
    assert len(kinds.training_rows()) >= 300 and len(kinds.eval_rows()) >= 100


def test_the_evaluation_set_is_frozen_and_shares_no_text_with_training():
    assert hashlib.sha256((kinds.DATA_DIR / "eval.tsv").read_bytes()).hexdigest() == EVAL_SHA256
    def norm(t):
        return "".join(ch for ch in kinds.normalize(t) if ch.isalnum())
    trained = {norm(t) for t, _ in kinds.training_rows()}
    assert not [t for t, _ in kinds.eval_rows() if norm(t) in trained]


def test_the_shipped_model_passes_the_gate():
    model = kinds.get_model()
    assert kinds.gate(model) == []
    figures = kinds.evaluate(model, kinds.eval_rows())
    assert figures["accuracy"] >= kinds.ACCEPTED["accuracy"] and figures["macro_f1"] >= kinds.ACCEPTED["macro_f1"]


def test_the_gate_fails_on_a_damaged_model():
    good = kinds.get_model()
    # the weights of each kind given to the next one: every prediction lands on a wrong kind
    shifted = kinds.KindModel(good.vocabulary, good.idf, np.roll(good.coef, 1, axis=0),
                              np.roll(good.intercept, 1), good.classes)
    assert kinds.gate(shifted)
    # half the vocabulary forgotten (a truncated model file)
    half = dict(list(good.vocabulary.items())[: len(good.vocabulary) // 2])
    assert kinds.gate(kinds.KindModel(half, good.idf, good.coef * 0.2, good.intercept, good.classes))


def test_dispute_only_between_people_and_the_issue_cases():
    predict = kinds.predict_kind
    assert predict("小区路边的一盏路灯晚上不亮了") == "repair"      # a street lamp: 报修, not 矛盾纠纷
    assert predict("楼下的窨井盖丢了 路上一个黑窟窿") == "repair"     # a manhole cover missing: 报修
    assert predict("消防通道被杂物堵死了 物业不管") == "complaint"     # a blocked fire exit: 投诉
    assert predict("楼上邻居天天半夜跺脚 说他还骂人") == "dispute"
    assert predict("想要一个助听器 老人耳朵不好") == "wish"


def test_the_numpy_runtime_matches_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rows = kinds.training_rows()
    texts = [kinds.normalize(t) for t, _ in rows]
    vec = TfidfVectorizer(analyzer="char", ngram_range=kinds.NGRAMS, sublinear_tf=True, lowercase=False)
    clf = LogisticRegression(C=kinds.C_REG, max_iter=3000, class_weight="balanced", random_state=0)
    clf.fit(vec.fit_transform(texts), [k for _, k in rows])
    model = kinds.train(rows)
    probe = [t for t, _ in kinds.eval_rows()[:40]]
    expected = clf.predict_proba(vec.transform([kinds.normalize(t) for t in probe]))
    got = np.array([model.scores(t) for t in probe])
    assert np.allclose(got, expected, atol=1e-3)
