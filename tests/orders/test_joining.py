"""附议 (issue 20, item 2): a resident about to report what another resident reported already is shown
the open order (number and state only) and may join it as a co-reporter — the lifecycle's `join`
row, audited — instead of making a new order; 不是一回事 is the ordinary intake. The API (resident and
the bot's service API) takes an explicit join with its draft; a number not named for that draft is
refused with a Chinese field error."""
from sqlalchemy import func, select

from backend.accounts.actors import Actor
from backend.chat import gateway, services as chat
from backend.orders import services
from backend.orders.models import CoReporter, Order, OrderEvent

LAMP = "3号楼门口的路灯不亮了，晚上很黑"
PLACE = "水晶城小区3号楼2单元"
DRAFT = {"text": "三号楼门口路灯坏了，晚上走路看不见", "location_text": PLACE}


def _lamp(make, resident):
    # the category as the classifier gives it: the draft is classified the same way
    return make.order(resident, text=LAMP, location_text=PLACE, category=None)


def _orders(db):
    return db.session.scalar(select(func.count()).select_from(Order))


def test_a_resident_is_shown_the_open_order_and_joins_it_instead_of_making_one(client, auth, make, db, city):
    lamp = _lamp(make, city["resident"])
    joiner = make.resident()
    headers = auth.headers_for(joiner)

    found = client.post("/api/v1/orders/duplicates", json=DRAFT, headers=headers)
    assert found.status_code == 200, found.get_json()
    assert found.get_json() == {"candidates": [{"number": lamp.number, "state": "submitted",
                                                "state_label": "待受理"}]}  # nothing of its text or reporter
    assert _orders(db) == 1  # asking stores nothing

    joined = client.post(f"/api/v1/orders/{lamp.number}/join", json={**DRAFT, "channel": "wechat"}, headers=headers)
    assert joined.status_code == 200, joined.get_json()
    assert joined.get_json() == {"number": lamp.number, "state": "submitted", "state_label": "待受理",
                                 "residents": 2, "joined": True}
    assert LAMP not in joined.get_data(as_text=True)
    db.session.expire_all()
    assert _orders(db) == 1
    rows = db.session.scalars(select(CoReporter)).all()
    assert [(r.order_id, r.resident_id, r.from_order_id) for r in rows] == [(lamp.id, joiner.id, None)]
    event = db.session.scalars(select(OrderEvent).where(OrderEvent.action == "join")).one()
    assert (event.order_id, event.actor_type, event.actor_id) == (lamp.id, "resident", joiner.id)
    assert event.note == DRAFT["text"] and event.data["channel"] == "wechat"
    assert event.data["co_reporter"] == joiner.id and event.from_state == event.to_state == "submitted"

    # again (a retry, a second tap): the same answer, no second row or event
    again = client.post(f"/api/v1/orders/{lamp.number}/join", json=DRAFT, headers=headers)
    assert again.status_code == 200 and again.get_json()["residents"] == 2
    assert db.session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.action == "join")) == 1
    # and an order one already follows is no longer offered
    assert client.post("/api/v1/orders/duplicates", json=DRAFT, headers=headers).get_json() == {"candidates": []}


def test_the_reporter_is_not_offered_their_own_order(client, auth, make, city):
    _lamp(make, city["resident"])
    mine = client.post("/api/v1/orders/duplicates", json=DRAFT, headers=auth.headers_for(city["resident"]))
    assert mine.get_json() == {"candidates": []}


def test_only_an_order_named_for_the_draft_may_be_joined(client, auth, make, db, city):
    lamp = _lamp(make, city["resident"])
    rubbish = make.order(make.resident(), text="3号楼门口有人乱扔垃圾", location_text=PLACE, category=None)
    owner = make.resident()
    closed = _lamp(make, owner)
    services.perform(Actor.for_resident(owner), db.session.get(Order, closed.id), "cancel")
    headers = auth.headers_for(make.resident())
    for number in (rubbish.number, closed.number, "HX20990101-0001"):  # another problem, not open, none
        refused = client.post(f"/api/v1/orders/{number}/join", json=DRAFT, headers=headers)
        assert refused.status_code == 422, (number, refused.get_json())
        error = refused.get_json()["error"]
        assert error["fields"] == {"join": ["不是您要反映的问题的疑似重复工单"]}
        assert error["message"] == "这张工单和您要反映的问题对不上，请直接提交新的诉求"
    # the draft from another grid does not find the lamp either
    elsewhere = {"text": DRAFT["text"], "location_text": "水晶城小区8号楼1单元"}
    assert client.post(f"/api/v1/orders/{lamp.number}/join", json=elsewhere, headers=headers).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(CoReporter)) == 0


def test_the_join_body_is_validated_with_chinese_field_errors(client, auth, make, city):
    lamp = _lamp(make, city["resident"])
    headers = auth.headers_for(make.resident())
    cases = [({}, {"text": ["必填"]}),
             ({"text": "   "}, {"text": ["请写下要反映的问题"]}),
             ({"text": "路灯", "location_text": "楼" * 201}, {"location_text": ["地点不能超过 200 字"]}),
             ({"text": "路灯", "channel": "hotline"}, {"channel": ["渠道只能是 wechat、miniprogram 或 h5"]})]
    for body, fields in cases:
        answer = client.post(f"/api/v1/orders/{lamp.number}/join", json=body, headers=headers)
        assert answer.status_code == 422 and answer.get_json()["error"]["fields"] == fields, (body, answer.get_json())


def test_staff_and_strangers_cannot_join(client, auth, make, city):
    lamp = _lamp(make, city["resident"])
    staff = client.post(f"/api/v1/orders/{lamp.number}/join", json=DRAFT,
                        headers=auth.headers_for(city["workers"][0]))
    assert staff.status_code == 403
    assert client.post(f"/api/v1/orders/{lamp.number}/join", json=DRAFT).status_code == 401
    assert client.post("/api/v1/orders/duplicates", json=DRAFT).status_code == 401


def test_the_bot_joins_for_the_resident_of_its_conversation(client, auth, make, db, city):
    lamp = _lamp(make, city["resident"])
    joiner = make.resident()
    body = {"sender_id": auth.sender(joiner), **DRAFT}
    found = client.post("/api/v1/bot/orders/duplicates", json=body, headers=auth.bot())
    assert [c["number"] for c in found.get_json()["candidates"]] == [lamp.number]
    joined = client.post(f"/api/v1/bot/orders/{lamp.number}/join", json={**body, "channel": "h5"}, headers=auth.bot())
    assert joined.status_code == 200 and joined.get_json()["residents"] == 2
    assert db.session.scalar(select(CoReporter.resident_id)) == joiner.id
    # a resident's token is not the bot's
    assert client.post("/api/v1/bot/orders/duplicates", json=body,
                       headers=auth.headers_for(joiner)).status_code == 403


def test_the_chat_passes_the_bots_buttons_and_the_joined_order_on(app, make, monkeypatch, db):
    resident = make.resident()
    db.session.commit()
    said = [{"recipient_id": "x", "text": "这个问题已有居民反映（HX20261207-0001，办理中），要不要附议？附议后进展会同步通知您",
             "buttons": [{"title": "附议", "payload": "/join_report"},
                         {"title": "不是一回事", "payload": "/report_separately"}]}]
    monkeypatch.setattr(gateway, "_post", lambda path, payload: said)
    # the bot read the form back and asked 「对吗？」: a bare 对 is its answer, not junk (meaningless.py)
    monkeypatch.setattr(gateway, "awaiting_answer", lambda resident_id: True)
    answer = chat.handle_message(resident.id, "对", channel="h5")
    assert answer["buttons"] == [{"title": "附议", "payload": "/join_report"},
                                 {"title": "不是一回事", "payload": "/report_separately"}]
    assert answer["order_number"] is None and answer["joined"] is None
    said[:] = [{"text": "好的，已为您附议工单 HX20261207-0001"}, {"custom": {"joined": "HX20261207-0001"}}]
    answer = chat.handle_message(resident.id, "/join_report", channel="h5")
    assert answer["joined"] == "HX20261207-0001" and answer["buttons"] == [] and answer["order_number"] is None
