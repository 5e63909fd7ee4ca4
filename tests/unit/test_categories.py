"""Order category taxonomy and classifier (backend/categories, data in intents/categories).

Plain functions, no app fixtures, no network.
"""

import pytest

from backend.categories import (
    DEFAULT_THRESHOLD,
    classify,
    get_classifier,
    get_taxonomy,
    is_confident,
    is_valid,
    labels,
    load_examples,
    lookup,
    predict_top,
    split_examples,
    suggest_category,
)
from backend.categories.evaluate import UNSEEN_CHATTER, evaluate

TOP_LEVELS = ["城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生",
              "民政", "政法", "农村农业", "国土资源", "经济管理", "科技与信息产业", "党务政务", "纪检监察"]


def test_taxonomy_has_exactly_the_15_standard_top_levels():
    assert labels(1) == TOP_LEVELS
    tax = get_taxonomy()
    for top in tax.top_levels():
        assert 2 <= len(top.children) <= 6, top.name
        assert top.code.isascii() and top.code.isidentifier()
        for ch in top.children:
            assert ch.code.startswith(top.code + ".") and ch.code.isascii()
            assert ch.path == f"{top.name}/{ch.name}"


def test_lookup_by_path_and_code_and_validation():
    assert lookup("城乡建设/物业管理").code == "urban.property"
    assert lookup("urban.property").path == "城乡建设/物业管理"
    assert lookup("labor").path == "劳动和社会保障"
    assert lookup(" 城乡建设 / 市政设施 ").code == "urban.municipal"
    assert lookup("城乡建设/不存在") is None
    assert is_valid("城乡建设/物业管理") and is_valid("环境保护")
    assert is_valid("城乡建设/物业管理", leaf_only=True) and not is_valid("城乡建设", leaf_only=True)
    assert not is_valid("城乡建设/噪音扰民") and not is_valid("") and not is_valid(None)
    assert not is_valid("urban.property")  # codes are not paths
    codes = [c.code for c in get_taxonomy().all()]
    assert len(codes) == len(set(codes))


def test_training_data_labels_exist_and_each_top_level_has_enough_examples():
    examples = load_examples()  # raises on unknown labels and duplicates
    for e in examples:
        assert is_valid(e.path, leaf_only=True), e
    counts = {t: sum(e.level1 == t for e in examples) for t in TOP_LEVELS}
    assert all(n >= 30 for n in counts.values()), counts
    train, held = split_examples(examples)
    assert held and not set(e.text for e in train) & set(e.text for e in held)
    assert split_examples(load_examples()) == (train, held)  # deterministic


@pytest.mark.parametrize("text, level1", [
    ("3号楼2单元楼道灯坏了好几天了", "城乡建设"),
    ("医保卡刷不了", "劳动和社会保障"),
    ("小区门口的窨井盖没了晚上很危险", "城乡建设"),
    ("楼下烧烤店油烟太大了", "环境保护"),
    ("小区充电桩坏了没法充电", "交通运输"),
    ("孩子上小学报名要什么材料", "教育文体"),
    ("怎么申请低保", "民政"),
    ("饭店的菜吃了拉肚子 后厨太脏", "卫生计生"),
    ("邻居家漏水到我家不肯赔 想请社区调解", "政法"),
])
def test_unambiguous_sentences(text, level1):
    p = classify(text)
    assert p.level1 == level1, p
    assert is_valid(p.path, leaf_only=True) and lookup(p.code).path == p.path
    assert 0.0 <= p.level2_confidence <= p.confidence <= 1.0


@pytest.mark.parametrize("text", ["嗯嗯", "asdf", *UNSEEN_CHATTER, ""])
def test_chatter_is_below_threshold(text):
    p = classify(text)
    assert not is_confident(p), p
    assert not p.is_confident(DEFAULT_THRESHOLD)
    assert suggest_category(text) is None


def test_threshold_parameter_and_predict_top():
    p = classify("医保卡刷不了")
    assert is_confident(p) and is_confident(p, 0.1) and not is_confident(p, 1.01)
    assert suggest_category("医保卡刷不了", threshold=0.2).startswith("劳动和社会保障/")
    top = predict_top("楼上天天装修吵得睡不着", k=3)
    assert len(top) == 3 and len({t.level1 for t in top}) == 3
    assert [t.confidence for t in top] == sorted((t.confidence for t in top), reverse=True)
    assert top[0].to_dict()["path"] == top[0].path


def test_model_is_cached_per_process_and_deterministic():
    assert get_classifier() is get_classifier()
    a = classify("小区里的狗天天叫")
    assert classify("小区里的狗天天叫") == a


def test_held_out_evaluation_meets_target():
    # Fit time is reported (bot/reports/category_report.md), not asserted: timings belong in bench/.
    r = evaluate()
    assert r["counts"]["held_out"] >= 100
    assert r["top_level_accuracy"] >= 0.87, r["top_level_confusions"]
    assert r["top_level_accuracy_without_keywords"] >= 0.65  # examples, not just the keyword lists
    assert r["second_level_accuracy"] >= 0.6
    assert all(c["below_threshold"] for c in r["unseen_chatter"]), r["unseen_chatter"]
