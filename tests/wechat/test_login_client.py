"""Mini-program login (code2session) and the wechatpy client against the stub."""
import logging

import pytest
from sqlalchemy import select
from wechatpy.exceptions import WeChatClientException

from backend.accounts.models import Resident
from backend.config import ConfigurationError, ProductionConfig, check_production
from backend.wechat import client as wx


def test_login_creates_resident_once_keeps_unionid_and_never_returns_session_key(client, stub, db, caplog):
    caplog.set_level(logging.DEBUG)
    stub.config(codes={"code-a": {"openid": "o-login", "unionid": "u-1"}, "code-b": {"openid": "o-login"}})
    first = client.post("/api/v1/auth/wechat", json={"code": "code-a"})
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["role"] == "resident" and "session_key" not in first.get_data(as_text=True)
    resident = db.session.scalar(select(Resident).where(Resident.openid == "o-login"))
    assert resident.unionid == "u-1"
    second = client.post("/api/v1/auth/wechat", json={"code": "code-b"})
    assert second.status_code == 200
    assert db.session.scalars(select(Resident)).all() == [resident]
    orders = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {body['token']}"})
    assert orders.status_code == 200
    session_key_sent = stub.calls("sns/jscode2session")  # the stub derives it from the code
    assert session_key_sent and "session_key" not in caplog.text


def test_reused_and_invalid_codes_get_401(client, stub):
    stub.config(invalid_codes=["bad-code"])
    assert client.post("/api/v1/auth/wechat", json={"code": "once"}).status_code == 200
    reused = client.post("/api/v1/auth/wechat", json={"code": "once"})
    invalid = client.post("/api/v1/auth/wechat", json={"code": "bad-code"})
    for response in (reused, invalid):
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "invalid_wechat_code"
    assert client.post("/api/v1/auth/wechat", json={}).status_code == 422


def test_wechat_down_is_503_not_500(client, stub, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", "http://127.0.0.1:1/")  # restored after: it leaked
    response = client.post("/api/v1/auth/wechat", json={"code": "x"})
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "wechat_unavailable"


def test_access_token_is_fetched_once_and_shared_through_redis(stub, app, redis):
    with app.test_request_context():
        wx.get_client().message.send_text("o-1", "a")
        wx.get_client().message.send_text("o-1", "b")  # a new client, as in another process
    assert len(stub.calls("cgi-bin/token")) == 1
    assert any(k.startswith("wechatpy:") for k in redis.keys("*"))


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_rejected_token_is_refreshed_and_the_call_retried_once(stub, app, errcode):
    with app.test_request_context():
        wx.get_client().message.send_text("o-1", "warm")
        stub.config(fail_next=[{"path": "cgi-bin/message/custom/send", "errcode": errcode, "count": 1}])
        wx.get_client().message.send_text("o-1", "again")
    sends = stub.calls("cgi-bin/message/custom/send")
    assert len(sends) == 3 and len(stub.calls("cgi-bin/token")) == 2
    assert sends[-1]["query"]["access_token"] != sends[-2]["query"]["access_token"]


def test_a_token_error_that_persists_is_raised_after_one_retry(stub, app):
    stub.config(fail_next=[{"path": "cgi-bin/message/custom/send", "errcode": 40001, "count": 5}])
    with app.test_request_context(), pytest.raises(WeChatClientException) as caught:
        wx.get_client().message.send_text("o-1", "x")
    assert caught.value.errcode == 40001
    assert len(stub.calls("cgi-bin/message/custom/send")) == 2


def _prod(**overrides):
    cfg = {k: getattr(ProductionConfig, k) for k in dir(ProductionConfig) if k.isupper()}
    cfg.update(overrides)
    return cfg


def test_production_refuses_the_stub_url_and_missing_secrets():
    real = dict(WECHAT_APPID="wx1234567890abcdef", WECHAT_SECRET="s" * 32, WECHAT_TOKEN="t0ken",
                WECHAT_AES_KEY="K" * 43, SECRET_KEY="k" * 40, WECHAT_API_BASE="https://api.weixin.qq.com/",
                WECHAT_OAUTH_BASE="https://open.weixin.qq.com/connect/", BOT_SERVICE_TOKEN="b" * 40,
                PUBLIC_URL="https://mailbox.example.cn", RASA_AUTH_TOKEN="r" * 40)
    check_production(_prod(**real))
    with pytest.raises(ConfigurationError, match="BOT_SERVICE_TOKEN"):
        check_production(_prod(**{k: v for k, v in real.items() if k != "BOT_SERVICE_TOKEN"}))
    with pytest.raises(ConfigurationError, match="WECHAT_API_BASE"):
        check_production(_prod(**{**real, "WECHAT_API_BASE": "http://127.0.0.1:5100/"}))
    with pytest.raises(ConfigurationError, match="WECHAT_OAUTH_BASE"):
        check_production(_prod(**{**real, "WECHAT_OAUTH_BASE": "http://127.0.0.1:5100/connect/"}))
    with pytest.raises(ConfigurationError, match="WECHAT_SECRET"):
        check_production(_prod(**{**real, "WECHAT_SECRET": ""}))
    with pytest.raises(ConfigurationError, match="WECHAT_TOKEN"):
        check_production(_prod(**{k: v for k, v in real.items() if k != "WECHAT_TOKEN"}))
    # OAuth's redirect_uri and Open311's links are built on PUBLIC_URL: https, the site's own.
    for public in ("", "http://mailbox.example.cn", "https://127.0.0.1:5000"):
        with pytest.raises(ConfigurationError, match="PUBLIC_URL"):
            check_production(_prod(**{**real, "PUBLIC_URL": public}))


def test_create_app_refuses_to_start_in_production_with_defaults(monkeypatch):
    from backend import create_app
    monkeypatch.setenv("RED_MAILBOX_ENV", "production")
    with pytest.raises(ConfigurationError):
        create_app()
