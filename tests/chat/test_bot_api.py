"""The service API the Rasa action server calls, authenticated by the bot service token."""
from backend.accounts.actors import Actor
from backend.orders import services


def _sender(resident):
    from backend.chat import gateway
    return gateway.sender_id(resident.id)


def test_bot_creates_lists_and_rates_for_the_resident(client, make, auth, db):
    world = make.world()
    resident = world["resident"]
    created = client.post("/api/v1/bot/orders", headers=auth.bot(), json={
        "sender_id": _sender(resident), "text": "楼道灯坏了", "location_text": "水晶城小区3号楼2单元", "kind": "repair"})
    assert created.status_code == 201, created.json
    number = created.json["number"]
    assert created.json["grid"] == world["grids"][0].name and created.json["claim_by"]
    listed = client.get("/api/v1/bot/orders", query_string={"sender_id": _sender(resident)}, headers=auth.bot()).json
    assert listed["orders"][0]["number"] == number and listed["orders"][0]["state_label"] == "待受理"
    early = client.post(f"/api/v1/bot/orders/{number}/rating", headers=auth.bot(), json={"sender_id": _sender(resident), "score": 5})
    assert early.status_code == 409
    order = services.get_order(Actor("system"), number)
    worker = Actor.for_staff(world["workers"][0])
    services.perform(worker, order, "claim")
    services.perform(worker, order, "resolve", result="换了灯泡")
    rated = client.post(f"/api/v1/bot/orders/{number}/rating", headers=auth.bot(), json={"sender_id": _sender(resident), "score": 5})
    assert rated.status_code == 200 and rated.json["state"] == "rated"


def test_bot_cannot_reach_another_residents_order(client, make, auth):
    owner, other = make.resident(), make.resident(openid="other")
    order = make.order(owner)
    response = client.get("/api/v1/bot/orders", query_string={"sender_id": _sender(other), "number": order.number}, headers=auth.bot())
    assert response.status_code == 404
    cancel = client.post(f"/api/v1/bot/orders/{order.number}/cancel", json={"sender_id": _sender(other)}, headers=auth.bot())
    assert cancel.status_code == 404


def test_bot_api_needs_the_service_token(client, make, auth):
    resident = make.resident()
    response = client.post("/api/v1/bot/orders", headers=auth.headers_for(resident),
                           json={"sender_id": _sender(resident), "text": "灯坏了"})
    assert response.status_code == 403
    assert client.post("/api/v1/bot/orders", json={"sender_id": "resident-1", "text": "x"}).status_code == 401


def test_bot_sender_must_be_a_resident_conversation(client, auth):
    response = client.post("/api/v1/bot/orders", headers=auth.bot(), json={"sender_id": "default", "text": "灯坏了"})
    assert response.status_code == 422 and "sender_id" in response.json["error"]["fields"]


def test_unknown_resident_conversation_is_404_not_500(client, auth):
    response = client.post("/api/v1/bot/orders", headers=auth.bot(), json={"sender_id": auth.sender(999999), "text": "灯坏了"})
    assert response.status_code == 404 and response.json["error"]["code"] == "unknown_sender"


def test_bot_can_flag_what_it_did_not_understand(client, make, auth):
    resident = make.resident()
    created = client.post("/api/v1/bot/orders", headers=auth.bot(), json={
        "sender_id": _sender(resident), "text": "那个东西又那样了", "flags": ["unclassified"]})
    assert created.status_code == 201 and "unclassified" in created.json["flags"]
    bad = client.post("/api/v1/bot/orders", headers=auth.bot(), json={
        "sender_id": _sender(resident), "text": "x", "flags": ["vip"]})
    assert bad.status_code == 422


def test_without_a_kind_the_order_s_kind_is_predicted_from_its_text(client, make, auth, db):
    """Issue 25: the bot sends no kind for a report; the backend reads it from the text (backend/kinds),
    and the submit event says so. A kind the caller names is kept."""
    world = make.world()
    resident = world["resident"]
    cases = [("小区东门那盏路灯坏了 晚上黑乎乎的", None, "repair"),
             ("楼道的安全出口被邻居的破沙发堵死了 物业也不管", None, "complaint"),
             ("楼上邻居天天半夜跺脚 找他理论还骂人", None, "dispute"),
             ("楼道灯坏了", "suggestion", "suggestion")]
    for text, given, expected in cases:
        body = {"sender_id": _sender(resident), "text": text, "location_text": "水晶城小区3号楼2单元"}
        if given:
            body["kind"] = given
        created = client.post("/api/v1/bot/orders", headers=auth.bot(), json=body)
        assert created.status_code == 201, created.json
        order = services.get_order(Actor("system"), created.json["number"])
        assert order.kind == expected, text
        submit = order.events[0]
        assert submit.action == "submit" and bool((submit.data or {}).get("kind_from_text")) == (given is None)
