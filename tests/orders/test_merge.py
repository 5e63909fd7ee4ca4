"""合并工单 (issue 20, item 3): staff close a duplicate into its original and undo it, each change one
transaction with an event on both orders; the duplicate's reporter becomes a co-reporter of the
original, its photos stay, and 督办 of the merged duplicate goes to the original."""
from sqlalchemy import select

from backend.accounts.actors import Actor
from backend.orders import figures
from backend.orders.models import CoReporter, Order, OrderEvent


def _events(db, order_id, action):
    return list(db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id,
                                                            OrderEvent.action == action)))


def _pair(make, city):
    original = make.order(city["resident"], text="3号楼门口路灯不亮")
    duplicate = make.order(make.resident(), text="3号楼前面的路灯坏了，晚上很黑",
                           photos=["https://img.example/lamp-dup.jpg"])
    return original, duplicate


def test_staff_merge_and_unmerge_with_their_events(client, auth, make, db, redis, city):
    original, duplicate = _pair(make, city)
    worker = auth.headers_for(city["workers"][0])
    url = f"/api/v1/orders/{duplicate.number}"

    merged = client.post(url + "/merge", json={"original": original.number, "note": "同一盏路灯"}, headers=worker)
    assert merged.status_code == 200, merged.get_json()
    assert merged.get_json()["state"] == "merged" and merged.get_json()["merged_into"] == original.number
    db.session.expire_all()
    dup, orig = db.session.get(Order, duplicate.id), db.session.get(Order, original.id)
    assert dup.state == "merged" and dup.merged_into_id == orig.id and dup.due_at is None
    assert [c.resident_id for c in orig.co_reporters] == [dup.resident_id]
    assert orig.co_reporters[0].from_order_id == dup.id
    assert [a.url for a in dup.attachments] == ["https://img.example/lamp-dup.jpg"]  # photos kept
    on_dup, on_orig = _events(db, dup.id, "merge"), _events(db, orig.id, "merge")
    assert len(on_dup) == 1 and on_dup[0].data["original"] == orig.number and on_dup[0].data["photos"] == 1
    assert (on_dup[0].from_state, on_dup[0].to_state) == ("submitted", "merged")
    assert len(on_orig) == 1 and on_orig[0].data["duplicate"] == dup.number
    assert (on_orig[0].from_state, on_orig[0].to_state) == ("submitted", "submitted")
    assert on_orig[0].note == "同一盏路灯"
    admin = Actor.for_staff(city["community_admin"])
    assert figures.dashboard(admin)["month"]["received"] == 1  # one problem, not two

    # 督办 of the merged duplicate presses whoever holds the original
    pressed = client.post(url + "/supervise", json={"note": "请尽快修好"}, headers=auth.headers_for(city["leader"]))
    assert pressed.status_code == 200, pressed.get_json()
    assert pressed.get_json()["number"] == original.number
    assert len(_events(db, orig.id, "supervise")) == 1 and not _events(db, dup.id, "supervise")

    undone = client.post(url + "/unmerge", json={"reason": "不是同一盏灯"}, headers=worker)
    assert undone.status_code == 200, undone.get_json()
    db.session.expire_all()
    dup, orig = db.session.get(Order, duplicate.id), db.session.get(Order, original.id)
    assert dup.state == "submitted" and dup.merged_into_id is None and dup.due_at is not None
    assert orig.co_reporters == []
    assert db.session.scalar(select(CoReporter).where(CoReporter.order_id == orig.id)) is None
    assert len(_events(db, dup.id, "unmerge")) == 1 and len(_events(db, orig.id, "unmerge")) == 1
    assert _events(db, orig.id, "unmerge")[0].data["co_reporters"] == [dup.resident_id]
    assert figures.dashboard(admin)["month"]["received"] == 2


def test_no_undo_once_the_original_is_resolved(client, auth, make, db, redis, city):
    original, duplicate = _pair(make, city)
    worker = auth.headers_for(city["workers"][0])
    assert client.post(f"/api/v1/orders/{duplicate.number}/merge", json={"original": original.number},
                       headers=worker).status_code == 200
    client.post(f"/api/v1/orders/{original.number}/claim", json={}, headers=worker)
    assert client.post(f"/api/v1/orders/{original.number}/resolve", json={"result": "已换灯泡"},
                       headers=worker).status_code == 200
    refused = client.post(f"/api/v1/orders/{duplicate.number}/unmerge", json={"reason": "撤销"}, headers=worker)
    assert refused.status_code == 409
    assert "撤销合并" in refused.get_json()["error"]["message"]
    assert db.session.get(Order, duplicate.id).state == "merged"


def test_a_merge_names_an_open_order_the_worker_sees(client, auth, make, db, redis, city):
    original, duplicate = _pair(make, city)
    worker = auth.headers_for(city["workers"][0])
    url = f"/api/v1/orders/{duplicate.number}/merge"
    assert client.post(url, json={"original": duplicate.number}, headers=worker).status_code == 422
    assert client.post(url, json={"original": "HX00000000-0000"}, headers=worker).status_code == 422
    elsewhere = make.order(make.resident(), location_text="水晶城小区8号楼1单元")  # grid 2: not w1's
    answer = client.post(url, json={"original": elsewhere.number}, headers=worker)
    assert answer.status_code == 422 and "没有找到" in answer.get_json()["error"]["message"]
    # an order others were merged into is no duplicate itself (no chains)
    third = make.order(make.resident())
    assert client.post(f"/api/v1/orders/{third.number}/merge", json={"original": duplicate.number},
                       headers=worker).status_code == 200
    chained = client.post(url, json={"original": original.number}, headers=worker)
    assert chained.status_code == 409
    db.session.expire_all()
    assert db.session.get(Order, duplicate.id).state == "submitted"
