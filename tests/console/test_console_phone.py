"""The grid worker's phone pages: the queue by due time, claim, progress and resolve with a camera
photo, escalate with a reason — the same lifecycle rows as the desk."""
import io
from pathlib import Path

from flask import current_app

from tests.console.test_console import _csrf, _login

PNG = (Path(__file__).resolve().parents[1] / "fixtures/wechat/media.png").read_bytes()


def _post(client, number, action, token, photo=None, **fields):
    data = {"csrf": token, **fields}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "camera.jpg")
    return client.post(f"/console/m/orders/{number}/{action}", data=data, content_type="multipart/form-data")


def test_the_queue_is_by_due_time_with_countdowns(client, make):
    world = make.world()
    normal = make.order(world["resident"])
    urgent = make.order(world["resident"], grade="urgent")
    _login(client, world["workers"][0])
    page = client.get("/console/m/").data.decode()
    assert page.index(urgent.number) < page.index(normal.number)  # urgent: claim within 10 minutes
    assert f'data-due="{urgent.due_at.isoformat()}"' in page and "countdown.js" in page


def test_a_worker_claims_adds_progress_with_a_photo_and_resolves(client, make, db):
    world = make.world()
    order = make.order(world["resident"])
    _login(client, world["workers"][0])
    token = _csrf(client.get(f"/console/m/orders/{order.number}").data)
    assert _post(client, order.number, "claim", token).status_code == 302
    _post(client, order.number, "progress", token, photo=PNG, note="已联系物业")
    _post(client, order.number, "resolve", token, photo=PNG, result="灯已更换")
    db.session.expire_all()
    assert order.state == "resolved" and order.result == "灯已更换"
    stored = [a for a in order.attachments if a.url.startswith("/uploads/")]
    assert [a.event.action for a in stored] == ["progress", "resolve"]
    assert all((Path(current_app.config["UPLOAD_DIR"]) / a.url[len("/uploads/"):]).read_bytes() == PNG for a in stored)


def test_a_file_that_is_no_photo_changes_nothing_and_says_why(client, make, db):
    world = make.world()
    order = make.order(world["resident"])
    _login(client, world["workers"][0])
    token = _csrf(client.get(f"/console/m/orders/{order.number}").data)
    _post(client, order.number, "claim", token)
    _post(client, order.number, "progress", token, photo=b"<html>not a photo</html>", note="已联系物业")
    page = client.get(f"/console/m/orders/{order.number}").data.decode()
    assert "只能接收 JPEG、PNG 或 WebP 格式的照片" in page
    db.session.expire_all()
    assert order.state == "claimed" and order.attachments == []


def test_escalating_needs_a_reason_and_other_grids_cannot_act(client, make, db):
    world = make.world()
    order = make.order(world["resident"])
    _login(client, world["workers"][1])  # grid 2's worker
    token = _csrf(client.get("/console/m/").data)
    _post(client, order.number, "claim", token)
    db.session.expire_all()
    assert order.state == "submitted"
    client.post("/console/logout", data={"csrf": token})
    _login(client, world["workers"][0])
    token = _csrf(client.get(f"/console/m/orders/{order.number}").data)
    _post(client, order.number, "escalate", token, reason="  ")
    db.session.expire_all()
    assert order.rung == "grid_worker"
    _post(client, order.number, "escalate", token, reason="需要物业公司配合")
    db.session.expire_all()
    assert order.state == "escalated" and order.rung == "grid_leader"
    assert client.post(f"/console/m/orders/{order.number}/close", data={"csrf": token}).status_code == 404


def test_a_grid_worker_signing_in_on_a_phone_starts_on_the_phone_pages(client, make, db):
    from tests.console.test_console import _csrf
    from tests.factories import PASSWORD
    world = make.world()
    phone = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 MicroMessenger/8.0"}
    for who, agent, home in ((world["workers"][0], phone, "/console/m/"), (world["workers"][1], {}, "/console/"),
                             (world["community_admin"], phone, "/console/")):
        client.post("/console/logout", data={"csrf": "x"})
        token = _csrf(client.get("/console/login", headers=agent).data)
        signed_in = client.post("/console/login", data={"csrf": token, "username": who.username, "password": PASSWORD},
                                headers=agent)
        assert signed_in.status_code == 302 and signed_in.location.endswith(home), (who.role, signed_in.location)
