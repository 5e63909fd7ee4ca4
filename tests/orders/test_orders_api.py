from sqlalchemy import func, select

from backend.accounts.actors import SYSTEM, Actor
from backend.orders import services
from backend.orders.models import OrderEvent


def test_resident_creates_lists_and_reads_own_order(client, make, auth):
    world = make.world()
    headers = auth.headers_for(world["resident"])
    created = client.post("/api/v1/orders", json={
        "text": "3号楼2单元楼道灯坏了好几天了", "kind": "repair", "location_text": "水晶城小区3号楼2单元"},
        headers=headers)
    assert created.status_code == 201, created.json
    body = created.json
    assert body["number"].startswith("HX") and body["state"] == "submitted"
    assert body["grid"] == world["grids"][0].name
    assert body["events"][0]["action"] == "submit"
    listed = client.get("/api/v1/orders", headers=headers).json["orders"]
    assert [o["number"] for o in listed] == [body["number"]]
    assert client.get(f"/api/v1/orders/{body['number']}", headers=headers).json["text"] == "3号楼2单元楼道灯坏了好几天了"


def test_resident_cannot_see_anothers_order(client, make, auth):
    order = make.order(make.resident())
    stranger = auth.headers_for(make.resident(openid="someone-else"))
    assert client.get(f"/api/v1/orders/{order.number}", headers=stranger).status_code == 404
    assert client.get("/api/v1/orders", headers=stranger).json["orders"] == []
    response = client.post(f"/api/v1/orders/{order.number}/cancel", json={}, headers=stranger)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_cancel_then_cancel_again_is_409_and_changes_nothing(client, make, auth, db):
    resident = make.resident()
    order = make.order(resident)
    headers = auth.headers_for(resident)
    assert client.post(f"/api/v1/orders/{order.number}/cancel", json={"note": "已自行解决"}, headers=headers).json["state"] == "cancelled"
    events = db.session.scalar(select(func.count()).select_from(OrderEvent))
    again = client.post(f"/api/v1/orders/{order.number}/cancel", json={}, headers=headers)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "invalid_transition"
    assert again.json["error"]["message"] == "这张工单当前是「已撤回」，不能「撤回」"  # in words, no raw codes
    assert db.session.scalar(select(func.count()).select_from(OrderEvent)) == events


def test_rating_an_unresolved_order_is_409(client, make, auth):
    resident = make.resident()
    order = make.order(resident)
    response = client.post(f"/api/v1/orders/{order.number}/rating", json={"score": 5}, headers=auth.headers_for(resident))
    assert response.status_code == 409


def test_staff_token_cannot_create_resident_orders(client, make, auth):
    world = make.world()
    response = client.post("/api/v1/orders", json={"text": "x"}, headers=auth.headers_for(world["workers"][0]))
    assert response.status_code == 403


def test_no_token_is_401_json(client):
    response = client.get("/api/v1/orders")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_forged_token_is_401(client):
    response = client.get("/api/v1/orders", headers={"Authorization": "Bearer not-a-real-token"})
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_token"


def test_phone_of_assignee_never_leaks_and_name_is_masked(client, make, auth):
    world = make.world()
    order = make.order(world["resident"])
    services.perform(Actor.for_staff(world["workers"][0]), order, "claim")
    body = client.get(f"/api/v1/orders/{order.number}", headers=auth.headers_for(world["resident"])).json
    assert body["assignee"] == "陈**"
    assert "phone" not in str(body)


def test_listing_orders_does_not_query_per_order(client, make, auth, db):
    """Photos, grid and assignee of every listed order come in a fixed number of queries."""
    from sqlalchemy import event
    resident = make.resident()
    make.world()
    for i in range(12):
        make.order(resident, text=f"第{i}件", photos=[f"https://img.example/{i}.jpg"])
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)
    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        listed = client.get("/api/v1/orders", headers=auth.headers_for(resident)).json["orders"]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(listed) == 12 and all(o["photos"] for o in listed)
    assert len(statements) <= 8, statements


def test_resident_sees_every_step_but_not_the_notes_staff_write_to_each_other(client, make, auth, redis):
    world = make.world()
    order = make.order(world["resident"])
    leader = Actor.for_staff(world["leader"])
    worker = Actor.for_staff(world["workers"][0])
    services.perform(leader, order, "assign", assignee=world["workers"][0].id, note="张师傅手机13912345678,周末别派他")
    services.perform(worker, order, "progress", note="已联系物业,明天上门")
    services.perform(SYSTEM, order, "note", note="内部:重复投诉人")
    body = client.get(f"/api/v1/orders/{order.number}", headers=auth.headers_for(world["resident"])).json
    steps = {e["action"]: e["note"] for e in body["events"]}
    assert list(steps) == ["submit", "assign", "progress"]
    assert steps["assign"] is None and steps["progress"] == "已联系物业,明天上门"
    assert "13912345678" not in str(body)


def test_a_new_order_is_two_inserts_and_answers_as_before(client, make, auth, db):
    """Issue 22 item 5: a resident's order and its submit event are one INSERT each (Core, RETURNING),
    with no UPDATE and no read of the resident's row; the answer, the event and the stored row are
    what the unit of work wrote before (number, history, routing, the audit's `at`)."""
    from sqlalchemy import event, select
    from backend.orders.models import Order, OrderEvent
    world = make.world()
    headers = {**auth.headers_for(world["resident"]), "Idempotency-Key": "k-two-inserts"}
    client.get("/api/v1/orders", headers=headers)  # the session version is known from here on
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        answer = client.post("/api/v1/orders", json={"text": "3号楼楼道灯坏了", "location_text": "水晶城小区3号楼"}, headers=headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert answer.status_code == 201, answer.json
    writes = [s for s in statements if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert [w.split()[2] for w in writes if w.startswith("INSERT")][:2] == ["orders", "order_events"]
    assert not [w for w in writes if w.startswith("UPDATE")], writes
    assert not [s for s in statements if "FROM residents" in s], statements
    body = answer.json
    assert [e["action"] for e in body["events"]] == ["submit"] and body["number"].startswith("HX")
    db.session.expire_all()
    stored = db.session.scalar(select(Order).where(Order.number == body["number"]))
    submit = db.session.scalar(select(OrderEvent).where(OrderEvent.order_id == stored.id))
    assert stored.version == 1 and stored.grid_id == world["grids"][0].id and stored.resident_id == world["resident"].id
    assert submit.action == "submit" and submit.data["at"]["grid"] == world["grids"][0].id
    # the same key again answers the first order (the unique index decides; nothing written)
    again = client.post("/api/v1/orders", json={"text": "3号楼楼道灯坏了", "location_text": "水晶城小区3号楼"}, headers=headers)
    assert again.status_code == 200 and again.json["number"] == body["number"]
    assert db.session.scalar(select(func.count(Order.id))) == 1
