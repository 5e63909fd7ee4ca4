"""Issue 27, finding 2 and 3: a WeChat push signature must not be valid for ever nor twice, plaintext
is refused in safe mode, the access log keeps no signature, and an oversized text is refused at
once, before anything is stored or queued."""
import time
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from backend import clock
from backend.wechat.models import WechatInbound
from tests.wechat.conftest import sha1_signature, text_xml


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(WechatInbound))


def _signed(app, timestamp: int, nonce: str | None = None) -> dict:
    nonce = nonce or uuid.uuid4().hex[:10]
    return {"signature": sha1_signature(app.config["WECHAT_TOKEN"], str(timestamp), nonce),
            "timestamp": str(timestamp), "nonce": nonce, "openid": "o-attacker"}


def _post(client, query, xml):
    return client.post("/wechat/callback", query_string=query, data=xml.encode(), content_type="text/xml")


def test_a_push_signed_in_2017_is_refused(client, app, db, stub):
    response = _post(client, _signed(app, 1500000000), text_xml("o-1", "旧签名"))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "stale_timestamp"
    assert _count(db) == 0


def test_the_timestamp_window_is_five_minutes_either_way_and_configurable(client, app, db, stub, monkeypatch):
    now = int(time.time())
    assert _post(client, _signed(app, now - 290), text_xml("o-1", "a")).status_code == 200
    assert _post(client, _signed(app, now + 290), text_xml("o-1", "b")).status_code == 200
    assert _post(client, _signed(app, now - 320), text_xml("o-1", "c")).status_code == 403
    assert _post(client, _signed(app, now + 320), text_xml("o-1", "d")).status_code == 403
    assert client.get("/wechat/callback", query_string={**_signed(app, now - 3600), "echostr": "e"}).status_code == 403
    monkeypatch.setitem(app.config, "WECHAT_TIMESTAMP_WINDOW_SECONDS", 30)
    assert _post(client, _signed(app, now - 60), text_xml("o-1", "e")).status_code == 403
    assert _count(db) == 2


def test_the_window_follows_the_applications_clock(client, app, db, stub):
    signed = _signed(app, int(time.time()))
    clock.travel(timedelta(minutes=6))
    assert _post(client, signed, text_xml("o-1", "a")).status_code == 403


def test_one_signature_is_accepted_once_whatever_the_body(client, app, db, stub):
    """The attack: a signature seen once (the access log printed it) replayed with another body."""
    query = _signed(app, int(time.time()))
    assert _post(client, query, text_xml("o-victim", "楼道灯坏了")).status_code == 200
    again = _post(client, query, text_xml("o-victim", "我要取消我的诉求"))
    assert again.status_code == 403 and again.get_json()["error"]["code"] == "replayed"
    same = _post(client, query, text_xml("o-victim", "楼道灯坏了"))
    assert same.status_code == 403
    assert _count(db) == 1


def test_the_pair_and_the_mark_are_one_round_trip_and_answer_as_before(client, app, db, stub):
    """The callback asks Redis for the pair and the push's mark together (services.check_push),
    after decoding the body: a used pair with a malformed body is still refused as replayed, a
    malformed body on a fresh pair (400) leaves the pair free for the real push, and the stored
    push is marked and queued in one go (a retry of it is a duplicate, acknowledged)."""
    from backend.extensions import redis
    from backend.wechat import services
    query = _signed(app, int(time.time()))
    assert _post(client, query, text_xml("o-1", "灯坏了", msg_id=5151)).status_code == 200
    again = _post(client, query, "<xml><broken")
    assert again.status_code == 403 and again.get_json()["error"]["code"] == "replayed"
    fresh = _signed(app, int(time.time()))
    assert _post(client, fresh, "<xml><broken").status_code == 400
    assert _post(client, fresh, text_xml("o-1", "灯又坏了", msg_id=5152)).status_code == 200
    assert redis.exists(services.DEDUPE_KEY.format("msg:5151"), services.DEDUPE_KEY.format("msg:5152")) == 2
    assert _post(client, _signed(app, int(time.time())), text_xml("o-1", "灯坏了", msg_id=5151)).status_code == 200
    assert _count(db) == 2


def test_the_same_signed_push_again_is_answered_once_not_refused(client, app, db, stub):
    """A node SIGKILLed after taking the pair cannot free it; WeChat's retry of the very same push
    (same pair, same bytes) must still be stored, and a second copy of it deduped, not refused."""
    from backend.wechat import services
    query, xml = _signed(app, int(time.time())), text_xml("o-1", "灯坏了", msg_id=4242)
    with app.test_request_context():
        services.take_nonce(query["timestamp"], query["nonce"], xml.encode())  # the dead node's claim
    assert _post(client, query, xml).status_code == 200
    assert _post(client, query, xml).status_code == 200
    assert _count(db) == 1
    assert _post(client, query, text_xml("o-1", "灯坏了", msg_id=4243)).status_code == 403


def test_a_push_whose_node_died_before_the_commit_leaves_no_dedupe_mark(app, db, stub, monkeypatch):
    """The cluster drill's lost push: the Redis mark existed, the row did not, and the retry was
    acknowledged as a duplicate. The mark is written only after the row is committed — on the
    callback's own path (check_push, then accept_push queueing the job with the mark)."""
    from backend.extensions import redis
    from backend.wechat import push, services
    message = {"MsgId": "777", "FromUserName": "o-1", "MsgType": "text", "Content": "灯坏了",
               "CreateTime": "1764590000", "ToUserName": "gh_redmailbox"}

    def store(nonce):
        checked = services.check_push(message, str(int(time.time())), nonce, b"<xml>777</xml>")
        return services.accept_push(message, checked, enqueue=push._queue_turn)

    class Killed(BaseException):
        pass

    def die():
        raise Killed()
    monkeypatch.setattr(db.session, "commit", die)
    with pytest.raises(Killed):
        store("n-1")
    monkeypatch.undo()
    db.session.rollback()
    assert not redis.exists(services.DEDUPE_KEY.format(services.msg_key(message)))
    assert store("n-2") is not None
    assert redis.exists(services.DEDUPE_KEY.format(services.msg_key(message)))
    assert store("n-3") is None  # now marked and stored: a retry is a duplicate
    assert _count(db) == 1


def test_a_push_that_was_not_acknowledged_frees_its_nonce_for_wechats_retry(client, app, db, stub, monkeypatch):
    from backend.wechat import services
    query, xml = _signed(app, int(time.time())), text_xml("o-1", "灯坏了")

    def down(message, *args, **kwargs):
        raise RuntimeError("database down")
    monkeypatch.setattr(services, "accept_push", down)
    assert _post(client, query, xml).status_code == 500  # not acknowledged: WeChat will retry
    monkeypatch.undo()
    assert _post(client, query, xml).status_code == 200
    assert _count(db) == 1


def test_safe_mode_refuses_plaintext_and_takes_encrypted_pushes(pusher, app, db, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_SAFE_MODE", True)
    plain = pusher.push(text_xml("o-1", "明文"))
    assert plain.status_code == 403 and plain.get_json()["error"]["code"] == "plaintext_refused"
    assert pusher.push(text_xml("o-1", "密文"), safe=True).status_code == 200
    assert db.session.scalar(select(WechatInbound.content)) == "密文"


def test_production_requires_safe_mode():
    from backend.config import ConfigurationError, ProductionConfig, check_production
    cfg = {k: getattr(ProductionConfig, k) for k in dir(ProductionConfig) if k.isupper()}
    assert cfg["WECHAT_SAFE_MODE"] is True  # on unless the environment turns it off
    with pytest.raises(ConfigurationError, match="WECHAT_SAFE_MODE"):
        check_production({**cfg, "WECHAT_SAFE_MODE": False})


def test_a_6_mb_text_is_refused_at_once_before_anything_is_stored_or_queued(pusher, db, worker):
    started = time.perf_counter()
    response = pusher.push(text_xml("o-1", "灯" * (2 * 1024 * 1024)))  # 6 MB of UTF-8
    took = time.perf_counter() - started
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "push_too_large"
    assert took < 1.0
    assert _count(db) == 0 and worker.queue().count == 0


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
def test_every_text_field_is_capped_at_the_apis_2000_characters(pusher, db, worker, safe):
    assert pusher.push(text_xml("o-1", "灯" * 2000), safe=safe).status_code == 200
    long = pusher.push(text_xml("o-1", "灯" * 2001), safe=safe)
    assert long.status_code == 400 and "Content" in long.get_json()["error"]["message"]
    other = text_xml("o-1", "短").replace("</xml>", f"<Extra>{'x' * 2001}</Extra></xml>")
    assert pusher.push(other, safe=safe).status_code == 400
    assert _count(db) == 1 and worker.queue().count == 1


def test_the_access_log_keeps_no_query_string_of_the_callback():
    from gunicorn.config import Config
    from backend.accesslog import AccessLog
    log = AccessLog(Config())
    secret = "signature=abc123&timestamp=1700000000&nonce=n0nce&openid=o-resident"

    def atoms(path):
        environ = {"PATH_INFO": path, "QUERY_STRING": secret, "REQUEST_METHOD": "POST",
                   "SERVER_PROTOCOL": "HTTP/1.1", "RAW_URI": f"{path}?{secret}"}
        req = SimpleNamespace(method="POST", path=path, query=secret, uri=f"{path}?{secret}",
                              version=(1, 1), headers=[])
        resp = SimpleNamespace(status="200 OK", headers=[], response_length=7, sent=7)
        return log.atoms(resp, req, environ, timedelta(seconds=0.01))

    callback = atoms("/wechat/callback")
    assert "signature" not in callback["r"] and callback["q"] == "" and callback["U"] == "/wechat/callback"
    assert "signature" in atoms("/api/v1/orders")["r"]  # other routes keep theirs


def test_the_chat_api_refuses_a_6_mb_text_at_once_without_asking_the_bot(client, world, auth, monkeypatch):
    """The chat API's text was capped at 2,000 characters already (required_text); kept so."""
    from backend.chat import gateway
    asked = []
    monkeypatch.setattr(gateway, "turn", lambda *a, **k: asked.append(a) or ([], None))
    started = time.perf_counter()
    answer = client.post("/api/v1/chat", json={"text": "灯" * (2 * 1024 * 1024)},
                         headers=auth.headers_for(world["resident"]))
    assert answer.status_code == 422 and "text" in answer.json["error"]["fields"]
    assert time.perf_counter() - started < 2.0 and asked == []
