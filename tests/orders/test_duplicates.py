"""疑似重复 at intake (issue 20, item 1): candidates in the same grid and level-2 category, created or
resolved within DUPLICATE_WINDOW_DAYS, with similar text; their quality on a hand-written set of
near-duplicates and look-alikes (tests/fixtures/duplicate_pairs.json); staff see them, residents never."""
import json
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from backend import clock
from backend.orders import duplicates
from backend.orders.models import Order
from tests.console.test_console import _login

FIXTURES = Path(__file__).parents[1] / "fixtures"
PAIRS = json.loads((FIXTURES / "duplicate_pairs.json").read_text("utf-8"))["pairs"]
# Written after the rules and the threshold were chosen on PAIRS, and scored once: text alone decides.
HELD_OUT = json.loads((FIXTURES / "duplicate_pairs_held_out.json").read_text("utf-8"))["pairs"]
THRESHOLD = 0.3  # DUPLICATE_MIN_SCORE's default


def _side(text, grid, category):
    return SimpleNamespace(text=text, grid_id=grid, building_id=None, category=category)


def quality(threshold=THRESHOLD, pairs=PAIRS):
    tp = fp = fn = 0
    for p in pairs:
        a = _side(p["a"], 1, p["ca"])
        b = _side(p["b"], 1 if p["place"] == "same" else 2, p["cb"])
        said, _ = duplicates.is_duplicate(a, b, threshold)
        tp += said and p["duplicate"]
        fp += said and not p["duplicate"]
        fn += p["duplicate"] and not said
    return tp / (tp + fp), tp / (tp + fn)


def test_precision_and_recall_on_the_pair_set():
    assert len(PAIRS) >= 40 and sum(p["duplicate"] for p in PAIRS) >= 15
    precision, recall = quality()
    print(f"duplicate suggestion: precision {precision:.2f}, recall {recall:.2f} on {len(PAIRS)} pairs")
    assert precision >= 0.8 and recall >= 0.8


def test_precision_and_recall_on_the_held_out_pairs():
    """The figures on pairs the rule was not fitted to (the closing note and BENCHMARKS.md quote
    them): much lower than on PAIRS — shared place words (南门, 学校门口, 车库) make look-alikes score,
    and synonyms (煤气/燃气, 停水/没水, 护栏/栏杆) share no characters. A floor under what was measured
    (0.56 / 0.56), so a change that makes it worse is seen; not a target."""
    assert len(HELD_OUT) == 32 and all(p["place"] == "same" and p["ca"] == p["cb"] for p in HELD_OUT)
    assert sum(p["duplicate"] for p in HELD_OUT) == 16
    precision, recall = quality(pairs=HELD_OUT)
    print(f"duplicate suggestion, held out: precision {precision:.2f}, recall {recall:.2f} on {len(HELD_OUT)} pairs")
    assert precision >= 0.55 and recall >= 0.55


def test_the_same_words_about_another_building_number_are_no_duplicate():
    assert duplicates.similarity("7号楼下水道堵了，污水冒出来", "9号楼下水道堵了，污水冒出来") == 0
    assert duplicates.similarity("三号楼门口路灯不亮了", "3号楼门口的路灯不亮！") > 0.9


def test_staff_see_the_candidates_with_a_score_residents_never(client, auth, make, db, redis, city):
    lamp = make.order(city["resident"], text="3号楼门口的路灯不亮了，晚上很黑")
    make.order(make.resident(), text="3号楼门口有人乱扔垃圾")  # same place, another problem
    make.order(make.resident(), text="3号楼门口的路灯不亮了", location_text="水晶城小区8号楼1单元")  # grid 2
    other_kind = make.order(make.resident(), text="3号楼门口路灯不亮", category="城乡建设/市政设施/路灯")
    old = make.order(make.resident(), text="3号楼门口路灯坏了")
    db.session.get(Order, old.id).created_at = clock.now() - timedelta(days=30)
    db.session.commit()

    worker = auth.headers_for(city["workers"][0])
    answer = client.post("/api/v1/intake", json={
        "channel": "hotline", "text": "三号楼门口路灯坏了，晚上走路看不见", "location_text": "水晶城小区3号楼2单元",
        "category": "城乡建设/住房保障与房地产/物业服务", "caller_phone": "13800138000"}, headers=worker)
    assert answer.status_code == 201, answer.get_json()
    found = answer.get_json()["possible_duplicates"]
    assert [c["number"] for c in found] == [lamp.number], found  # not the other grid, category, or old one
    assert found[0]["state"] == "submitted" and 0.3 <= found[0]["score"] <= 1
    assert other_kind.number not in json.dumps(answer.get_json())

    # an action's answer does not score the grid again (intake and the console page only); the
    # resident's view of the same order never names them
    claimed = client.post(f"/api/v1/orders/{lamp.number}/claim", json={}, headers=worker)
    assert claimed.status_code == 200 and claimed.get_json()["possible_duplicates"] is None
    mine = client.get(f"/api/v1/orders/{lamp.number}", headers=auth.headers_for(city["resident"]))
    assert mine.status_code == 200 and "possible_duplicates" not in mine.get_json()
    assert answer.get_json()["number"] not in mine.get_data(as_text=True)


def test_a_resolved_order_within_the_window_is_a_candidate_a_closed_one_is_not(app, make, db, city):
    lamp = make.order(city["resident"], text="3号楼门口的路灯不亮了")
    order = db.session.get(Order, lamp.id)
    order.created_at = clock.now() - timedelta(days=20)
    db.session.commit()
    new = make.order(make.resident(), text="3号楼门口路灯不亮，请修一下")
    assert duplicates.candidates(db.session.get(Order, new.id)) == []  # created 20 days ago, open
    order.resolved_at = clock.now() - timedelta(days=2)
    db.session.commit()
    assert [c["number"] for c in duplicates.candidates(db.session.get(Order, new.id))] == [lamp.number]
    app.config["DUPLICATE_WINDOW_DAYS"] = 1
    try:
        assert duplicates.candidates(db.session.get(Order, new.id)) == []
    finally:
        app.config["DUPLICATE_WINDOW_DAYS"] = 7


def test_the_console_order_page_links_the_candidates(client, make, db, city):
    lamp = make.order(city["resident"], text="3号楼门口的路灯不亮了")
    new = make.order(make.resident(), text="3号楼门口路灯坏了好几天了")
    _login(client, city["workers"][0])
    page = client.get(f"/console/orders/{new.number}").get_data(as_text=True)
    assert "疑似重复" in page and f'/console/orders/{lamp.number}"' in page and "相似度" in page
