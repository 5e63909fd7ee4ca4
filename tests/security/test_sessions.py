"""Issue 27, finding 4: sessions could not be revoked. Console and H5 logout only dropped the signed
cookie (a copied one worked for 31 days), a password reset left old tokens and cookies working,
reactivating an account revived every old one, and the API had no logout."""
import re
from datetime import timedelta

import pytest

from backend import clock
from backend.accounts.actors import Actor
from backend.grids import staff as staff_service
from tests.factories import PASSWORD


def _api_login(client, staff) -> dict:
    answer = client.post("/api/v1/auth/login", json={"username": staff.username, "password": PASSWORD})
    assert answer.status_code == 200, answer.json
    return {"Authorization": f"Bearer {answer.json['token']}"}


def _console_login(app, staff):
    browser = app.test_client()
    page = browser.get("/console/login").data
    csrf = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
    done = browser.post("/console/login", data={"username": staff.username, "password": PASSWORD, "csrf": csrf})
    assert done.status_code == 302, done.data
    return browser


def _copy(app, browser):
    """Another browser holding the same session cookie (as a thief would)."""
    cookie = browser.get_cookie("session")
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def _in_console(browser) -> bool:
    return browser.get("/console/").status_code == 200


def _csrf_of(browser) -> str:
    with browser.session_transaction() as session:
        return session["csrf"]


def test_api_logout_ends_this_token_and_the_accounts_others(client, world):
    worker = world["workers"][0]
    first, second = _api_login(client, worker), _api_login(client, worker)
    assert client.get("/api/v1/queue", headers=first).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
    for headers in (first, second):
        answer = client.get("/api/v1/queue", headers=headers)
        assert answer.status_code == 401 and answer.json["error"]["code"] == "session_ended"
    assert client.get("/api/v1/queue", headers=_api_login(client, worker)).status_code == 200


def test_api_logout_needs_a_token_and_ends_a_residents_tokens(client, world, auth):
    assert client.post("/api/v1/auth/logout").status_code == 401
    resident = world["resident"]
    headers = auth.headers_for(resident)
    assert client.get("/api/v1/orders", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/orders", headers=headers).status_code == 401


def test_console_logout_ends_a_copied_cookie(app, client, world):
    browser = _console_login(app, world["workers"][0])
    thief = _copy(app, browser)
    assert _in_console(thief)
    assert browser.post("/console/logout", data={"csrf": _csrf_of(browser)}).status_code == 302
    assert not _in_console(thief) and not _in_console(browser)


def test_a_password_reset_ends_old_tokens_and_cookies(app, client, world, make, db):
    worker = world["workers"][0]
    token, browser = _api_login(client, worker), _console_login(app, worker)
    admin = make.staff("sysadmin")
    staff_service.reset_password(Actor.for_staff(admin), worker.id)
    assert client.get("/api/v1/queue", headers=token).status_code == 401
    assert not _in_console(browser)


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app, client, world, make, db):
    worker = world["workers"][0]
    token, browser = _api_login(client, worker), _console_login(app, worker)
    manager = Actor.for_staff(make.staff("sysadmin"))
    staff_service.set_active(manager, worker.id, False)
    assert client.get("/api/v1/queue", headers=token).status_code == 401
    staff_service.set_active(manager, worker.id, True)
    assert client.get("/api/v1/queue", headers=token).status_code == 401
    assert not _in_console(browser)
    assert client.get("/api/v1/queue", headers=_api_login(client, worker)).status_code == 200


def test_h5_logout_ends_a_copied_cookie_and_the_residents_tokens(app, world, auth):
    from backend.accounts import sessions
    resident = world["resident"]
    token = auth.headers_for(resident)
    browser = app.test_client()
    with browser.session_transaction() as session:
        sessions.sign_in(session, "resident", resident)  # as the WeChat OAuth callback leaves it
        session["csrf"] = "c"
    thief = _copy(app, browser)
    assert thief.get("/m/").status_code == 200
    assert browser.post("/m/logout", data={"csrf": "c"}).status_code == 200
    assert thief.get("/m/").status_code == 302 and browser.get("/m/").status_code == 302
    assert app.test_client().get("/api/v1/orders", headers=token).status_code == 401


def test_a_session_cookie_lasts_a_working_day(app, world):
    assert app.config["SESSION_LIFETIME_SECONDS"] == 10 * 3600
    assert app.config["TOKEN_MAX_AGE_SECONDS"] <= 10 * 3600
    assert app.config["PERMANENT_SESSION_LIFETIME"] == 10 * 3600
    browser = _console_login(app, world["workers"][0])
    clock.travel(timedelta(hours=9, minutes=50))
    assert _in_console(browser)
    clock.travel(timedelta(minutes=20))
    assert not _in_console(browser)


def test_the_lifetime_is_configurable(app, world, monkeypatch):
    browser = _console_login(app, world["workers"][0])
    monkeypatch.setitem(app.config, "SESSION_LIFETIME_SECONDS", 600)
    clock.travel(timedelta(minutes=11))
    assert not _in_console(browser)


@pytest.mark.parametrize("marks", [{}, {"staff_id.v": 0}])
def test_a_cookie_from_before_revocable_sessions_is_signed_out(app, world, marks):
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["staff_id"] = world["workers"][0].id
        session.update(marks)
    assert not _in_console(browser)


def _reads_of_residents(db, call):
    from sqlalchemy import event
    seen = []

    def count(conn, cursor, statement, *args):
        if "FROM residents" in statement:
            seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        answer = call()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return answer, len(seen)


def test_a_residents_token_is_checked_from_redis_and_a_logout_still_ends_it_at_once(client, world, auth, db, redis):
    """Issue 22 item 5: the resident's session version comes from Redis after the first request (no
    read of `residents` on the hot path); a logout's commit writes the new version, so the old token
    is refused on the very next request, in this process or any other reading the same Redis."""
    headers = auth.headers_for(world["resident"])
    first, reads = _reads_of_residents(db, lambda: client.get("/api/v1/orders", headers=headers))
    assert first.status_code == 200 and reads == 1
    again, reads = _reads_of_residents(db, lambda: client.get("/api/v1/orders", headers=headers))
    assert again.status_code == 200 and reads == 0
    assert redis.get(f"rm:sv:resident:{world['resident'].id}") == "0"
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert redis.get(f"rm:sv:resident:{world['resident'].id}") == "1"
    ended = client.get("/api/v1/orders", headers=headers)
    assert ended.status_code == 401 and ended.json["error"]["code"] == "session_ended"


def test_with_redis_down_the_database_decides_a_residents_token(client, world, auth, db, redis_stopped):
    headers = auth.headers_for(world["resident"])
    answer, reads = _reads_of_residents(db, lambda: client.get("/api/v1/orders", headers=headers))
    assert answer.status_code == 200 and reads == 1
    world["resident"].session_version = 5  # ended behind Redis's back: the database still says so
    db.session.commit()
    assert client.get("/api/v1/orders", headers=headers).status_code == 401
