"""Rate limits with their real settings on the test Redis: failed logins per account, and per
address only for accounts that do not exist or for many different accounts — an office sharing one
address is not locked out by one colleague's typing (a 429 with Retry-After that says why and how
long, in the JSON contract or as a Chinese page on the console), chat and
order creation per resident — and with Redis refusing connections they fail open, saying so once."""
import logging
import re

import pytest
import redis as redis_lib
from sqlalchemy import func, select

from backend.extensions import redis as app_redis
from backend.orders.models import Order
from tests.conftest import _free_port
from tests.factories import PASSWORD

OTHER_ADDRESS = {"REMOTE_ADDR": "10.9.8.7"}


@pytest.fixture
def limits(app, redis, monkeypatch):
    """The production defaults for account logins, small ones for the rest (the tests stay short)."""
    monkeypatch.setitem(app.config, "RATE_LIMIT_LOGIN_ACCOUNT", "5 per 15 minutes")
    monkeypatch.setitem(app.config, "RATE_LIMIT_LOGIN_LOCK_MINUTES", 15)
    monkeypatch.setitem(app.config, "TRUSTED_PROXY_HOPS", 0)
    monkeypatch.setitem(app.config, "RATE_LIMIT_LOGIN_IP", "8 per 15 minutes")
    monkeypatch.setitem(app.config, "RATE_LIMIT_LOGIN_IP_ACCOUNTS", "4 per 15 minutes")
    monkeypatch.setitem(app.config, "RATE_LIMIT_CHAT", "3 per minute")
    monkeypatch.setitem(app.config, "RATE_LIMIT_ORDERS", "2 per hour")
    return app.config


def _login(client, username, password, environ=None):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password},
                       environ_base=environ or {})


def _retry_after(response, window=15 * 60) -> int:
    value = int(response.headers["Retry-After"])
    assert 0 < value <= window
    return value


def _is_429(response, window=15 * 60):
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.json["error"]["code"] == "too_many_requests"
    assert response.json["error"]["message"]
    _retry_after(response, window)


def test_the_sixth_wrong_password_answers_429_with_retry_after(client, make, limits):
    staff = make.staff()
    for _ in range(5):
        assert _login(client, staff.username, "wrong").status_code == 401
    _is_429(_login(client, staff.username, "wrong"))
    # Locked: the right password waits too, or guessing could go on by watching for a 200.
    _is_429(_login(client, staff.username, PASSWORD))
    # From another address the account is locked as well: the count is the account's.
    _is_429(_login(client, staff.username, PASSWORD, OTHER_ADDRESS))


@pytest.fixture
def limits_clock(monkeypatch):
    """Moves the clock the limits count with (the limits library's), not the app's: the moving
    window's entries are timestamps it passes to Redis, so no real time needs to pass."""
    import time as real_time
    import types
    import limits.storage.redis
    import limits.strategies
    offset = [0.0]
    fake = types.SimpleNamespace(time=lambda: real_time.time() + offset[0])
    monkeypatch.setattr(limits.storage.redis, "time", fake)
    monkeypatch.setattr(limits.strategies, "time", fake)

    def travel(minutes):
        offset[0] += minutes * 60
    return travel


def test_the_lock_lasts_15_minutes_from_the_refused_attempt(client, make, limits, limits_clock):
    """Failures spread over 14 minutes: once the sixth attempt is refused the account stays locked
    for the full 15 minutes, even after its oldest failure has left the window."""
    staff = make.staff()
    assert _login(client, staff.username, "wrong").status_code == 401
    limits_clock(10)
    for _ in range(4):
        assert _login(client, staff.username, "wrong").status_code == 401
    limits_clock(4)
    assert _login(client, staff.username, PASSWORD).status_code == 429  # the lock starts
    limits_clock(2)  # only 4 failures left in the last 15 minutes: the lock still holds
    assert _login(client, staff.username, PASSWORD).status_code == 429
    limits_clock(12)
    assert _login(client, staff.username, PASSWORD).status_code == 429
    limits_clock(2)  # 16 minutes after the lock started
    assert _login(client, staff.username, PASSWORD).status_code == 200


def test_25_wrong_passwords_for_one_account_do_not_stop_another_accounts_login_from_that_address(client, make, limits):
    """The office's case (issue 24): one colleague keeps mistyping; everyone else signs in."""
    typist, colleague, newcomer = make.staff(), make.staff(), make.staff()
    answers = [_login(client, typist.username, "wrong").status_code for _ in range(25)]
    assert answers == [401] * 5 + [429] * 20
    assert _login(client, colleague.username, PASSWORD).status_code == 200  # signed in here before? no: still fine
    token = _csrf(client.get("/console/login").data)
    page = client.post("/console/login", data={"username": newcomer.username, "password": PASSWORD, "csrf": token})
    assert page.status_code == 302  # the console, too
    _is_429(_login(client, typist.username, PASSWORD))  # the typist's own account stays locked
    assert "锁定" in _login(client, typist.username, PASSWORD).json["error"]["message"]


def test_an_office_whose_colleagues_mistype_all_morning_still_signs_in(client, make, limits):
    """Six colleagues who work from this address, three typos each: 18 failures from one address
    (beyond the 8 the address once allowed in all) lock nobody out of their own account."""
    office = [make.staff() for _ in range(6)]
    for staff in office:
        assert _login(client, staff.username, PASSWORD).status_code == 200  # yesterday
    for staff in office:
        for _ in range(3):
            assert _login(client, staff.username, "wrong").status_code == 401
    assert [_login(client, staff.username, PASSWORD).status_code for staff in office] == [200] * 6


def test_an_address_is_limited_for_accounts_that_do_not_exist(client, make, limits):
    staff = make.staff()
    for n in range(8):
        assert _login(client, f"nobody{n}", "wrong").status_code == 401
    answer = _login(client, "nobody9", "wrong")
    _is_429(answer)
    assert "不存在的账号" in answer.json["error"]["message"] and "分钟后再试" in answer.json["error"]["message"]
    _is_429(_login(client, staff.username, PASSWORD))  # nobody has signed in from here yet: refused too
    assert _login(client, staff.username, PASSWORD, OTHER_ADDRESS).status_code == 200  # elsewhere: fine


def test_an_address_is_limited_for_many_different_accounts_but_not_for_those_who_signed_in_there(client, make, limits):
    regular = make.staff()
    assert _login(client, regular.username, PASSWORD).status_code == 200  # the office's own
    sprayed = [make.staff() for _ in range(5)]
    for staff in sprayed[:3]:
        for _ in range(2):  # an account counts once, however often it fails
            assert _login(client, staff.username, "wrong").status_code == 401
    assert _login(client, sprayed[3].username, "wrong").status_code == 401  # the address's 4th account
    answer = _login(client, sprayed[4].username, "wrong")
    _is_429(answer)
    assert "很多个账号" in answer.json["error"]["message"]
    _is_429(_login(client, sprayed[4].username, PASSWORD))
    assert _login(client, regular.username, PASSWORD).status_code == 200  # signed in here lately: passes
    # Each of the sprayed accounts has at most 2 failures, under its 5: from elsewhere it signs in.
    assert _login(client, sprayed[0].username, PASSWORD, OTHER_ADDRESS).status_code == 200


def test_successful_logins_are_not_counted(client, make, limits):
    staff = make.staff()
    for _ in range(12):
        assert _login(client, staff.username, PASSWORD).status_code == 200


def _csrf(page: bytes) -> str:
    return re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()


def test_the_console_login_shares_the_count_and_answers_a_chinese_page(client, make, limits):
    staff = make.staff()
    for _ in range(3):
        assert _login(client, staff.username, "wrong").status_code == 401
    token = _csrf(client.get("/console/login").data)
    for _ in range(2):
        page = client.post("/console/login", data={"username": staff.username, "password": "wrong", "csrf": token})
        assert page.status_code == 401
    page = client.post("/console/login", data={"username": staff.username, "password": PASSWORD, "csrf": token})
    assert page.status_code == 429 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    # Why, and how long, on a styled page.
    assert "连续多次密码错误" in text and "15分钟后再试" in text and "请在 <strong>15</strong> 分钟后再试" in text
    assert '<link rel="stylesheet" href="/static/console.css">' in text and 'error-card wait"' in text
    _retry_after(page)
    assert client.get("/console/login").status_code == 200  # the page itself is never limited


def test_chat_is_limited_per_resident(client, make, auth, limits):
    make.world()
    first, second = make.resident(), make.resident()
    for _ in range(3):
        assert client.post("/api/v1/chat", json={"text": "3号楼路灯不亮"}, headers=auth.headers_for(first)).status_code == 200
    _is_429(client.post("/api/v1/chat", json={"text": "3号楼路灯不亮"}, headers=auth.headers_for(first)), window=60)
    assert client.post("/api/v1/chat", json={"text": "3号楼路灯不亮"}, headers=auth.headers_for(second)).status_code == 200


def test_order_creation_is_limited_per_resident_and_only_orders_made_count(client, db, make, auth, limits):
    make.world()
    first, second = make.resident(), make.resident()
    headers = auth.headers_for(first)
    assert client.post("/api/v1/orders", json={"text": ""}, headers=headers).status_code == 422
    for _ in range(2):
        assert client.post("/api/v1/orders", json={"text": "楼道灯坏了"}, headers=headers).status_code == 201
    _is_429(client.post("/api/v1/orders", json={"text": "楼道灯坏了"}, headers=headers), window=3600)
    assert client.post("/api/v1/orders", json={"text": "楼道灯坏了"},
                       headers=auth.headers_for(second)).status_code == 201
    assert db.session.scalar(select(func.count()).select_from(Order)) == 3


@pytest.fixture
def limits_redis_refused(app, redis):
    """The app's Redis client (which the limits count in) pointed at a port nobody listens on."""
    saved = app_redis.client
    app_redis.client = redis_lib.Redis(port=_free_port(), socket_connect_timeout=0.5, socket_timeout=0.5,
                                       decode_responses=True)
    yield
    app_redis.client = saved


def test_with_redis_down_limits_fail_open_and_say_so_once(client, db, make, auth, limits, caplog):
    make.world()
    staff, resident = make.staff(), make.resident()
    headers = auth.headers_for(resident)
    assert _login(client, staff.username, PASSWORD).status_code == 200  # counted: Redis answers
    saved = app_redis.client
    app_redis.client = redis_lib.Redis(port=_free_port(), socket_connect_timeout=0.5, socket_timeout=0.5,
                                       decode_responses=True)
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(8):
                assert _login(client, staff.username, "wrong").status_code == 401
            for _ in range(4):
                assert client.post("/api/v1/chat", json={"text": "3号楼路灯不亮"}, headers=headers).status_code == 200
                assert client.post("/api/v1/orders", json={"text": "楼道灯坏了"}, headers=headers).status_code == 201
    finally:
        app_redis.client = saved
    warnings = [r for r in caplog.records if "rate limits are OFF" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert not [r for r in caplog.records if r.name == "flask-limiter" and r.levelno >= logging.ERROR]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 8
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert _login(client, staff.username, PASSWORD).status_code == 200
    assert any("back on" in r.getMessage() for r in caplog.records)


def test_behind_a_proxy_the_address_comes_from_x_forwarded_for_and_not_from_the_client(
        client, make, limits, monkeypatch):
    monkeypatch.setitem(limits, "RATE_LIMIT_LOGIN_IP_ACCOUNTS", "2 per 15 minutes")
    accounts = [make.staff() for _ in range(7)]

    def attempt(staff, forwarded):
        return client.post("/api/v1/auth/login", json={"username": staff.username, "password": "wrong"},
                           headers={"X-Forwarded-For": forwarded})
    # Without trusted proxies the header is ignored: a forged one buys no fresh address.
    assert [attempt(a, f"198.51.100.{n}").status_code for n, a in enumerate(accounts[:3])] == [401, 401, 429]
    monkeypatch.setitem(limits, "TRUSTED_PROXY_HOPS", 1)
    # One proxy: its right-most entry is the client; whatever the client wrote to the left is not.
    assert attempt(accounts[3], "6.6.6.6, 203.0.113.5").status_code == 401
    assert attempt(accounts[4], "7.7.7.7, 203.0.113.5").status_code == 401
    assert attempt(accounts[5], "8.8.8.8, 203.0.113.5").status_code == 429
    assert attempt(accounts[6], "203.0.113.6").status_code == 401
