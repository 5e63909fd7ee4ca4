"""Issue 13: what grid staff find on their rounds (patrol), the paper mailbox's letters and the
walking volunteers' visits, and the grid's "1+1+N+X" team with part-time members.

A patrol report settled on the spot is resolved in the transaction that makes it: in the figures
and the audit trail, in no queue. One not settled waits in the grid's queue like a resident's
order. A part-time member reports and follows their own reports, claims nothing and sees
residents' numbers masked."""
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.accounts.actors import Actor
from backend.accounts.models import Staff
from backend.dispatch import queues
from backend.notifications.models import Notification
from backend.orders import figures, intake, lifecycle
from backend.orders.models import Order
from tests.console.test_console import _csrf, _login

PNG = (Path(__file__).resolve().parents[1] / "fixtures/wechat/media.png").read_bytes()
PATROL = {"text": "3号楼前窨井盖破损", "location_text": "水晶城小区3号楼"}


def _report(client, token, photo=None, **fields):
    data = {"csrf": token, **fields}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "camera.jpg")
    return client.post("/console/m/report", data=data, content_type="multipart/form-data")


def _number(response) -> str:
    return re.search(r"/console/m/orders/([^/?#]+)$", response.location).group(1)


def _queued(redis, number) -> str | None:
    where = redis.hget(queues.WHERE, number)
    return where.decode() if isinstance(where, bytes) else where


def test_a_patrol_settled_on_the_spot_is_counted_and_audited_but_in_no_queue(client, make, db, redis):
    world = make.world()
    worker = world["workers"][0]
    _login(client, worker)
    token = _csrf(client.get("/console/m/report").data)
    made = _report(client, token, photo=PNG, grade="urgent", settled="1", done="已盖好井盖并设警示", **PATROL)
    assert made.status_code == 302, made.data.decode()[:300]
    number = _number(made)
    order = db.session.scalar(select(Order).where(Order.number == number))
    assert (order.channel, order.state, order.result) == ("patrol", "resolved", "已盖好井盖并设警示")
    assert order.reporter_id == order.resolver_id == worker.id and order.assignee_id is None
    assert order.due_at is None and "on_the_spot" in order.flags
    assert [(e.action, e.from_state, e.to_state, e.actor_id) for e in order.events] == [
        ("submit", None, "submitted", worker.id), ("settle", "submitted", "resolved", worker.id)]
    assert [a.event.action for a in order.attachments] == ["submit"]  # the photo of what was found
    # In no queue: not in Redis, not in anyone's waiting list, nobody alarmed by an urgent new order.
    assert _queued(redis, number) is None
    for staff in (worker, world["leader"], world["community_admin"]):
        listed = client.get("/api/v1/queue", headers=_bearer(client, staff)).json
        assert number not in str(listed["waiting"])
    assert db.session.scalar(select(Notification.id).where(Notification.order_id == order.id)) is None
    # In the figures: received, resolved, on time, and found (not reported) — settled on the spot.
    shown = figures.dashboard(Actor.for_staff(world["community_admin"]))
    assert (shown["month"]["received"], shown["month"]["resolved"], shown["month"]["on_time"]) == (1, 1, 1)
    assert shown["sources"] == {"found": 1, "reported": 0, "settled_on_spot": 1}
    assert {"channel": "patrol", "count": 1} in shown["by_channel"]


def _bearer(client, staff) -> dict:
    from backend.accounts import tokens
    return {"Authorization": "Bearer " + tokens.issue("staff", staff.id, staff.role)["token"]}


def test_a_patrol_not_settled_is_the_finders_own_work_with_what_was_done(client, make, db, redis):
    """Issue 24: the worker who filed it had to claim it back from the grid's queue; it is theirs at once."""
    world = make.world()
    make.order(world["resident"])  # a resident's own, to tell the sources apart
    _login(client, world["workers"][0])
    token = _csrf(client.get("/console/m/report").data)
    number = _number(_report(client, token, done="已设警示桩，待市政更换", **PATROL))
    order = db.session.scalar(select(Order).where(Order.number == number))
    assert (order.state, order.grid_id, order.result) == ("claimed", world["grids"][0].id, None)
    assert order.assignee_id == world["workers"][0].id and [e.action for e in order.events] == ["submit", "claim"]
    assert order.events[0].note == "已设警示桩，待市政更换" and order.due_at is not None
    assert _queued(redis, number) is None  # nobody else's to take
    mine = client.get("/api/v1/queue", headers=_bearer(client, world["workers"][0])).json
    assert number in [o["number"] for o in mine["mine"]] and number not in [o["number"] for o in mine["waiting"]]
    shown = figures.dashboard(Actor.for_staff(world["community_admin"]))
    assert shown["sources"] == {"found": 1, "reported": 1, "settled_on_spot": 0}
    # And the dashboard shows the two apart.
    _login(client, world["community_admin"])
    page = client.get("/console/").data.decode()
    assert re.search(r'data-figure="found">1<', page) and re.search(r'data-figure="reported">1<', page)


@pytest.mark.parametrize("form, message", [
    ({"text": "井盖破损"}, "地点"),  # neither a building nor a place
    ({**PATROL, "settled": "1"}, "处理情况"),  # settled, but not said how
    ({"text": "井盖破损", "location_text": "水晶城小区8号楼", "settled": "1", "done": "已处理"},
     "不在你的管辖范围内"),  # grid 2's building: not this worker's to enter
])
def test_a_refused_patrol_form_says_why_in_chinese_and_stores_nothing(client, make, db, form, message):
    world = make.world()
    _login(client, world["workers"][0])
    token = _csrf(client.get("/console/m/report").data)
    answer = _report(client, token, **form)
    assert answer.status_code in (422, 403) and message in answer.data.decode()
    assert db.session.scalar(select(Order.id)) is None


def test_settle_is_no_action_on_an_order_that_exists(client, auth, make, db):
    world = make.world()
    order = make.order(world["resident"])
    worker = world["workers"][0]
    assert "settle" not in lifecycle.REQUESTABLE
    api = client.post(f"/api/v1/orders/{order.number}/settle", json={"result": "x"}, headers=auth.headers_for(worker))
    assert api.status_code in (404, 405)
    _login(client, worker)
    token = _csrf(client.get(f"/console/orders/{order.number}").data)
    assert client.post(f"/console/orders/{order.number}/settle", data={"csrf": token, "result": "x"}).status_code == 404
    db.session.expire_all()
    assert order.state == "submitted"


# --- part-time members ------------------------------------------------------------------------

@pytest.fixture
def member(make):
    world = make.world()
    rider = make.staff("grid_member", grid=world["grids"][0], name="外卖小哥王强")
    return world, rider


def test_a_part_time_member_reports_a_visit_and_sees_the_residents_phone_masked(client, auth, make, db, member):
    world, rider = member
    _login(client, rider)
    token = _csrf(client.get("/console/m/visit").data)
    made = client.post("/console/m/visit", data={"csrf": token, "text": "楼道灯坏了好几天", "caller_name": "张桂芳",
                                                  "caller_phone": "13912345678", "location_text": "水晶城小区3号楼"})
    assert made.status_code == 302, made.data.decode()[:300]
    number = _number(made)
    page = client.get(f"/console/m/orders/{number}").data.decode()
    assert "139****5678" in page and "13912345678" not in page and "张桂芳" not in page
    desk_page = client.get(f"/console/orders/{number}").data.decode()  # the full order page too
    assert "139****5678" in desk_page and "13912345678" not in desk_page and "张桂芳" not in desk_page
    followed = client.get(f"/api/v1/orders/{number}", headers=auth.headers_for(rider))
    assert followed.status_code == 200 and "13912345678" not in followed.get_data(as_text=True)
    assert followed.json["allowed_actions"] == []
    home = client.get("/console/m/").data.decode()
    assert number in home  # 我上报的
    # The grid's worker, who calls back, sees the number plainly once they take it.
    claimed = client.post(f"/api/v1/orders/{number}/claim", json={}, headers=auth.headers_for(world["workers"][0])).json
    assert claimed["contact"] == "13912345678"


def test_a_part_time_member_cannot_claim_nor_see_other_orders_of_the_grid(client, auth, make, db, member):
    world, rider = member
    theirs = intake.record(Actor.for_staff(rider), channel="patrol", **PATROL)
    someone_elses = make.order(world["resident"], contact="13712345678")
    headers = auth.headers_for(rider)
    assert client.post(f"/api/v1/orders/{theirs.number}/claim", json={}, headers=headers).status_code == 403
    assert client.post(f"/api/v1/orders/{someone_elses.number}/claim", json={}, headers=headers).status_code == 404
    assert client.get(f"/api/v1/orders/{someone_elses.number}", headers=headers).status_code == 404
    queue = client.get("/api/v1/queue", headers=headers).json
    assert queue["waiting"] == [] and "13712345678" not in str(client.get("/console/orders").data)
    _login(client, rider)
    assert "13712345678" not in client.get("/console/orders").data.decode()
    assert "13712345678" not in client.get("/console/export/orders.csv").data.decode()
    db.session.expire_all()
    assert (theirs.state, someone_elses.state) == ("submitted", "submitted")


@pytest.mark.parametrize("channel, extra", [
    ("patrol", {"settled": True, "done": "已处理"}),  # settling is taking and resolving: not theirs
    ("letter", {}), ("hotline", {}), ("walk_in", {}),  # the desk's and the mailbox's channels
])
def test_a_part_time_member_only_passes_on_what_they_see_and_hear(client, auth, make, db, member, channel, extra):
    world, rider = member
    body = {"channel": channel, **PATROL, **extra}
    answer = client.post("/api/v1/intake", json=body, headers=auth.headers_for(rider))
    assert answer.status_code == 403, answer.json
    assert db.session.scalar(select(Order.id)) is None


def test_the_patrol_form_offers_settling_only_to_those_who_may(client, make, member):
    world, rider = member
    _login(client, rider)
    assert 'name="settled"' not in client.get("/console/m/report").data.decode()
    _login(client, world["workers"][0])
    page = client.get("/console/m/report").data.decode()
    assert 'name="settled"' in page and "水晶城小区3号楼" in page  # the grid's buildings to choose from


def test_the_team_role_fits_the_role_in_the_database(make, db):
    grid = make.grid()
    assert make.staff("grid_worker", grid=grid).team_role == "full_time"
    assert make.staff("grid_leader", grid=grid).team_role == "leader"
    assert make.staff("grid_member", grid=grid).team_role == "part_time"
    assert make.staff("community_admin", community=grid.community).team_role is None
    for role, team in (("grid_worker", "part_time"), ("grid_member", "leader"), ("sysadmin", "other")):
        db.session.add(Staff(username=f"bad-{role}", name="某", role=role, team_role=team, password_hash="x"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_an_admin_adds_a_part_time_member_to_a_grid(client, make, db):
    world = make.world()
    _login(client, world["community_admin"])
    token = _csrf(client.get("/console/staff").data)
    page = client.post("/console/staff/new", data={"csrf": token, "username": "rider-53", "name": "骑手李", "role": "grid_member",
                                                   "team_role": "other", "grid": str(world["grids"][0].id)})
    assert page.status_code == 200, page.data.decode()[:300]
    added = db.session.scalar(select(Staff).where(Staff.username == "rider-53"))
    assert (added.role, added.team_role, added.grid_id) == ("grid_member", "other", world["grids"][0].id)
    assert "其他成员" in client.get("/console/staff").data.decode()


# --- the paper mailbox ------------------------------------------------------------------------

def test_the_days_letters_are_entered_one_after_another_with_the_opening_date(client, make, db, redis):
    world = make.world()
    _login(client, world["community_admin"])
    token = _csrf(client.get("/console/letters").data)
    letters = [("8号楼地下室进水了", "水晶城小区8号楼", "刘建国", "13712345678"), ("3号楼楼道堆满杂物", "水晶城小区3号楼", "", "")]
    path = "/console/letters"
    for text, place, name, phone in letters:
        answer = client.post(path, data={"csrf": token, "opened_on": "2026-11-30", "text": text, "location_text": place,
                                         "caller_name": name, "caller_phone": phone})
        assert answer.status_code == 302, answer.data.decode()[:300]
        path = answer.location
        page = client.get(path).data.decode()
        assert 'value="2026-11-30"' in page and "<textarea name=\"text\" required maxlength=\"2000\" autofocus></textarea>" in page
    made = db.session.scalars(select(Order).order_by(Order.id)).all()
    assert [o.channel for o in made] == ["letter", "letter"]
    assert [o.grid_id for o in made] == [world["grids"][1].id, world["grids"][0].id]
    assert [o.events[0].data["opened_on"] for o in made] == ["2026-11-30", "2026-11-30"]
    assert made[0].caller_name == "刘建国" and made[0].contact == "13712345678"
    assert all(o.number in page for o in made)  # 本次已登记 lists both
    assert all(_queued(redis, o.number) for o in made)  # waiting for their grids like any order


@pytest.mark.parametrize("opened_on, message", [("2099-01-01", "不能晚于今天"), ("", "开箱日期"), ("昨天", "开箱日期")])
def test_a_letter_with_a_wrong_opening_date_is_refused_in_chinese(client, make, db, opened_on, message):
    world = make.world()
    _login(client, world["community_admin"])
    token = _csrf(client.get("/console/letters").data)
    answer = client.post("/console/letters", data={"csrf": token, "opened_on": opened_on, "text": "楼道灯坏了",
                                                   "location_text": "水晶城小区3号楼"})
    assert answer.status_code in (400, 422) and message in answer.data.decode()
    assert db.session.scalar(select(Order.id)) is None


# --- the registry -----------------------------------------------------------------------------

def _staff_sheets(*rows):
    from tests.grids.test_registry import SHEETS
    header = [*SHEETS["人员"][0], "队伍角色"]
    return {**SHEETS, "人员": [header, *rows]}


def test_the_registry_imports_a_grids_team_with_its_part_time_members_and_exports_it_back(db, redis):
    from backend.grids import registry
    from tests.grids.test_registry import workbook
    sheets = _staff_sheets(["liwei", "李伟", "网格员", "", "yg-01", "", "", "", "是", ""],
                           ["rider1", "王强", "兼职网格员", "13800000009", "yg-01", "", "", "", "是", "兼职网格员"],
                           ["police1", "赵警官", "grid_member", "", "yg-01", "", "", "", "是", "其他成员"])
    report = registry.import_registry([("台账.xlsx", workbook(sheets))])
    assert report.ok, [str(p) for p in report.problems]
    team = {s.username: (s.role, s.team_role) for s in db.session.scalars(select(Staff))}
    assert team == {"liwei": ("grid_worker", "full_time"), "rider1": ("grid_member", "part_time"),
                    "police1": ("grid_member", "other")}
    again = registry.import_registry([("台账.xlsx", registry.export_registry())])
    assert again.ok and again.counts["staff"] == {"created": 0, "updated": 0, "unchanged": 3}


@pytest.mark.parametrize("role, team, problem", [
    ("网格长", "兼职网格员", "网格长的队伍角色不能是「兼职网格员」"),
    ("兼职网格员", "网格长", "兼职网格员的队伍角色不能是「网格长」"),
    ("社区管理员", "其他成员", "社区管理员的队伍角色不能是「其他成员」"),
])
def test_a_team_role_that_does_not_fit_the_role_imports_nothing(db, redis, role, team, problem):
    from backend.grids import registry
    from tests.grids.test_registry import workbook
    place = ["", "阳光社区"] if role == "社区管理员" else ["yg-01", ""]
    report = registry.import_registry([("台账.xlsx", workbook(_staff_sheets(
        ["someone", "某人", role, "", *place, "", "", "是", team])))])
    assert [(p.sheet, p.row, p.column) for p in report.problems] == [("人员", 2, "队伍角色")]
    assert problem in report.problems[0].problem
    assert db.session.scalar(select(Staff.id)) is None


def test_the_intake_api_takes_patrol_reports_settled_or_not(client, auth, make, db, redis):
    world = make.world()
    headers = auth.headers_for(world["workers"][0])
    settled = client.post("/api/v1/intake", json={"channel": "patrol", **PATROL, "settled": True, "done": "已处理"},
                          headers=headers)
    waiting = client.post("/api/v1/intake", json={"channel": "patrol", **PATROL, "done": "已设警示桩"}, headers=headers)
    assert (settled.status_code, waiting.status_code) == (201, 201)
    assert (settled.json["state"], settled.json["result"], settled.json["due_at"]) == ("resolved", "已处理", None)
    assert waiting.json["state"] == "claimed" and waiting.json["due_at"]  # the finder's own (issue 24)
    assert _queued(redis, settled.json["number"]) is None and _queued(redis, waiting.json["number"]) is None
    # Settling is for patrols only, and needs what was done.
    for body in ({"channel": "hotline", **PATROL, "settled": True, "done": "已处理"},
                 {"channel": "patrol", **PATROL, "settled": True}):
        refused = client.post("/api/v1/intake", json=body, headers=headers)
        assert refused.status_code == 422 and "done" in refused.json["error"]["fields"]
