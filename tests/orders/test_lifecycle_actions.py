"""The staff actions and ticks the lifecycle table added: archiving (归档, 未评价), 派单, category and
grade corrections, and transfer/place kept inside the actor's scope."""
from datetime import timedelta

from sqlalchemy import select

from backend import clock
from backend.accounts.actors import Actor
from backend.dispatch import claims, ticks
from backend.orders import services as orders
from backend.orders.models import Order, OrderEvent


def _resolved(make, city):
    order = make.order(city["resident"])
    worker = Actor.for_staff(city["workers"][0])
    claims.claim(worker, order.number)
    return claims.act(worker, order.number, "resolve", result="已更换灯泡")


def test_resolved_unrated_order_is_archived_as_unrated_after_n_days(app, db, redis, make, city):
    order = _resolved(make, city)
    rated = _resolved(make, city)
    orders.rate(Actor.for_resident(city["resident"]), rated, "satisfied")
    clock.travel(timedelta(days=app.config["ARCHIVE_RATED_AFTER_DAYS"], hours=1))
    assert ticks.archive_tick() == {"rated": 1, "unrated": 0, "skipped": 0}
    db.session.expire_all()
    assert db.session.get(Order, order.id).state == "resolved"  # its N days are not over yet
    clock.travel(timedelta(days=app.config["ARCHIVE_UNRATED_AFTER_DAYS"]))
    assert ticks.archive_tick() == {"rated": 0, "unrated": 1, "skipped": 0}
    db.session.expire_all()
    archived = db.session.get(Order, order.id)
    assert archived.state == "closed" and "unrated" in archived.flags and archived.satisfaction is None
    assert archived.events[-1].action == "close" and archived.events[-1].data["unrated"] is True
    assert db.session.get(Order, rated.id).state == "closed"
    assert ticks.archive_tick() == {"rated": 0, "unrated": 0, "skipped": 0}  # idempotent


def test_rating_scale_closes_or_reopens(db, redis, make, city, client, auth):
    resident = city["resident"]
    for body, state in (({"satisfaction": "基本满意"}, "rated"), ({"score": 3}, "rated"),
                        ({"satisfaction": "unsatisfied", "comment": "灯还是不亮"}, "reopened"),
                        ({"score": 2}, "reopened")):
        order = _resolved(make, city)
        answer = client.post(f"/api/v1/orders/{order.number}/rating", json=body, headers=auth.headers_for(resident))
        assert answer.status_code == 200, answer.json
        assert answer.json["state"] == state, body
        assert answer.json["satisfaction"] in ("basically_satisfied", "unsatisfied")
    refused = client.post(f"/api/v1/orders/{order.number}/rating", json={}, headers=auth.headers_for(resident))
    assert refused.status_code == 422 and "satisfaction" in refused.json["error"]["fields"]


def test_a_worker_cannot_transfer_or_place_outside_their_scope(db, redis, make, city, client, auth):
    elsewhere = make.grid(make.community(make.street()))  # another street's grid
    order = make.order(city["resident"])
    worker = city["workers"][0]
    moved = client.post(f"/api/v1/orders/{order.number}/transfer", json={"reason": "不归我们", "grid": elsewhere.code},
                        headers=auth.headers_for(worker))
    assert moved.status_code == 403 and moved.json["error"]["code"] == "target_out_of_scope"
    pooled = make.order(city["resident"], location_text="东门岗亭旁边")
    admin = city["community_admin"]
    placed = client.post(f"/api/v1/orders/{pooled.number}/place", json={"grid": elsewhere.code},
                         headers=auth.headers_for(admin))
    assert placed.status_code == 403
    db.session.expire_all()
    assert db.session.get(Order, order.id).grid_id == city["grids"][0].id
    assert db.session.get(Order, pooled.id).grid_id is None
    assert db.session.scalar(select(OrderEvent).where(OrderEvent.action.in_(("transfer", "place")))) is None
    # a neighbour grid of the same community is the worker's to send to
    ok = client.post(f"/api/v1/orders/{order.number}/transfer", json={"reason": "在8号楼", "grid": city["grids"][1].code},
                     headers=auth.headers_for(worker))
    assert ok.status_code == 200 and ok.json["grid"] == city["grids"][1].code


def test_a_leader_assigns_to_a_worker_who_sees_it_in_mine(db, redis, make, city, client, auth):
    order = make.order(city["resident"])
    leader, worker = city["leader"], city["workers"][0]
    before = client.get("/api/v1/queue", headers=auth.headers_for(worker)).json
    assert [o["number"] for o in before["waiting"]] == [order.number]
    assert "assign" in client.get(f"/api/v1/orders/{order.number}", headers=auth.headers_for(leader)).json["allowed_actions"]
    assigned = client.post(f"/api/v1/orders/{order.number}/assign", json={"assignee": worker.username},
                           headers=auth.headers_for(leader))
    assert assigned.status_code == 200, assigned.json
    assert assigned.json["state"] == "claimed" and assigned.json["assignee"] == worker.name
    mine = client.get("/api/v1/queue", headers=auth.headers_for(worker)).json
    assert [o["number"] for o in mine["mine"]] == [order.number] and mine["waiting"] == []
    assert "resolve" in mine["mine"][0]["allowed_actions"]
    # a worker of another grid cannot be given the order, and a worker cannot assign
    other = client.post(f"/api/v1/orders/{make.order(city['resident']).number}/assign",
                        json={"assignee": city["workers"][1].username}, headers=auth.headers_for(leader))
    assert other.status_code == 422 and "assignee" in other.json["error"]["fields"]
    refused = client.post(f"/api/v1/orders/{make.order(city['resident']).number}/assign",
                          json={"assignee": worker.username}, headers=auth.headers_for(worker))
    assert refused.status_code == 403


def test_staff_correct_the_category_and_set_the_grade(db, redis, make, city, client, auth):
    from backend.categories import taxonomy
    order = make.order(city["resident"], flags=["unclassified"])
    old_path = order.category
    new_path = next(p for p in taxonomy.labels(2) if p != old_path)
    admin = city["community_admin"]
    fixed = client.post(f"/api/v1/orders/{order.number}/category", json={"category": new_path, "note": "是噪音"},
                        headers=auth.headers_for(admin))
    assert fixed.status_code == 200, fixed.json
    assert fixed.json["category"] == new_path and "unclassified" not in fixed.json["flags"]
    event = db.session.scalars(select(OrderEvent).where(OrderEvent.action == "correct_category")).one()
    assert event.data == {"from": old_path, "to": new_path} and event.note == "是噪音"
    bad = client.post(f"/api/v1/orders/{order.number}/category", json={"category": "没有/这一类"},
                      headers=auth.headers_for(admin))
    assert bad.status_code == 422
    due_before = fixed.json["due_at"]
    urgent = client.post(f"/api/v1/orders/{order.number}/grade", json={"grade": "urgent"}, headers=auth.headers_for(admin))
    assert urgent.status_code == 200 and urgent.json["grade"] == "urgent"
    assert urgent.json["due_at"] < due_before  # an urgent order is due sooner
    by_worker = client.post(f"/api/v1/orders/{order.number}/grade", json={"grade": "normal"},
                            headers=auth.headers_for(city["workers"][0]))
    assert by_worker.status_code == 403
