"""Hotline calls, walk-ins and photo reports entered by staff: routed and timed like any order,
in the right grid's queue; the caller's phone and name kept, masked for roles that do not call back;
residents cannot use these channels; staff enter only addresses they serve."""
import pytest

CALL = {"channel": "hotline", "text": "8号楼地下室进水了，水泵不转", "caller_name": "刘建国",
        "caller_phone": "13712345678", "location_text": "水晶城小区8号楼"}


def test_a_hotline_call_lands_in_the_right_grids_queue(client, auth, make, db):
    world = make.world()
    admin = auth.headers_for(world["community_admin"])
    made = client.post("/api/v1/intake", json=CALL, headers=admin)
    assert made.status_code == 201, made.json
    order = made.json
    assert order["channel"] == "hotline" and order["grid"] == world["grids"][1].code and order["due_at"]
    number = order["number"]
    worker_2 = client.get("/api/v1/queue", headers=auth.headers_for(world["workers"][1])).json
    waiting = {o["number"]: o for o in worker_2["waiting"]}
    assert number in waiting and waiting[number]["contact"] == "137****5678"  # a list shows it masked
    assert waiting[number]["caller_name"] == "刘**"
    # The system administrator keeps the system running; calling residents is not their work:
    # even an action's full answer shows them the caller masked.
    pressed = client.post(f"/api/v1/orders/{number}/supervise", json={"note": "请尽快联系"},
                          headers=auth.headers_for(make.staff("sysadmin"))).json
    assert (pressed["contact"], pressed["caller_name"]) == ("137****5678", "刘**")
    # The grid's worker takes it and sees whom to call back (a read that is audited).
    claimed = client.post(f"/api/v1/orders/{number}/claim", json={}, headers=auth.headers_for(world["workers"][1])).json
    assert (claimed["contact"], claimed["caller_name"]) == ("13712345678", "刘建国")
    assert number not in str(client.get("/api/v1/queue", headers=auth.headers_for(world["workers"][0])).json)


def test_a_retry_with_the_same_key_makes_one_order(client, auth, make, db):
    world = make.world()
    headers = {**auth.headers_for(world["community_admin"]), "Idempotency-Key": "call-42"}
    first = client.post("/api/v1/intake", json=CALL, headers=headers)
    again = client.post("/api/v1/intake", json=CALL, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200) and first.json["number"] == again.json["number"]


def test_staff_enter_only_addresses_they_serve(client, auth, make, db):
    world = make.world()
    other = make.world()
    refused = client.post("/api/v1/intake", json={**CALL, "location_text": f"{other['community'].name}8号楼"},
                          headers=auth.headers_for(world["community_admin"]))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "target_out_of_scope"
    street = client.post("/api/v1/intake", json=CALL, headers=auth.headers_for(world["street_admin"]))
    assert street.status_code == 201


@pytest.mark.parametrize("body,field", [
    ({**CALL, "channel": "wechat"}, "channel"),
    ({**CALL, "caller_phone": "call me maybe"}, "caller_phone"),
    ({**CALL, "text": "   "}, "text"),
    ({**CALL, "category": "不存在/的类别"}, "category"),
])
def test_bad_intake_is_a_422_naming_the_field(client, auth, make, db, body, field):
    world = make.world()
    answer = client.post("/api/v1/intake", json=body, headers=auth.headers_for(world["community_admin"]))
    assert answer.status_code == 422 and field in answer.json["error"].get("fields", {}), answer.json


def test_residents_cannot_enter_calls(client, auth, make, db):
    world = make.world()
    answer = client.post("/api/v1/intake", json=CALL, headers=auth.headers_for(world["resident"]))
    assert answer.status_code == 403
    as_resident = client.post("/api/v1/orders", json={"text": "楼道灯坏了", "channel": "hotline"},
                              headers=auth.headers_for(world["resident"]))
    assert as_resident.status_code == 422
