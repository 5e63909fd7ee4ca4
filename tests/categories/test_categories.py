"""Order categories: the standard taxonomy, the frozen evaluation sets, the loaded model and its gate.

Plain functions, no app fixtures, no network. The model is the build-time one (scripts/category-train.sh),
loaded from the cache; if absent, the first use trains it once.
"""
import hashlib

import numpy as np
import pytest

from backend.categories import classify, get_classifier, get_taxonomy, is_confident, is_valid, labels, lookup, predict_top
from backend.categories import classifier as C, compose, evaluate, model as M, real, training
from backend.categories.taxonomy import DATA_DIR

TOP_LEVELS = ["城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生",
              "民政", "政法", "农村农业", "国土资源", "经济管理", "科技与信息产业", "党务政务", "纪检监察"]
# The evaluation sets were frozen before any tuning (commit 551a063): changing them is not allowed.
FROZEN = {
    "board.tsv": "0060f56ec941616406eecf8a5c7a7092cdd22ca1471ea32c6bb3c1eb420d19cc",
    "chat.tsv": "75e6eb19cdc636aebb3a25468cf3f9696a0d9e2be3f4efb03766ec333839fcea",
    "issues.yml": "03138b6c110a8bd88c04755384a81ad45c102c78e477b4da1616dbd87ae940cd",
}
# The real messages (issue 25): the frozen real fold is fold 0 of this file (backend/categories/real.py).
REAL_DIGEST = "135ccbfb8a0fbad6e576b44a26e92dcf5cc2dc8929649c36ab82d4df1f19dc9e"


def test_standard_taxonomy_15_117_517_plus_community_nodes():
    tax = get_taxonomy()
    assert labels(1) == TOP_LEVELS
    assert len(labels(2)) == 118  # the standard file has 118 level-2 paths
    standard = [c for c in tax.level3() if not c.community]
    assert len(standard) == 517
    community = [c.path for c in tax.level3() if c.community]
    assert "政法/社会治安/文明养犬" in community and len(community) == 6
    codes = [c.code for c in tax.all()]
    assert len(codes) == len(set(codes)) and all(c.isascii() for c in codes)


def test_conventions_and_lookup():
    # the standard's non-guessable placements
    assert is_valid("城乡建设/城市建设和市政管理/公共汽车") and is_valid("城乡建设/城市建设和市政管理/冬季采暖")
    assert is_valid("政法/交通管理") and is_valid("政法/户籍证件/户籍管理")
    p = lookup("城乡建设/住房保障与房地产/物业服务")
    assert lookup(p.code) == p and p.level == 3 and p.level2_path == "城乡建设/住房保障与房地产"
    assert lookup(" 城乡建设 / 住房保障与房地产 ").level == 2
    assert is_valid("城乡建设/住房保障与房地产", leaf_only=True) and not is_valid("城乡建设", leaf_only=True)
    assert not is_valid("城乡建设/物业管理") and not is_valid("") and not is_valid(None)  # old path: gone


def test_evaluation_sets_are_frozen_and_big_enough():
    for name, digest in FROZEN.items():
        assert hashlib.sha256((DATA_DIR / "eval" / name).read_bytes()).hexdigest() == digest, name
    assert hashlib.sha256((DATA_DIR / real.REAL_FILE).read_bytes()).hexdigest() == REAL_DIGEST
    sets = evaluate.eval_sets()
    assert len(sets["board_full"]) >= 500 and len(sets["chat"]) >= 300
    assert len({p.split("/")[0] for _, p in sets["board_full"]}) >= 7
    for _, path in sets["board_full"] + sets["chat"]:
        assert is_valid(path, leaf_only=True), path


def test_training_data_covers_every_level2_and_never_contains_an_evaluation_text():
    data = training.examples()
    tax = get_taxonomy()
    covered = {"/".join(p.split("/")[:2]) for _, p in data if p}
    assert covered == set(labels(2))
    assert all(tax.is_valid(p, leaf_only=True) for _, p in data if p)
    reals = training.real_examples()
    assert len(reals) > 10000 and {label for _, label, _ in reals} <= set(TOP_LEVELS)
    train_texts = {t for t, _ in data} | {t for t, _, _ in reals}
    sets = evaluate.eval_sets()
    assert len(sets["real_full"]) > 2000 and len(sets["real_titles"]) > 1500
    leaked = [t for name in ("real_titles", "real_full", "board_titles", "board_full", "chat")
              for t, _ in sets[name] if t in train_texts]
    assert not leaked, leaked[:5]
    # nor a real test message's title or body as a training text, or inside one
    frozen = real.frozen_fold()
    pieces = {real._norm(x) for r in frozen for x in (r.title, r.body) if x}
    trained = {real._norm(x) for r in real.training_rows() for x in (r.title, r.body) if x}
    assert not pieces & trained
    # and, whitespace and case aside, no evaluation text of any set (nor a frozen title or body alone)
    # is any training text, written (phrases, written chat, chatter) or real (rows and their titles)
    every_trained = {real._norm(t) for t in train_texts} | trained
    every_evaluated = {real._norm(t) for name in ("real_titles", "real_full", "board_titles", "board_full", "chat")
                       for t, _ in sets[name]} | pieces
    assert not every_trained & every_evaluated, sorted(every_trained & every_evaluated)[:5]
    assert compose.compose(DATA_DIR) == compose.compose(DATA_DIR)  # deterministic → cache key is exact


@pytest.mark.parametrize("text, level1", [
    ("3号楼2单元楼道灯坏了好几天了", "城乡建设"),
    ("医保卡刷不了", "劳动和社会保障"),
    ("暖气一点都不热", "城乡建设"),           # 冬季采暖 sits under 城乡建设
    ("孩子的户口怎么落", "政法"),              # 户籍证件 sits under 政法
    ("楼下烧烤店油烟太大了", "环境保护"),
    ("饭店的菜吃了拉肚子 后厨太脏", "卫生计生"),
    ("怎么申请低保", "民政"),
])
def test_unambiguous_sentences(text, level1):
    p = classify(text)
    assert p.level1 == level1, p
    assert is_valid(p.path, leaf_only=True) and lookup(p.code).path == p.path
    assert 0.0 <= p.level2_confidence <= p.confidence <= 1.0
    if p.level3:
        assert p.path.endswith("/" + p.level3) and p.level3_confidence <= p.level2_confidence


@pytest.mark.parametrize("text", ["嗯嗯", "asdf", "好的谢谢", "在不在", "哈喽", ""])
def test_chatter_is_below_the_calibrated_threshold(text):
    p = classify(text)
    assert not is_confident(p), p
    assert p.threshold == get_classifier().threshold


def test_predict_top_and_explicit_threshold():
    top = predict_top("楼上天天装修吵得睡不着", k=3)
    assert len(top) == 3 and len({t.level1 for t in top}) == 3
    assert [t.confidence for t in top] == sorted((t.confidence for t in top), reverse=True)
    p = top[0]
    assert is_confident(p, 0.0) and not is_confident(p, 1.01)


def test_model_is_loaded_from_the_cache_not_fitted():
    clf = get_classifier()
    assert clf is get_classifier()
    assert training.model_path().exists()
    assert clf.model.meta["fingerprint"] == training.model_path().stem
    assert clf.model.nbytes() < 100e6


def test_acceptance_rule_loses_nothing():
    old = {s: {"top_level_accuracy": 0.8, "level2_accuracy": 0.7} for s in evaluate.TARGETS}
    same = {s: dict(v) for s, v in old.items()}
    better = {s: {"top_level_accuracy": 0.85, "level2_accuracy": 0.7} for s in evaluate.TARGETS}
    worse = {s: dict(v) for s, v in better.items()}
    worse["chat"]["level2_accuracy"] = 0.69
    assert evaluate.accepted(same, old) and evaluate.accepted(better, old)
    assert not evaluate.accepted(worse, old)


def test_real_folds_keep_a_message_together():
    rows = real.rows()
    assert len(rows) == 13121
    folds = real.folds()
    assert sum(map(len, folds)) == len(rows) and min(map(len, folds)) > 2000
    fold_of = {r.index: i for i, f in enumerate(folds) for r in f}
    by_text = {}
    for r in rows:
        for key in (("t", real._norm(r.title)), ("b", real._norm(r.body))):
            if key[1]:
                assert by_text.setdefault(key, fold_of[r.index]) == fold_of[r.index], key
    # a body-only row that repeats a title's words sits in that title's fold
    titled = next(r for r in rows if r.title and len(r.title) > 12 and not r.body)
    body_only = [r for r in rows if not r.title and real._norm(titled.title) in real._norm(r.body)]
    assert all(fold_of[r.index] == fold_of[titled.index] for r in body_only)


def test_input_is_read_up_to_max_chars():
    tok = get_classifier().model._tok
    long = "楼道灯坏了，晚上黑漆漆的。" * 2000
    assert M.MAX_CHARS == 2000
    assert M.features(long, tok) == M.features(long[:M.MAX_CHARS], tok)
    clf = get_classifier()
    clf.classify(long)
    import time
    t0 = time.perf_counter()
    clf.classify(long)
    t_long = time.perf_counter() - t0
    assert t_long < 0.5, t_long   # 26,000 characters; 2,000 take ~15 ms


def test_frozen_sets_meet_the_gate():
    r = evaluate.evaluate()
    assert evaluate.gate_failures(r) == [], {s: r[s]["confusions"][:5] for s in evaluate.gate_failures(r)}


def test_the_gate_fails_on_a_damaged_model():
    """A model whose level 1 confuses two big real top levels (their weights swapped, in both parts of
    level 1) must fail the gate."""
    path = training.model_path()
    damaged = C.load(path)
    assert set(damaged.model.layers) >= {"l1", "l1r"}
    swapped = []
    for name in ("l1", "l1r"):
        layer = damaged.model.layers[name]
        W = np.array(layer.W, dtype=np.float16)
        a, b = layer.classes.index("城乡建设"), layer.classes.index("环境保护")
        W[:, [a, b]] = W[:, [b, a]]
        layer.W = W
        swapped.append(W)
    r = evaluate.evaluate(damaged)
    assert "real_full" in evaluate.gate_failures(r)
    shipped = get_classifier().model.layers
    assert shipped["l1"].W is not swapped[0] and shipped["l1r"].W is not swapped[1]   # the shipped model is untouched
