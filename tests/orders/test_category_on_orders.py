"""A new order gets its category from the loaded model when the model is confident enough:
CATEGORY_CONFIDENCE_THRESHOLD when set, else the model's own threshold (calibrated at build time)."""
from backend.categories import classify, get_classifier


def test_confident_text_gets_a_standard_path_and_chatter_is_left_for_the_worker(app, make, monkeypatch):
    monkeypatch.setitem(app.config, "CATEGORY_CONFIDENCE_THRESHOLD", None)
    resident = make.resident()
    heating = make.order(resident, text="家里暖气一点都不热 屋里才十二度", category=None)
    expected = classify("家里暖气一点都不热 屋里才十二度 水晶城小区3号楼2单元")
    assert expected.confidence >= get_classifier().threshold
    assert heating.category == expected.path and heating.category.startswith("城乡建设/城市建设和市政管理")
    assert heating.category_confidence == round(expected.confidence, 3)
    vague = make.order(resident, text="麻烦问一下", location_text=None, category=None)  # ("嗯嗯" is asked back: meaningless)
    assert vague.category is None and "unclassified" in vague.flags


def test_configured_threshold_overrides_the_models(app, make, monkeypatch):
    monkeypatch.setitem(app.config, "CATEGORY_CONFIDENCE_THRESHOLD", 1.01)  # nothing is that sure: all to a person
    order = make.order(make.resident(), text="家里暖气一点都不热 屋里才十二度", category=None)
    assert order.category is None and "unclassified" in order.flags
