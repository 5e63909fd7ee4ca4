"""With the bot unreachable (the test RASA_URL has nothing listening) every message still becomes a
stored, routed order and the resident gets the 'received' reply with its number."""
from sqlalchemy import select

from backend.orders.models import Order


def test_chat_with_bot_down_stores_and_routes_the_order(client, make, auth, db):
    world = make.world()
    response = client.post("/api/v1/chat", json={"text": "水晶城小区3号楼2单元楼道灯坏了好几天了"},
                           headers=auth.headers_for(world["resident"]))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["bot"] == "unavailable"
    number = body["order_number"]
    assert number and number in body["replies"][0]
    order = db.session.scalar(select(Order).where(Order.number == number))
    assert order.resident_id == world["resident"].id
    assert "bot_unavailable" in order.flags
    assert order.grid_id == world["grids"][0].id
    assert order.category.startswith("城乡建设")
    assert world["grids"][0].name in body["replies"][0]


def test_the_chat_keeps_the_channel_the_client_names(client, make, auth, db):
    """The mini-program says channel miniprogram; without one the chat is h5 (as before); a channel
    a resident may not name (a hotline call) is refused before anything is stored."""
    world = make.world()
    headers = auth.headers_for(world["resident"])
    numbers = {}
    for channel in ("miniprogram", None):
        body = {"text": "水晶城小区3号楼2单元楼道灯坏了好几天了", **({"channel": channel} if channel else {})}
        response = client.post("/api/v1/chat", json=body, headers=headers)
        assert response.status_code == 200, response.json
        numbers[channel] = response.json["order_number"]
    stored = {n: c for n, c in db.session.execute(select(Order.number, Order.channel))}
    assert (stored[numbers["miniprogram"]], stored[numbers[None]]) == ("miniprogram", "h5")
    refused = client.post("/api/v1/chat", json={"text": "楼道灯坏了", "channel": "hotline"}, headers=headers)
    assert refused.status_code == 422 and "channel" in refused.json["error"]["fields"]
    assert len(stored) == 2


def test_chat_rejects_empty_text_and_stores_nothing(client, make, auth, db):
    resident = make.resident()
    response = client.post("/api/v1/chat", json={"text": "  "}, headers=auth.headers_for(resident))
    assert response.status_code == 422 and "text" in response.json["error"]["fields"]
    assert db.session.scalar(select(Order)) is None


def test_chat_is_for_residents_only(client, make, auth):
    worker = make.world()["workers"][0]
    assert client.post("/api/v1/chat", json={"text": "你好"}, headers=auth.headers_for(worker)).status_code == 403


def test_nlu_parse_gives_category_even_when_bot_is_down(client, make, auth):
    worker = make.world()["workers"][0]
    body = client.post("/api/v1/nlu/parse", json={"text": "医保卡刷不了怎么办"}, headers=auth.headers_for(worker)).json
    assert body["category"]["level1"] == "劳动和社会保障"
    assert 0 < body["category"]["confidence"] <= 1
    assert body["bot"] == "unavailable" and body["intent"] is None


def test_nlu_parse_is_staff_only(client, make, auth):
    resident = make.resident()
    assert client.post("/api/v1/nlu/parse", json={"text": "x"}, headers=auth.headers_for(resident)).status_code == 403


def test_a_bot_that_times_out_after_creating_the_order_does_not_cause_a_second(client, make, auth, db, monkeypatch):
    """The bot took the order down, then the turn timed out: the resident gets that order's number."""
    from backend.accounts.actors import Actor
    from backend.chat import gateway
    from backend.orders import services as orders
    world = make.world()

    def slow_bot(resident, text, channel, key):
        orders.create_order(Actor("bot"), resident_id=resident, text=text, location_text="水晶城小区3号楼",
                            idempotency_key=key)
        raise gateway.BotUnavailable("ReadTimeout")
    monkeypatch.setattr(gateway, "turn", slow_bot)
    body = client.post("/api/v1/chat", json={"text": "3号楼楼道灯坏了"}, headers=auth.headers_for(world["resident"])).json
    numbers = list(db.session.scalars(select(Order.number)))
    assert numbers == [body["order_number"]]
    assert body["order_number"] in body["replies"][0]


def test_the_bots_quick_replies_reach_the_resident_as_buttons(client, make, auth, monkeypatch):
    """Rasa's `buttons` on a message come back as the reply's buttons (the mini-program draws them)."""
    from backend.chat import gateway
    world = make.world()
    rasa_answer = [{"text": "您对处理结果满意吗？", "buttons": [
        {"title": "满意", "payload": "/rate_service{\"satisfaction\": \"满意\"}"}, {"title": "不满意"}, "stray"]}]
    monkeypatch.setattr(gateway, "_post", lambda path, payload: rasa_answer)
    body = client.post("/api/v1/chat", json={"text": "我要评价"}, headers=auth.headers_for(world["resident"])).json
    assert body["replies"] == ["您对处理结果满意吗？"]
    assert body["buttons"] == [{"title": "满意", "payload": "/rate_service{\"satisfaction\": \"满意\"}"},
                               {"title": "不满意", "payload": "不满意"}]
    monkeypatch.undo()  # the test bot is down again: the stored order's answer offers no buttons
    down = client.post("/api/v1/chat", json={"text": "水晶城小区3号楼路灯不亮"}, headers=auth.headers_for(world["resident"])).json
    assert down["order_number"] and down["buttons"] == []
