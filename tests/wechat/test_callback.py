"""/wechat/callback driven exactly as WeChat drives it, in plain and safe mode."""
import json
import logging
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.chat import services as chat
from backend.orders.models import Attachment, Order
from backend.wechat.models import WechatInbound, WechatSubscription
from tests.wechat.conftest import sha1_signature, text_xml


@pytest.fixture
def bot(monkeypatch):
    """A bot that echoes; used where the bot itself is not the point."""
    seen = []

    def handle_message(resident_id, text, channel="wechat", key=None):
        seen.append((resident_id, text, channel))
        return {"replies": [f"echo:{text}"], "order_number": None}

    monkeypatch.setattr(chat, "handle_message", handle_message)
    return seen


def cs_messages(stub, openid=None):
    return [c["json"] for c in stub.calls("cgi-bin/message/custom/send")
            if openid is None or c["json"]["touser"] == openid]


def test_get_handshake_echoes_echostr(client, app):
    ts, nonce = str(int(time.time())), "n0nce"
    sig = sha1_signature(app.config["WECHAT_TOKEN"], ts, nonce)
    response = client.get("/wechat/callback", query_string={
        "signature": sig, "timestamp": ts, "nonce": nonce, "echostr": "e-12345"})
    assert response.status_code == 200 and response.get_data(as_text=True) == "e-12345"


def test_get_with_bad_signature_is_403(client):
    response = client.get("/wechat/callback", query_string={
        "signature": "x" * 40, "timestamp": "1", "nonce": "2", "echostr": "e"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "bad_signature"


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
def test_text_push_reply_arrives_as_customer_service_message(pusher, stub, worker, db, bot, safe):
    response = pusher.push(text_xml("o-resident-1", "你好"), safe=safe)
    assert response.status_code == 200 and response.get_data(as_text=True) == "success"
    assert cs_messages(stub) == []  # acknowledged before the bot ran
    worker()
    assert bot[0][1:] == ("你好", "wechat")
    assert cs_messages(stub) == [{"touser": "o-resident-1", "msgtype": "text", "text": {"content": "echo:你好"}}]
    row = db.session.scalar(select(WechatInbound))
    assert row.status == "done" and row.resident_id == bot[0][0]


def test_real_bot_turn_creates_order_and_replies_with_its_number(pusher, stub, worker, db):
    """The real backend.chat.services.handle_message (the bot is down in tests: it stores the
    message as an order and answers with the 'received' text)."""
    assert pusher.push(text_xml("o-real-1", "水晶城小区3号楼楼道灯坏了"), safe=True).status_code == 200
    worker()
    order = db.session.scalar(select(Order))
    assert order is not None and order.channel == "wechat" and order.resident.openid == "o-real-1"
    [message] = cs_messages(stub, "o-real-1")
    assert order.number in message["text"]["content"]
    assert db.session.scalar(select(WechatInbound)).order_number == order.number


def test_safe_mode_with_wrong_msg_signature_is_403_and_stores_nothing(pusher, db, bot):
    response = pusher.push(text_xml("o-x", "hi"), safe=True, tamper=True)
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(WechatInbound.id))) == 0


def test_plain_push_with_wrong_signature_is_403(pusher, db, bot):
    assert pusher.push(text_xml("o-x", "hi"), bad=True).status_code == 403
    assert db.session.scalar(select(func.count(WechatInbound.id))) == 0


@pytest.mark.parametrize("body", ["<xml><MsgType>text", "not xml at all", "<xml></xml>",
                                  '<!DOCTYPE x [<!ENTITY a "b">]><xml><MsgType>&a;</MsgType></xml>'])
def test_malformed_push_is_400_and_stores_nothing(pusher, db, body):
    response = pusher.push(body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
    assert db.session.scalar(select(func.count(WechatInbound.id))) == 0


def test_unknown_message_type_is_acknowledged(pusher, db, caplog, monkeypatch):
    # migrations/env.py's fileConfig() disables loggers that existed before the schema upgrade.
    monkeypatch.setattr(logging.getLogger("backend.wechat.api"), "disabled", False)
    caplog.set_level("INFO", logger="backend.wechat")
    xml = ("<xml><ToUserName>gh</ToUserName><FromUserName>o-v</FromUserName><CreateTime>1</CreateTime>"
           "<MsgType>hologram</MsgType><MsgId>99</MsgId></xml>")
    response = pusher.push(xml)
    assert response.status_code == 200 and response.get_data(as_text=True) == "success"
    assert "hologram" in caplog.text


def test_json_push_in_safe_mode(pusher, stub, worker, bot):
    body = json.dumps({"ToUserName": "gh", "FromUserName": "o-json", "CreateTime": 1, "MsgType": "text",
                       "Content": "json hi", "MsgId": 4242}, ensure_ascii=False)
    assert pusher.push(body, safe=True, content_type="application/json").status_code == 200
    worker()
    assert cs_messages(stub, "o-json")[0]["text"]["content"] == "echo:json hi"


def test_a_json_push_is_stored_cleaned_and_an_oversized_one_refused(pusher, db):
    """A JSON push can carry a NUL (PostgreSQL refuses it: the callback answered 500) and fields
    longer than their columns; WeChat sends neither, so such a push is cleaned or refused (400)."""
    body = json.dumps({"ToUserName": "gh", "FromUserName": "o-nul", "CreateTime": 1, "MsgType": "text",
                       "Content": "灯坏了\u0000\u202e", "MsgId": 4343})
    assert pusher.push(body, safe=True, content_type="application/json").status_code == 200
    assert db.session.scalar(select(WechatInbound.content)) == "灯坏了"
    long = json.dumps({"ToUserName": "gh", "FromUserName": "o" * 65, "CreateTime": 1, "MsgType": "text",
                       "Content": "x", "MsgId": 4344})
    assert pusher.push(long, safe=True, content_type="application/json").status_code == 400
    assert db.session.scalar(select(func.count()).select_from(WechatInbound)) == 1


def test_image_is_fetched_and_attached_to_the_residents_open_order(pusher, stub, worker, db, make, app):
    resident = make.resident(openid="o-photo")
    order = make.order(resident=resident)
    xml = ("<xml><ToUserName>gh</ToUserName><FromUserName>o-photo</FromUserName><CreateTime>2</CreateTime>"
           "<MsgType>image</MsgType><PicUrl>http://mmbiz/x</PicUrl><MediaId>media-1</MediaId>"
           "<MsgId>777</MsgId></xml>")
    assert pusher.push(xml, safe=True).status_code == 200
    worker()
    [attachment] = db.session.scalars(select(Attachment).where(Attachment.order_id == order.id)).all()
    assert attachment.content_type == "image/png" and attachment.url.startswith("/uploads/wechat/")
    stored = db.session.scalar(select(WechatInbound)).attachment_path
    assert attachment.url == "/uploads/" + stored
    with open(Path(app.config["UPLOAD_DIR"]) / stored, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert [c["query"]["media_id"] for c in stub.calls("cgi-bin/media/get")] == ["media-1"]
    assert order.number in cs_messages(stub, "o-photo")[0]["text"]["content"]


def test_a_file_that_only_claims_to_be_a_photo_is_refused_and_the_resident_told(pusher, stub, worker, db,
                                                                                 make, app):
    resident = make.resident(openid="o-fake")
    order = make.order(resident=resident)
    xml = ("<xml><ToUserName>gh</ToUserName><FromUserName>o-fake</FromUserName><CreateTime>2</CreateTime>"
           "<MsgType>image</MsgType><PicUrl>http://mmbiz/x</PicUrl><MediaId>disguised-1</MediaId>"
           "<MsgId>778</MsgId></xml>")
    assert pusher.push(xml, safe=True).status_code == 200
    worker()
    assert db.session.scalars(select(Attachment).where(Attachment.order_id == order.id)).all() == []
    row = db.session.scalar(select(WechatInbound))
    assert row.status == "done" and row.attachment_path is None and row.attempts == 1
    assert not (Path(app.config["UPLOAD_DIR"]) / "wechat").exists()
    assert "JPEG、PNG 或 WebP" in cs_messages(stub, "o-fake")[0]["text"]["content"]


def test_subscribe_popup_event_records_each_template_answer(pusher, worker, db, make):
    resident = make.resident(openid="o-sub")
    xml = ("<xml><ToUserName>gh</ToUserName><FromUserName>o-sub</FromUserName><CreateTime>3</CreateTime>"
           "<MsgType>event</MsgType><Event>subscribe_msg_popup_event</Event><SubscribeMsgPopupEvent>"
           "<List><TemplateId>tmpl-resolved</TemplateId><SubscribeStatusString>accept</SubscribeStatusString>"
           "<PopupScene>0</PopupScene></List>"
           "<List><TemplateId>tmpl-claimed</TemplateId><SubscribeStatusString>reject</SubscribeStatusString>"
           "<PopupScene>0</PopupScene></List></SubscribeMsgPopupEvent></xml>")
    assert pusher.push(xml, safe=True).status_code == 200
    worker()
    subs = {s.template_id: (s.status, s.grants) for s in db.session.scalars(
        select(WechatSubscription).where(WechatSubscription.resident_id == resident.id))}
    assert subs == {"tmpl-resolved": ("accept", 1), "tmpl-claimed": ("reject", 0)}


def test_enter_tempsession_event_is_recorded_without_reply(pusher, stub, worker, db):
    xml = ("<xml><ToUserName>gh</ToUserName><FromUserName>o-enter</FromUserName><CreateTime>4</CreateTime>"
           "<MsgType>event</MsgType><Event>user_enter_tempsession</Event><SessionFrom>x</SessionFrom></xml>")
    assert pusher.push(xml).status_code == 200
    worker()
    assert db.session.scalar(select(WechatInbound)).status == "done"
    assert cs_messages(stub) == []


def test_same_msgid_four_times_concurrently_gives_one_reply_and_at_most_one_order(app, pusher, stub, worker, db):
    """WeChat retries a push it thinks failed; the four arrive at once. Uses the real chat turn."""
    xml = text_xml("o-dup", "小区门口的路灯坏了", msg_id=1234567890123)
    barrier = threading.Barrier(4)
    statuses = []

    def send():
        client = app.test_client()
        barrier.wait()
        statuses.append(pusher.push(xml, safe=True, client=client).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 4
    worker()
    db.session.expire_all()
    assert db.session.scalar(select(func.count(WechatInbound.id))) == 1
    assert db.session.scalar(select(func.count(Order.id))) <= 1
    assert len(cs_messages(stub, "o-dup")) == 1


def test_database_decides_when_the_redis_dedupe_key_is_gone(pusher, redis, worker, stub, db, bot):
    xml = text_xml("o-dup2", "again", msg_id=555)
    assert pusher.push(xml).status_code == 200
    for key in redis.keys("wechat:push:*"):  # e.g. Redis restarted without persistence
        redis.delete(key)
    assert pusher.push(xml).status_code == 200
    worker()
    assert db.session.scalar(select(func.count(WechatInbound.id))) == 1
    assert len(cs_messages(stub, "o-dup2")) == 1


def test_callback_answers_within_a_second_when_the_bot_takes_ten(pusher, monkeypatch, worker, db):
    def slow_bot(resident_id, text, channel="wechat", key=None):
        time.sleep(10)
        return {"replies": ["late"], "order_number": None}

    monkeypatch.setattr(chat, "handle_message", slow_bot)
    started = time.monotonic()
    response = pusher.push(text_xml("o-slow", "hello"), safe=True)
    assert time.monotonic() - started < 1.0
    assert response.status_code == 200 and response.get_data(as_text=True) == "success"
    assert len(worker.queue()) == 1  # the turn waits for the worker
    worker.queue().empty()


def test_push_is_kept_when_redis_is_down_and_the_sweep_runs_it(app, pusher, stub, worker, db, monkeypatch, bot):
    import redis as redis_lib
    from backend.worker import rq_connection
    from backend.extensions import redis as app_redis
    from backend.wechat import jobs

    dead = redis_lib.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    real_client, real_rq = app_redis.client, rq_connection()
    monkeypatch.setattr(app_redis, "client", dead)
    monkeypatch.setitem(app.extensions, "rq_redis", dead)
    started = time.monotonic()
    response = pusher.push(text_xml("o-noredis", "still there?"), safe=True)
    assert response.status_code == 200 and time.monotonic() - started < 1.0
    row = db.session.scalar(select(WechatInbound))
    assert row.status == "pending"
    monkeypatch.setitem(app.extensions, "rq_redis", real_rq)
    monkeypatch.setattr(app_redis, "client", real_client)
    from backend import clock
    from datetime import timedelta
    clock.travel(timedelta(minutes=1))
    assert jobs.sweep()["inbound"] == 1
    worker()
    assert cs_messages(stub, "o-noredis")[0]["text"]["content"] == "echo:still there?"
