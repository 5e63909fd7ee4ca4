"""轮派's settings (issue 26, item 7; grids/duty.py): the community's rule that its grids follow unless
they say otherwise, the roster (排班) by weekday and date beaten for the day by the worker's own
上班/下班, and every change audited in its own transaction (duty_events)."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend import clock
from backend.accounts.actors import Actor
from backend.errors import Forbidden, NotFound, ValidationFailed
from backend.grids import duty
from backend.grids.models import DutyEvent, DutyRoster
from backend.orders import states
from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def _clock():
    yield
    clock.reset()


def _actor(staff):
    return Actor.for_staff(staff)


def _events(db, **where):
    db.session.expire_all()
    query = select(DutyEvent).order_by(DutyEvent.id)
    for name, value in where.items():
        query = query.where(getattr(DutyEvent, name) == value)
    return db.session.scalars(query).all()


def test_the_community_rule_applies_to_its_grids_unless_a_grid_says_otherwise(db, redis, make, world):
    g1, g2 = world["grids"]
    w1, w2 = world["workers"]
    w1.on_duty = w2.on_duty = True
    db.session.commit()
    # Neither the community nor the grids say anything: off everywhere.
    assert make.order(world["resident"]).assignee_id is None
    duty.set_community_rule(_actor(world["community_admin"]), world["community"].id, True)
    assert make.order(world["resident"]).assignee_id == w1.id  # grid 1 follows the community
    assert make.order(world["resident"], location_text="水晶城小区8号楼").assignee_id == w2.id  # grid 2 as well
    duty.set_grid_rule(_actor(world["leader"]), g1.id, "off")  # grid 1 says otherwise
    assert make.order(world["resident"]).assignee_id is None
    assert make.order(world["resident"], location_text="水晶城小区8号楼").assignee_id == w2.id
    duty.set_community_rule(_actor(world["street_admin"]), world["community"].id, False)
    duty.set_grid_rule(_actor(world["leader"]), g1.id, "on")  # a grid may be on in a community that is off
    assert make.order(world["resident"]).assignee_id == w1.id
    assert make.order(world["resident"], location_text="水晶城小区8号楼").assignee_id is None
    duty.set_grid_rule(_actor(world["leader"]), g1.id, "community")  # back to the community's word: off
    assert make.order(world["resident"]).state == states.SUBMITTED

    rules = [(e.action, e.actor_id, e.data["before"], e.data["after"]) for e in _events(db) if e.action.endswith("rule")]
    assert rules == [
        ("community_rule", world["community_admin"].id, False, True), ("grid_rule", world["leader"].id, None, False),
        ("community_rule", world["street_admin"].id, True, False), ("grid_rule", world["leader"].id, False, True),
        ("grid_rule", world["leader"].id, True, None)]


def test_who_keeps_the_rule(db, make, world):
    other = make.community(world["street"], name="别的社区")
    other_admin = make.staff("community_admin", community=other)
    with pytest.raises(Forbidden):
        duty.set_community_rule(_actor(world["leader"]), world["community"].id, True)  # a leader: their grid only
    with pytest.raises(NotFound):
        duty.set_community_rule(_actor(other_admin), world["community"].id, True)
    with pytest.raises(Forbidden):
        duty.set_grid_rule(_actor(world["workers"][0]), world["grids"][0].id, "on")
    with pytest.raises(NotFound):
        duty.set_grid_rule(_actor(world["leader"]), world["grids"][1].id, "on")  # not the leader's grid
    with pytest.raises(NotFound):
        duty.set_grid_rule(_actor(other_admin), world["grids"][0].id, "on")
    assert _events(db) == []
    db.session.expire_all()
    assert world["community"].auto_assign is False and world["grids"][0].auto_assign is None


def _to(weekday: int):
    """Move the clock to the next local day with that weekday (0 = Monday), at 10:00."""
    local = clock.local(clock.now())
    days = (weekday - local.weekday()) % 7 or 7
    target = (local + timedelta(days=days)).replace(hour=10, minute=0)
    clock.travel(target - local)


def test_the_roster_decides_by_weekday_and_date_and_the_days_own_toggle_beats_it(db, redis, make, world, client, auth):
    grid = world["grids"][0]
    grid.auto_assign = True
    a, b = world["workers"][0], make.staff("grid_worker", grid=grid)
    free = make.staff("grid_worker", grid=grid)  # no roster at all: their toggle decides, as before rosters
    db.session.commit()
    leader = _actor(world["leader"])
    duty.set_week(leader, grid.id, a.id, [0, 1, 2])  # 周一至周三
    duty.set_week(leader, grid.id, b.id, [3, 4])  # 周四、周五

    _to(0)  # a Monday
    assert set(duty.on_duty_ids(grid.id)) == {a.id}
    assert {make.order(world["resident"]).assignee_id for _ in range(2)} == {a.id}
    _to(3)  # Thursday
    assert set(duty.on_duty_ids(grid.id)) == {b.id}
    assert make.order(world["resident"]).assignee_id == b.id
    _to(5)  # Saturday: nobody rostered, the free worker is off: the queue
    assert duty.on_duty_ids(grid.id) == []
    assert make.order(world["resident"]).state == states.SUBMITTED

    # A date beats the week: a day off on a Monday, an extra Saturday.
    monday = clock.local(clock.now()).date() + timedelta(days=2)
    duty.set_day(leader, grid.id, a.id, monday, False)
    duty.set_day(_actor(world["community_admin"]), grid.id, b.id, monday, True)
    _to(0)
    assert set(duty.on_duty_ids(grid.id)) == {b.id}

    # The worker's own 上班 beats the roster for the day only; 下班 likewise.
    assert client.post("/api/v1/me/duty", json={"on_duty": True}, headers=auth.headers_for(a)).status_code == 200
    assert client.post("/api/v1/me/duty", json={"on_duty": False}, headers=auth.headers_for(b)).status_code == 200
    assert client.post("/api/v1/me/duty", json={"on_duty": True}, headers=auth.headers_for(free)).status_code == 200
    assert set(duty.on_duty_ids(grid.id)) == {a.id, free.id}
    _to(1)  # the next day: the roster again (a on Tuesdays); the free worker's toggle stands
    assert set(duty.on_duty_ids(grid.id)) == {a.id, free.id}
    _to(3)
    assert set(duty.on_duty_ids(grid.id)) == {b.id, free.id}

    # Back to the week for that date; a week emptied.
    duty.set_day(leader, grid.id, a.id, monday + timedelta(days=7), None)
    duty.set_week(leader, grid.id, b.id, [])
    assert db.session.scalars(select(DutyRoster.weekday).where(DutyRoster.staff_id == b.id,
                                                                DutyRoster.weekday.is_not(None))).all() == []

    week = [(e.staff_id, e.data["before"], e.data["after"]) for e in _events(db, action="roster_week")]
    assert week == [(a.id, [], [0, 1, 2]), (b.id, [], [3, 4]), (b.id, [3, 4], [])]
    days = [(e.staff_id, e.data["on_date"], e.data["after"]) for e in _events(db, action="roster_day")]
    assert days[:2] == [(a.id, monday.isoformat(), False), (b.id, monday.isoformat(), True)]
    toggles = [(e.staff_id, e.actor_id, e.data["before"], e.data["after"]) for e in _events(db, action="duty")]
    assert toggles == [(a.id, a.id, False, True), (b.id, b.id, True, False), (free.id, free.id, False, True)]


def test_the_roster_refuses_what_is_not_the_keepers(db, make, world):
    grid, other_grid = world["grids"]
    leader = _actor(world["leader"])
    with pytest.raises(Forbidden):
        duty.set_week(_actor(world["workers"][0]), grid.id, world["workers"][0].id, [0])  # a worker keeps no roster
    with pytest.raises(NotFound):
        duty.set_week(leader, other_grid.id, world["workers"][1].id, [0])  # another grid's
    with pytest.raises(NotFound):
        duty.set_week(leader, grid.id, world["workers"][1].id, [0])  # a worker of another grid
    with pytest.raises(NotFound):
        duty.set_week(leader, grid.id, world["leader"].id, [0])  # the leader is no grid worker
    with pytest.raises(ValidationFailed):
        duty.set_day(leader, grid.id, world["workers"][0].id, clock.local(clock.now()).date() - timedelta(days=1), True)
    assert _events(db) == []
    assert db.session.scalars(select(DutyRoster)).all() == []


def test_a_duty_toggle_is_one_transaction_with_its_audit_row(db, make, world, monkeypatch):
    """If the audit row cannot be written, the toggle is not kept either."""
    worker = world["workers"][0]
    original = duty._audit

    def broken(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("audit write failed")
    monkeypatch.setattr(duty, "_audit", broken)
    with pytest.raises(RuntimeError):
        duty.set_duty(_actor(worker), True)
    db.session.rollback()
    db.session.expire_all()
    assert worker.on_duty is False and _events(db) == []


def _csrf(client, path):
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_the_console_roster_page(db, redis, make, world, client):
    grid, worker = world["grids"][0], world["workers"][0]
    client.post("/console/login", data={"username": world["leader"].username, "password": PASSWORD,
                                        "csrf": _csrf(client, "/console/login")})
    page = client.get("/console/duty").get_data(as_text=True)
    assert "排班与轮派" in page and worker.name in page and "跟随社区" in page
    assert "开启社区轮派" not in page  # the community's switch is the admins'
    token = _csrf(client, "/console/duty")
    today = clock.local(clock.now()).date()
    answer = client.post("/console/duty/week", data={"csrf": token, "grid": grid.id, "staff": worker.id,
                                                     "weekdays": [str(today.weekday())]})
    assert answer.status_code == 302
    assert 'value="%d" aria-label="%s%s" checked' % (today.weekday(), worker.name, duty.WEEKDAYS[today.weekday()]) in \
        client.get(f"/console/duty?grid={grid.id}").get_data(as_text=True)
    assert duty.on_duty_ids(grid.id) == [worker.id]
    client.post("/console/duty/rule", data={"csrf": token, "grid": grid.id, "rule": "on"})
    assert make.order(world["resident"]).assignee_id == worker.id
    # A refused form comes back to the page with the reason in Chinese.
    answer = client.post("/console/duty/day", data={"csrf": token, "grid": grid.id, "staff": worker.id,
                                                    "on_date": "2001-01-01", "duty": "off"}, follow_redirects=True)
    assert "不能给过去的日期排班" in answer.get_data(as_text=True)
    answer = client.post("/console/duty/community-rule", data={"csrf": token, "grid": grid.id,
                                                               "community": world["community"].id, "enabled": "1"},
                         follow_redirects=True)
    assert "只有社区、街道管理员" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert world["community"].auto_assign is False
    assert [e.action for e in _events(db)] == ["roster_week", "grid_rule"]


def test_the_cli_sets_the_community_rule_and_a_grid_back_to_it(app, db, redis, make, world):
    runner = app.test_cli_runner()
    world["workers"][0].on_duty = True
    db.session.commit()
    result = runner.invoke(args=["community-auto-assign", world["community"].name, "--on"])
    assert result.exit_code == 0 and "轮派已开启" in result.output, result.output
    assert make.order(world["resident"]).assignee_id == world["workers"][0].id
    result = runner.invoke(args=["grid-auto-assign", world["grids"][0].code, "--off"])
    assert result.exit_code == 0 and "轮派已关闭" in result.output
    assert make.order(world["resident"]).assignee_id is None
    result = runner.invoke(args=["grid-auto-assign", world["grids"][0].code, "--follow-community"])
    assert result.exit_code == 0 and "跟随社区" in result.output
    assert make.order(world["resident"]).assignee_id == world["workers"][0].id
    assert runner.invoke(args=["grid-auto-assign", world["grids"][0].code]).exit_code != 0
    assert [(e.action, e.actor_type) for e in _events(db)] == [
        ("community_rule", "system"), ("grid_rule", "system"), ("grid_rule", "system")]
