"""Staff enter a hotline call in the console: it lands in the right grid's queue; bad input and
addresses outside the scope are refused in Chinese; a resubmitted form makes one order."""
import re

from sqlalchemy import func, select

from backend.accounts.actors import Actor
from backend.dispatch import listings
from backend.orders.models import Order
from tests.console.test_console import _csrf, _login

CALL = {"channel": "hotline", "caller_name": "刘建国", "caller_phone": "13712345678",
        "location_text": "水晶城小区8号楼", "text": "8号楼地下室进水了，水泵不转"}


def _form(client):
    page = client.get("/console/intake").data
    return _csrf(page), re.search(rb'name="client_id" value="([^"]+)"', page).group(1).decode()


def test_a_hotline_call_entered_in_the_console_lands_in_the_grids_queue(client, make, db):
    world = make.world()
    _login(client, world["community_admin"])
    token, client_id = _form(client)
    made = client.post("/console/intake", data={**CALL, "csrf": token, "client_id": client_id})
    assert made.status_code == 302
    number = made.location.rsplit("/", 1)[1]
    again = client.post("/console/intake", data={**CALL, "csrf": token, "client_id": client_id})
    assert again.location.rsplit("/", 1)[1] == number  # the same form twice: one order
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    order = db.session.scalar(select(Order).where(Order.number == number))
    assert (order.channel, order.grid_id, order.caller_name) == ("hotline", world["grids"][1].id, "刘建国")
    waiting = listings.queue(Actor.for_staff(world["workers"][1]))["waiting"]
    assert [o.number for o in waiting] == [number]
    assert listings.queue(Actor.for_staff(world["workers"][0]))["waiting"] == []


def test_bad_input_and_foreign_addresses_are_refused_in_chinese(client, make, db):
    world = make.world()
    _login(client, world["workers"][0])  # grid 1: building 8 is grid 2's
    token, client_id = _form(client)
    foreign = client.post("/console/intake", data={**CALL, "csrf": token, "client_id": client_id})
    assert foreign.status_code == 403 and "不在你的管辖范围内" in foreign.data.decode()
    for bad in ({"channel": "wechat"}, {"text": ""}, {"caller_phone": "call me"}, {"grade": "x"}):
        page = client.post("/console/intake", data={**CALL, **bad, "csrf": token, "client_id": client_id})
        assert page.status_code == 422 and "请检查" in page.data.decode(), bad  # as the API: bad input is 422
    unknown = client.post("/console/intake", data={**CALL, "location_text": "水晶城小区3号楼", "category": "没有/这个",
                                                   "csrf": token, "client_id": client_id})
    assert unknown.status_code == 422 and "类别不是标准分类" in unknown.data.decode()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_photo_report_keeps_its_photo_and_a_refused_one_leaves_no_file(client, make, db, app):
    import io
    from pathlib import Path
    world = make.world()
    png = (Path(__file__).resolve().parents[1] / "fixtures/wechat/media.png").read_bytes()
    uploads = Path(app.config["UPLOAD_DIR"])
    before = set(uploads.rglob("*.png"))
    _login(client, world["workers"][0])
    token, client_id = _form(client)
    foreign = client.post("/console/intake", content_type="multipart/form-data", data={
        **CALL, "channel": "photo_report", "csrf": token, "client_id": client_id, "photo": (io.BytesIO(png), "p.png")})
    assert foreign.status_code == 403 and set(uploads.rglob("*.png")) == before  # grid 2's address: no file kept
    made = client.post("/console/intake", content_type="multipart/form-data", data={
        **CALL, "channel": "photo_report", "location_text": "水晶城小区3号楼", "csrf": token, "client_id": client_id,
        "photo": (io.BytesIO(png), "p.png")})
    assert made.status_code == 302
    order = db.session.scalar(select(Order).where(Order.number == made.location.rsplit("/", 1)[1]))
    assert order.channel == "photo_report" and len(order.attachments) == 1
    assert (uploads / order.attachments[0].url[len("/uploads/"):]).read_bytes() == png


def test_the_kind_is_predicted_from_the_call_unless_staff_choose_one(client, make, db):
    """Issue 25: the form offers 按内容自动判断 first; a call left so gets its kind from its text."""
    world = make.world()
    _login(client, world["community_admin"])
    token, client_id = _form(client)
    assert "按内容自动判断" in client.get("/console/intake").data.decode()
    call = {**CALL, "text": "8号楼楼上邻居天天半夜跺脚 跟他说了还吵起来了", "kind": ""}
    made = client.post("/console/intake", data={**call, "csrf": token, "client_id": client_id})
    order = db.session.scalar(select(Order).where(Order.number == made.location.rsplit("/", 1)[1]))
    assert order.kind == "dispute" and order.events[0].data.get("kind_from_text") is True
    token, client_id = _form(client)
    chosen = client.post("/console/intake", data={**call, "kind": "consultation", "csrf": token, "client_id": client_id})
    order = db.session.scalar(select(Order).where(Order.number == chosen.location.rsplit("/", 1)[1]))
    assert order.kind == "consultation" and "kind_from_text" not in order.events[0].data
