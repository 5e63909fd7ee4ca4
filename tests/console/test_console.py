"""The web console: session login with CSRF, scope, and the same services as the API."""
import re

from sqlalchemy import select

from backend.notifications.models import Notification
from tests.factories import PASSWORD


def _csrf(page: bytes) -> str:
    return re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()


def _login(client, staff, password=PASSWORD, path="/console/login"):
    token = _csrf(client.get("/console/login").data)
    return client.post(path, data={"username": staff.username, "password": password, "csrf": token})


def test_console_needs_login_and_shows_html_errors(client, make):
    assert client.get("/console/").status_code == 302
    token = _csrf(client.get("/console/login").data)
    page = client.post("/console/login", data={"username": "ghost", "password": "x", "csrf": token})
    assert page.status_code == 401 and "用户名或密码不正确".encode() in page.data
    missing = client.get("/console/nowhere")
    assert missing.status_code == 404 and b"<html" in missing.data


def test_worker_claims_and_resolves_from_the_console(client, make, db):
    world = make.world()
    worker = world["workers"][0]
    order = make.order(world["resident"])
    assert _login(client, worker).status_code == 302
    dashboard = client.get("/console/")
    assert dashboard.status_code == 200 and order.number.encode() in dashboard.data
    page = client.get(f"/console/orders/{order.number}")
    token = _csrf(page.data)
    assert "接单".encode() in page.data
    client.post(f"/console/orders/{order.number}/claim", data={"csrf": token})
    client.post(f"/console/orders/{order.number}/resolve", data={"csrf": token, "result": "已更换灯泡"})
    db.session.expire_all()
    assert order.state == "resolved" and order.result == "已更换灯泡"
    assert [e.action for e in order.events][-2:] == ["claim", "resolve"]


def test_escalating_from_the_console_needs_a_reason(client, make, db):
    world = make.world()
    order = make.order(world["resident"])
    _login(client, world["workers"][0])
    token = _csrf(client.get(f"/console/orders/{order.number}").data)
    client.post(f"/console/orders/{order.number}/escalate", data={"csrf": token, "note": "  "})
    db.session.expire_all()
    assert (order.state, order.rung) == ("submitted", "grid_worker")
    assert [e.action for e in order.events] == ["submit"]


def test_forms_without_the_csrf_token_change_nothing(client, make, db):
    world = make.world()
    order = make.order(world["resident"])
    _login(client, world["workers"][0])
    response = client.post(f"/console/orders/{order.number}/claim", data={})
    assert response.status_code == 400
    db.session.expire_all()
    assert order.state == "submitted"


def test_worker_cannot_open_another_grids_order(client, make, db):
    world = make.world()
    order = make.order(world["resident"])  # lands in grid 1
    _login(client, world["workers"][1])
    assert client.get(f"/console/orders/{order.number}").status_code == 404
    assert order.number.encode() not in client.get("/console/").data


def test_overdue_orders_are_flagged_for_supervision(client, make, db):
    from datetime import timedelta
    from backend import clock
    world = make.world()
    order = make.order(world["resident"])
    clock.travel(timedelta(days=10))
    _login(client, world["community_admin"])
    page = client.get("/console/").data.decode()
    overdue_section = page.split("已超时")[1].split("一小时内到期")[0]
    assert order.number in overdue_section


def test_failed_deliveries_are_visible_on_the_outbox_page(client, make, db):
    world = make.world()
    order = make.order(world["resident"])
    db.session.add(Notification(order_id=order.id, recipient_type="resident", recipient_id=world["resident"].id,
                                channel="wechat_cs", kind="reply", status="failed", attempts=5,
                                last_error="45015 response out of time limit"))
    db.session.commit()
    _login(client, world["community_admin"])
    page = client.get("/console/outbox").data.decode()
    assert "45015" in page and "发送失败" in page and "超过48小时客服消息时限" in page


def test_the_outbox_shows_the_rows_of_orders_in_scope_and_the_sysadmin_every_row(app, client, make, db):
    world = make.world()
    order = make.order(world["resident"])
    other = make.world()  # after the order, so that it is routed to the first community
    sysadmin = make.staff("sysadmin")
    db.session.add_all([
        Notification(order_id=order.id, recipient_type="resident", recipient_id=world["resident"].id,
                     channel="wechat_cs", kind="reply", status="failed", attempts=5, last_error="45015 out of time"),
        Notification(order_id=None, recipient_type="staff", recipient_id=sysadmin.id,
                     channel="console", kind="reply", status="pending", attempts=1, last_error="40001 no order")])
    db.session.commit()

    def outbox(staff) -> str:
        reader = app.test_client()
        _login(reader, staff)
        return reader.get("/console/outbox").data.decode()
    mine, theirs, everything = (outbox(world["community_admin"]), outbox(other["community_admin"]),
                                outbox(sysadmin))
    assert "45015" in mine and "40001" not in mine
    assert "45015" not in theirs and "40001" not in theirs
    assert "45015" in everything and "40001" in everything


def test_login_redirect_stays_on_this_site(client, make):
    worker = make.world()["workers"][0]
    response = _login(client, worker, path="/console/login?next=//evil.example/x")
    assert response.headers["Location"].endswith("/console/")


def test_login_form_needs_its_csrf_token(client, make):
    worker = make.world()["workers"][0]
    response = client.post("/console/login", data={"username": worker.username, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/console/").status_code == 302  # still not signed in


def test_escalation_reaches_the_leaders_console_inbox(client, make, db):
    from backend.accounts.actors import Actor
    from backend.dispatch import claims
    from backend.notifications import services as notifications
    world = make.world()
    order = make.order(world["resident"])
    claims.act(Actor.for_staff(world["workers"][0]), order.number, "escalate", reason="需要网格长协调物业")
    for row in db.session.scalars(select(Notification)):
        notifications.deliver(row.id)
    _login(client, world["leader"])
    page = client.get("/console/").data.decode()
    inbox = page.split('<section id="reminders">')[1].split("</section>")[0]
    assert order.number in inbox
    # figures first (issue 24): the reminders come after the figures and the charts
    assert page.index('id="figures"') < page.index('id="charts"') < page.index('id="reminders"')
    client.post("/console/notifications/read", data={"csrf": _csrf(page.encode())})
    assert all(n.read_at for n in notifications.console_inbox(world["leader"].id))


def test_the_session_cookie_is_http_only_same_site_and_secure_in_production(client, make):
    from backend.config import Config, ProductionConfig
    response = _login(client, make.world()["workers"][0])
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the test app, like development, is plain HTTP
    assert ProductionConfig.SESSION_COOKIE_SECURE is True and Config.SESSION_COOKIE_SECURE is False
