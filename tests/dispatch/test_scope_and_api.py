"""The worker / staff API: scope, the ladder's permissions, and each action."""
from sqlalchemy import func, select

from backend.notifications.models import Notification
from backend.orders.models import Order, OrderEvent


def _snapshot(db, number):
    db.session.rollback()
    order = db.session.scalar(select(Order).where(Order.number == number))
    events = db.session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id == order.id))
    return order.state, order.version, order.assignee_id, order.grid_id, events


def test_a_worker_cannot_list_claim_or_act_on_another_grids_order(db, redis, make, city, client, auth):
    theirs = make.order(city["resident"], location_text="水晶城小区8号楼")  # grid 2
    mine = make.order(city["resident"], location_text="水晶城小区3号楼")    # grid 1
    me = auth.headers_for(city["workers"][0])
    listed = client.get("/api/v1/queue", headers=me).json
    assert [o["number"] for o in listed["waiting"]] == [mine.number]
    before = _snapshot(db, theirs.number)
    for action, body in [("claim", {}), ("release", {}), ("progress", {"note": "x"}),
                         ("resolve", {"result": "x"}), ("escalate", {"reason": "x"}),
                         ("transfer", {"reason": "x", "grid": city["grids"][0].code}),
                         ("place", {"grid": city["grids"][0].code}), ("supervise", {"note": "x"})]:
        response = client.post(f"/api/v1/orders/{theirs.number}/{action}", json=body, headers=me)
        assert response.status_code in (403, 404), (action, response.json)
    assert _snapshot(db, theirs.number) == before
    assert redis.zscore(f"rm:q:grid:{city['grids'][1].id}", theirs.number) is not None
    # The other grid's worker claims it while someone else's claim on it changed nothing.
    ok = client.post(f"/api/v1/orders/{theirs.number}/claim", json={}, headers=auth.headers_for(city["workers"][1]))
    assert ok.status_code == 200 and ok.json["state"] == "claimed"
    # … and the first grid's worker cannot work on it now either.
    assert client.post(f"/api/v1/orders/{theirs.number}/progress", json={"note": "x"}, headers=me).status_code == 404


def test_grid_leader_and_admins_see_below_them_but_not_sideways(db, redis, make, city, client, auth):
    o1 = make.order(city["resident"], location_text="水晶城小区3号楼")
    o2 = make.order(city["resident"], location_text="水晶城小区8号楼")
    pooled = make.order(city["resident"], location_text="不知道哪里")
    def numbers(who):
        return {o["number"] for o in client.get("/api/v1/queue", headers=auth.headers_for(who)).json["waiting"]}
    assert numbers(city["leader"]) == {o1.number}
    assert numbers(city["leader2"]) == {o2.number}
    assert numbers(city["community_admin"]) == {o1.number, o2.number, pooled.number}
    assert numbers(city["street_admin"]) == {o1.number, o2.number, pooled.number}
    assert numbers(city["liaison"]) == set()
    stranger = make.staff("community_admin", community=make.community())
    assert numbers(stranger) == set()
    assert client.post(f"/api/v1/orders/{o1.number}/claim", json={},
                       headers=auth.headers_for(stranger)).status_code == 404


def test_worker_flow_claim_progress_resolve(db, redis, make, city, client, auth):
    order = make.order(city["resident"])
    me = auth.headers_for(city["workers"][0])
    claimed = client.post(f"/api/v1/orders/{order.number}/claim", json={}, headers=me)
    assert claimed.status_code == 200 and claimed.json["assignee"] == city["workers"][0].name
    again = client.post(f"/api/v1/orders/{order.number}/claim", json={}, headers=me)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_claimed"
    mine = client.get("/api/v1/queue", headers=me).json["mine"]
    assert [o["number"] for o in mine] == [order.number] and mine[0]["due_at"]
    step = client.post(f"/api/v1/orders/{order.number}/progress",
                       json={"note": "已联系物业", "photos": ["https://img.example/1.jpg"]}, headers=me)
    assert step.json["state"] == "in_progress" and step.json["photos"] == ["https://img.example/1.jpg"]
    assert client.post(f"/api/v1/orders/{order.number}/resolve", json={}, headers=me).status_code == 422
    done = client.post(f"/api/v1/orders/{order.number}/resolve",
                       json={"result": "灯已换好", "photos": ["https://img.example/2.jpg"]}, headers=me)
    assert done.status_code == 200 and done.json["state"] == "resolved" and done.json["result"] == "灯已换好"
    assert [e["action"] for e in done.json["events"]] == ["submit", "claim", "progress", "resolve"]


def test_another_worker_of_the_same_grid_cannot_work_on_my_claim_but_the_leader_can(db, redis, make, city, client, auth):
    order = make.order(city["resident"])
    colleague = make.staff("grid_worker", grid=city["grids"][0])
    client.post(f"/api/v1/orders/{order.number}/claim", json={}, headers=auth.headers_for(city["workers"][0]))
    response = client.post(f"/api/v1/orders/{order.number}/progress", json={"note": "x"},
                           headers=auth.headers_for(colleague))
    assert response.status_code == 403
    released = client.post(f"/api/v1/orders/{order.number}/release", json={"note": "请假"},
                           headers=auth.headers_for(city["leader"]))
    assert released.status_code == 200 and released.json["state"] == "submitted"
    assert redis.zscore(f"rm:q:grid:{city['grids'][0].id}", order.number) is not None


def test_another_worker_of_the_same_grid_cannot_move_my_claim_away(db, redis, make, city, client, auth):
    order = make.order(city["resident"])
    colleague = auth.headers_for(make.staff("grid_worker", grid=city["grids"][0]))
    client.post(f"/api/v1/orders/{order.number}/claim", json={}, headers=auth.headers_for(city["workers"][0]))
    before = _snapshot(db, order.number)
    for action, body in (("escalate", {"reason": "x"}),
                         ("transfer", {"reason": "x", "grid": city["grids"][1].code})):
        response = client.post(f"/api/v1/orders/{order.number}/{action}", json=body, headers=colleague)
        assert response.status_code == 403, (action, response.json)
        assert _snapshot(db, order.number) == before


def test_escalate_by_hand_transfer_and_the_ladder_permissions(db, redis, make, city, client, auth):
    order = make.order(city["resident"])
    worker = auth.headers_for(city["workers"][0])
    assert client.post(f"/api/v1/orders/{order.number}/escalate", json={}, headers=worker).status_code == 422
    up = client.post(f"/api/v1/orders/{order.number}/escalate", json={"reason": "需要网格长协调"}, headers=worker)
    assert up.status_code == 200 and (up.json["state"], up.json["rung"]) == ("escalated", "grid_leader")
    # At the leader's rung the worker can no longer take it; the leader can.
    assert client.post(f"/api/v1/orders/{order.number}/claim", json={}, headers=worker).status_code == 403
    notified = db.session.scalars(select(Notification.recipient_id).where(Notification.kind == "escalated", Notification.recipient_type == "staff")).all()
    assert notified == [city["leader"].id]
    leader = auth.headers_for(city["leader"])
    moved = client.post(f"/api/v1/orders/{order.number}/transfer",
                        json={"reason": "属于8号楼", "grid": city["grids"][1].code}, headers=leader)
    assert moved.status_code == 200, moved.json
    assert (moved.json["grid"], moved.json["rung"], moved.json["state"]) == (city["grids"][1].code, "grid_worker", "submitted")
    assert redis.hget("rm:q:where", order.number) == f"rm:q:grid:{city['grids'][1].id}"
    assert client.get(f"/api/v1/orders/{order.number}/claim", headers=leader).status_code == 405
    bad = client.post(f"/api/v1/orders/{order.number}/transfer", json={"reason": "x", "grid": "nope"},
                      headers=auth.headers_for(city["community_admin"]))
    assert bad.status_code == 422


def test_pooled_order_is_placed_by_the_community(db, redis, make, city, client, auth):
    order = make.order(city["resident"], location_text="小区东门那个岗亭旁边")
    assert "unplaced" in order.flags and order.grid_id is None
    assert redis.hget("rm:q:where", order.number) == f"rm:q:pool:{city['community'].id}"
    unplaced = db.session.scalars(select(Notification.recipient_id).where(Notification.kind == "unplaced", Notification.recipient_type == "staff")).all()
    assert unplaced == [city["community_admin"].id]
    assert client.post(f"/api/v1/orders/{order.number}/place", json={"grid": city["grids"][1].code},
                       headers=auth.headers_for(city["workers"][0])).status_code in (403, 404)
    placed = client.post(f"/api/v1/orders/{order.number}/place", json={"grid": city["grids"][1].code},
                         headers=auth.headers_for(city["community_admin"]))
    assert placed.status_code == 200, placed.json
    assert placed.json["grid"] == city["grids"][1].code and "unplaced" not in placed.json["flags"]
    assert placed.json["events"][-1]["action"] == "place"
    assert redis.hget("rm:q:where", order.number) == f"rm:q:grid:{city['grids'][1].id}"
    listed = client.get("/api/v1/queue", headers=auth.headers_for(city["workers"][1])).json["waiting"]
    assert [o["number"] for o in listed] == [order.number]


def test_supervision_lists_and_the_supervise_action(db, redis, make, city, client, auth):
    from datetime import timedelta
    from backend import clock
    late = make.order(city["resident"], grade="urgent")
    clock.travel(timedelta(minutes=9, seconds=30))
    soon = make.order(city["resident"], grade="urgent", text="刚来的")
    clock.travel(timedelta(minutes=1))
    lists = client.get("/api/v1/supervision", headers=auth.headers_for(city["community_admin"])).json
    assert [o["number"] for o in lists["overdue"]] == [late.number]
    assert [o["number"] for o in lists["due_soon"]] == [soon.number]
    other = client.get("/api/v1/supervision", headers=auth.headers_for(city["leader2"])).json
    assert other["overdue"] == [] and other["due_soon"] == []

    client.post(f"/api/v1/orders/{late.number}/claim", json={}, headers=auth.headers_for(city["workers"][0]))
    assert client.post(f"/api/v1/orders/{late.number}/supervise", json={"note": "抓紧"},
                       headers=auth.headers_for(city["workers"][0])).status_code == 403
    pressed = client.post(f"/api/v1/orders/{late.number}/supervise", json={"note": "今天下班前必须处理"},
                          headers=auth.headers_for(city["leader"]))
    assert pressed.status_code == 200 and pressed.json["state"] == "claimed"
    event = db.session.scalars(select(OrderEvent).where(OrderEvent.action == "supervise")).one()
    assert (event.actor_id, event.data["pressed"], event.from_state, event.to_state) == (
        city["leader"].id, [city["workers"][0].id], "claimed", "claimed")
    note = db.session.scalars(select(Notification).where(Notification.kind == "supervise", Notification.recipient_type == "staff")).one()
    # On the worker's console inbox with the commit (console notices need no delivery job).
    assert (note.recipient_type, note.recipient_id, note.status) == ("staff", city["workers"][0].id, "sent")
