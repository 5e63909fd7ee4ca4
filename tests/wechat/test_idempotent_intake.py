"""The window of issue 12 and its neighbours: a WeChat push whose worker died after the bot made the
order, retried by the sweep; a retry that reaches the bot again; a duplicate push end to end — each
ends with exactly one order (the push's MsgId is the turn's idempotency key)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend import clock
from backend.chat import gateway
from backend.orders import services as orders
from backend.orders.models import Order
from backend.wechat import services as wechat
from backend.wechat.models import WechatInbound
from tests.factories import count_orders
from tests.wechat.conftest import text_xml


def store(message: dict) -> int:
    """The push as the callback stores it (check_push, then accept_push queueing its job)."""
    from backend.wechat import push
    checked = wechat.check_push(message, "1764590000", f"n-{message['MsgId']}", str(message).encode())
    return wechat.accept_push(message, checked, enqueue=push._queue_turn)


class WorkerKilled(BaseException):
    """What the process sees of a SIGKILL: nothing after this line runs, no except clause either."""


@pytest.fixture
def bot_over_http(client, auth, monkeypatch):
    """A bot that takes every message down as an order through the bot API, as the action server
    does, with the channel and idempotency key the backend put in the message metadata."""
    created = []

    def post(path, payload):
        assert path == "/webhooks/rest/webhook"
        meta = payload["metadata"]
        answer = client.post("/api/v1/bot/orders", headers=auth.bot(), json={
            "sender_id": payload["sender"], "text": payload["message"], "location_text": "水晶城小区3号楼",
            "channel": meta["channel"], "idempotency_key": meta["idempotency_key"]})
        assert answer.status_code in (200, 201), answer.json
        created.append(answer.json["number"])
        return [{"text": f"已登记，编号 {answer.json['number']}"}, {"custom": {"order_number": answer.json["number"]}}]
    monkeypatch.setattr(gateway, "_post", post)
    return created


def test_a_worker_killed_after_the_bot_made_the_order_is_retried_into_the_same_order(
        db, stub, make, world, bot_over_http, monkeypatch):
    """The window of issue 12: the bot created the order, then the worker died before the push was
    marked done. The sweep hands the stale row to another worker; exactly one order exists after."""
    message = {"MsgId": "24601", "FromUserName": "o-killed", "MsgType": "text", "Content": "3号楼楼道灯坏了",
               "CreateTime": "1764590000", "ToUserName": "gh_redmailbox"}
    inbound_id = store(message)
    real_reply_row = wechat._reply_row

    def die(*args):
        raise WorkerKilled()
    monkeypatch.setattr(wechat, "_reply_row", die)
    with pytest.raises(WorkerKilled):
        wechat.process_inbound(inbound_id)
    db.session.rollback()  # the dead worker's transaction is gone with it
    assert db.session.get(WechatInbound, inbound_id).status == "processing"
    assert count_orders(db) == 1 and len(bot_over_http) == 1

    monkeypatch.setattr(wechat, "_reply_row", real_reply_row)
    clock.travel(wechat.STALE_CLAIM + timedelta(minutes=1))
    assert wechat.sweep_candidates()["inbound"] == [inbound_id]
    notes = wechat.process_inbound(inbound_id)
    db.session.rollback()
    number = bot_over_http[0]
    assert count_orders(db) == 1 and count_orders(db, number=number) == 1
    done = db.session.get(WechatInbound, inbound_id)
    assert done.status == "done" and done.order_number == number and len(notes) == 1
    assert db.session.scalar(select(Order.idempotency_key)) == f"{done.resident_id}:wechat:msg:24601"


def test_a_retry_that_reaches_the_bot_again_still_finds_the_first_order(db, stub, world, bot_over_http,
                                                                       monkeypatch):
    """Belt and braces: even when the chat's own look-up misses (the bot's create committed a moment
    after it), the bot's create with the same turn key returns the first order."""
    from backend.chat import services as chat
    resident = world["resident"]
    first = chat.handle_message(resident.id, "3号楼楼道灯坏了", channel="wechat", key="wechat:msg:5150")
    monkeypatch.setattr(orders, "find_by_key", lambda resident_id, key: None)
    again = chat.handle_message(resident.id, "3号楼楼道灯坏了", channel="wechat", key="wechat:msg:5150")
    assert len(bot_over_http) == 2 and bot_over_http[0] == bot_over_http[1]
    assert again["order_number"] == first["order_number"] and count_orders(db) == 1


def test_a_duplicate_push_end_to_end_gives_one_order(db, pusher, worker, world, bot_over_http):
    xml = text_xml("o-twice", "3号楼楼道灯坏了", msg_id=99001)
    assert pusher.push(xml).status_code == 200
    worker()
    assert pusher.push(xml).status_code == 200  # WeChat's retry: acknowledged, dropped
    worker()
    assert count_orders(db) == 1 and len(bot_over_http) == 1


def test_a_photo_push_retried_after_a_crash_is_attached_once(db, stub, make, monkeypatch):
    from backend.orders.models import Attachment
    resident = make.resident(openid="o-photo-killed")
    order = make.order(resident=resident)
    inbound_id = store({"MsgId": "31337", "FromUserName": "o-photo-killed", "MsgType": "image",
                        "MediaId": "media-9", "CreateTime": "2", "ToUserName": "gh"})
    real_reply_row = wechat._reply_row

    def die(*args):
        raise WorkerKilled()
    monkeypatch.setattr(wechat, "_reply_row", die)
    with pytest.raises(WorkerKilled):
        wechat.process_inbound(inbound_id)
    db.session.rollback()
    monkeypatch.setattr(wechat, "_reply_row", real_reply_row)
    clock.travel(wechat.STALE_CLAIM + timedelta(minutes=1))
    assert len(wechat.process_inbound(inbound_id)) == 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Attachment).where(Attachment.order_id == order.id)) == 1
    assert db.session.get(WechatInbound, inbound_id).order_number == order.number
    assert len(stub.calls("cgi-bin/media/get")) == 1
