"""Pushes are limited per openid once their signature checked out (a forged push cannot use a
resident's budget up): past RATE_LIMIT_WECHAT the callback answers 429 with Retry-After and
stores nothing; other residents are not affected."""
from sqlalchemy import func, select

from backend.wechat.models import WechatInbound
from tests.wechat.conftest import text_xml


def _stored(db, openid):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(WechatInbound).where(WechatInbound.openid == openid))


def test_pushes_past_the_limit_of_one_openid_answer_429(app, db, pusher, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMIT_WECHAT", "3 per minute")
    for n in range(3):
        assert pusher.push(text_xml("o-busy", f"第{n}条")).status_code == 200
    refused = pusher.push(text_xml("o-busy", "第4条"), safe=True)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_requests"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert _stored(db, "o-busy") == 3
    assert pusher.push(text_xml("o-calm", "路灯不亮")).text == "success"
    assert _stored(db, "o-calm") == 1


def test_a_push_with_a_bad_signature_is_not_counted(app, db, pusher, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMIT_WECHAT", "2 per minute")
    for _ in range(5):
        assert pusher.push(text_xml("o-victim", "伪造"), bad=True).status_code == 403
    assert pusher.push(text_xml("o-victim", "路灯不亮")).status_code == 200
    assert _stored(db, "o-victim") == 1


def test_with_redis_refusing_connections_pushes_pass_unlimited(app, db, pusher, monkeypatch):
    import redis as redis_lib
    from backend.extensions import redis as app_redis
    from tests.conftest import _free_port
    monkeypatch.setitem(app.config, "RATE_LIMIT_WECHAT", "1 per minute")
    monkeypatch.setattr(app_redis, "client", redis_lib.Redis(port=_free_port(), socket_connect_timeout=0.5,
                                                             decode_responses=True))
    for n in range(3):
        assert pusher.push(text_xml("o-outage", f"第{n}条")).text == "success"
    assert _stored(db, "o-outage") == 3
