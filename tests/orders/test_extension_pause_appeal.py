"""延期, 挂起 and 申诉/免责 with the clock moved, and the figures they produce checked against values
computed by hand. Working time is the default calendar: Mon–Fri 08:30–17:30 (9 h a day) with the
State Council's holidays and 调休 days from the chinese-calendar package — nothing configured."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend import clock
from backend.accounts.actors import Actor
from backend.dispatch import listings, ticks
from backend.errors import DomainError
from backend.extensions import db as _db
from backend.orders import figures, services
from backend.orders.models import Order

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


def travel_to(moment):
    clock.travel(moment - clock.now())


def near(moment, expected):
    """The clock moves on while a test runs (travel sets an offset, not a time): a deadline lands
    within a second of the hand-computed one."""
    return abs(moment - expected) < timedelta(seconds=1)


@pytest.fixture
def people(world):
    return {"worker": Actor.for_staff(world["workers"][0]), "leader": Actor.for_staff(world["leader"]),
            "admin": Actor.for_staff(world["community_admin"]), "resident": Actor.for_resident(world["resident"])}


def new_order(make, world, people):
    """A normal order in grid 1, claimed by its worker at once: 3 working days (27 h) to resolve."""
    order = make.order(world["resident"], text="楼道灯坏了", location_text="水晶城小区3号楼2单元",
                       category="城乡建设/城市建设和市政管理/城市公共设施")
    assert order.grid_id == world["grids"][0].id and order.rung == "grid_worker"
    return services.perform(people["worker"], order, "claim")


def do(actor, order, action, **given):
    return services.perform(actor, _db.session.get(Order, order.id), action, **given)


def month_figures(world, first_moment):
    return figures.periods(Order.community_id == world["community"].id, {"month": first_moment}, clock.now())["month"]


def refused(status, actor, order, action, **given):
    with pytest.raises(DomainError) as caught:
        do(actor, order, action, **given)
    _db.session.rollback()
    assert caught.value.status == status, caught.value.message
    return caught.value


def test_an_extension_approved_counts_on_time_against_the_new_deadline_and_a_refused_one_does_not(
        db, redis, make, world, people):
    travel_to(at(2026, 11, 23, 9, 0))  # a Monday
    a, b, c = (new_order(make, world, people) for _ in range(3))
    # 27 working hours from Mon 09:00: Mon 8.5 h, Tue 9 h, Wed 9 h, Thu 0.5 h → Thu 09:00.
    assert a.resolve_by == a.due_at and near(a.resolve_by, at(2026, 11, 26, 9, 0))

    travel_to(at(2026, 11, 25, 10, 0))
    do(people["worker"], a, "extend", reason="等待配件到货", until=at(2026, 11, 30, 17, 30).isoformat())
    do(people["worker"], b, "extend", reason="等待配件到货", until=at(2026, 11, 30, 17, 30).isoformat())
    refused(409, people["worker"], a, "extend", reason="再延一次", until=at(2026, 12, 1, 17, 30).isoformat())
    refused(403, people["worker"], a, "approve_extension")  # never one's own
    a = do(people["leader"], a, "approve_extension")
    assert a.resolve_by == a.due_at == at(2026, 11, 30, 17, 30) and "extended" in a.flags
    b = do(people["leader"], b, "refuse_extension", reason="时限内可以办完")
    assert b.resolve_by == b.due_at and near(b.resolve_by, at(2026, 11, 26, 9, 0)) and "extended" not in b.flags
    # The limits: at most 10 working days per extension (422), at most two granted (409).
    refused(422, people["worker"], a, "extend", reason="再延", until=at(2026, 12, 31, 17, 30).isoformat())
    refused(422, people["worker"], a, "extend", reason="再延", until=at(2026, 11, 30, 9, 0).isoformat())
    do(people["worker"], a, "extend", reason="再延", until=at(2026, 12, 1, 17, 30).isoformat())
    a = do(people["leader"], a, "approve_extension")
    assert a.resolve_by == at(2026, 12, 1, 17, 30)
    refused(409, people["worker"], a, "extend", reason="第三次", until=at(2026, 12, 2, 17, 30).isoformat())

    do(people["worker"], c, "resolve", result="灯已换好")  # Wed, in time
    travel_to(at(2026, 11, 30, 10, 0))  # Monday: after the first deadline, before the extended one
    do(people["worker"], a, "resolve", result="灯已换好")
    do(people["worker"], b, "resolve", result="灯已换好")
    got = month_figures(world, at(2026, 11, 1))
    # By hand: 3 resolved; a (extended) and c on time, b late → 2/3; one of them extended.
    assert (got["resolved"], got["on_time"], got["on_time_rate"], got["extended"]) == (3, 2, 0.6667, 1)
    actions = [e.action for e in _db.session.get(Order, a.id).events]
    assert actions.count("approve_extension") == 2 and "refuse_extension" in [e.action for e in b.events]


def test_a_pause_across_a_weekend_and_national_day_with_its_make_up_days_stops_the_clock(
        db, redis, make, world, people):
    travel_to(at(2026, 9, 18, 9, 0))  # Friday; Sat 9-19 off, Sun 9-20 worked (调休 for 国庆)
    order = new_order(make, world, people)
    # 27 h: Fri 8.5, Sun 9-20 9, Mon 9-21 9, Tue 0.5 → Tue 9-22 09:00 (the Sunday counts).
    assert near(order.resolve_by, at(2026, 9, 22, 9, 0))

    travel_to(at(2026, 9, 18, 13, 0))
    order = do(people["worker"], order, "pause", reason="等雨停再施工", why="weather", days=2)
    assert "paused" in order.flags
    # Left at the pause: Fri 13:00–17:30 4.5 h, Sun 9 h, Mon 9 h, Tue 0.5 h = 23 h.
    assert abs(order.events[-1].data["left"] - 23 * 3600) < 1

    travel_to(at(2026, 10, 5, 10, 0))  # in the middle of 国庆, long past the old deadline
    ticks.sla_tick(clock.now())
    order = _db.session.get(Order, order.id)
    assert (order.state, order.rung) == ("claimed", "grid_worker")  # no escalation while paused
    assert month_figures(world, at(2026, 9, 1))["overdue"] == 0

    travel_to(at(2026, 10, 8, 10, 0))  # Thursday, the first working day after 10-1..10-7
    order = do(people["worker"], order, "resume", note="天晴了，已开工")
    # 23 h from Thu 10:00: Thu 7.5 h, Fri 9 h, then 6.5 h of Sat 10-10 (调休, worked) → 15:00.
    assert order.resolve_by == order.due_at and near(order.resolve_by, at(2026, 10, 10, 15, 0))
    assert "paused" not in order.flags and "was_paused" in order.flags
    resume = order.events[-1]
    assert resume.action == "resume" and abs(resume.data["left"] - 23 * 3600) < 1

    travel_to(at(2026, 10, 10, 14, 0))
    do(people["worker"], order, "resolve", result="已修好")
    got = month_figures(world, at(2026, 10, 1))
    assert (got["resolved"], got["on_time"], got["on_time_rate"], got["paused"]) == (1, 1, 1.0, 1)


def test_a_long_pause_waits_for_the_leader_and_the_clock_runs_until_then(db, redis, make, world, people):
    travel_to(at(2026, 2, 12, 9, 0))  # Thursday before 春节 (2-15..2-23 off; Sat 2-14 and 2-28 worked)
    order = new_order(make, world, people)
    # 27 h: Thu 8.5, Fri 9, Sat 2-14 (调休) 9, then 0.5 h of Tue 2-24 → 09:00.
    assert near(order.resolve_by, at(2026, 2, 24, 9, 0))
    order = do(people["worker"], order, "pause", reason="等物业维修基金审批", why="third_party", days=10)
    assert "pause_pending" in order.flags and "paused" not in order.flags  # beyond the 3-day limit
    listed = listings.supervision(people["leader"])
    assert order.number in [o.number for o in listed["requests"]]
    refused(403, people["worker"], order, "approve_pause")

    travel_to(at(2026, 2, 13, 9, 0))  # a working day later: the clock ran meanwhile
    order = do(people["leader"], order, "approve_pause")
    # Left at the approval: Fri 8.5 h + Sat 9 h + Tue 0.5 h = 18 h.
    assert "paused" in order.flags and abs(order.events[-1].data["left"] - 18 * 3600) < 1
    travel_to(at(2026, 3, 2, 8, 30))  # Monday
    order = do(people["worker"], order, "resume")
    assert near(order.resolve_by, at(2026, 3, 3, 17, 30))  # 18 h from Monday's opening: Mon 9 h + Tue 9 h


def test_an_approved_appeal_leaves_the_units_rates_but_not_its_counts_or_timeline(db, redis, make, world, people):
    travel_to(at(2026, 11, 2, 9, 0))  # Monday
    late, good = new_order(make, world, people), new_order(make, world, people)
    do(people["worker"], good, "resolve", result="灯已换好")
    do(people["resident"], good, "rate", satisfaction="satisfied")
    travel_to(at(2026, 11, 9, 9, 0))  # a week later: past its Thursday deadline
    do(people["worker"], late, "resolve", result="灯已换好")
    do(people["resident"], late, "reopen", satisfaction="unsatisfied", comment="要求物业赔偿")
    do(people["worker"], late, "claim")  # fresh limits from the reopening: Thu 11-12 09:00
    travel_to(at(2026, 11, 20, 9, 0))
    do(people["worker"], late, "resolve", result="不属于公共事务，已解释")
    before = month_figures(world, at(2026, 11, 1))
    # By hand: 2 received, 2 resolved, 1 on time → 0.5; rated 2 (满意, 不满意) → 0.5.
    assert (before["received"], before["resolved"], before["on_time_rate"], before["rated"],
            before["satisfaction_rate"], before["exempt"]) == (2, 2, 0.5, 2, 0.5, 0)

    refused(422, people["worker"], late, "appeal", ground="annoying", reason="无理要求")
    do(people["worker"], late, "appeal", ground="unreasonable", reason="要求赔偿不属于公共服务范围")
    refused(403, people["leader"], late, "approve_appeal")  # the community decides
    do(people["admin"], late, "refuse_appeal", reason="请先补充回访记录")
    assert month_figures(world, at(2026, 11, 1)) == before
    do(people["worker"], late, "appeal", ground="unreasonable", reason="已补充回访录音")
    late = do(people["admin"], late, "approve_appeal")
    assert "exempt" in late.flags
    refused(409, people["worker"], late, "appeal", ground="repeated", reason="再申诉")

    after = month_figures(world, at(2026, 11, 1))
    # By hand: still 2 received, 2 resolved and 2 rated; the exempt one leaves both rates → 1/1.
    assert (after["received"], after["resolved"], after["on_time_rate"], after["rated"],
            after["satisfaction_rate"], after["exempt"]) == (2, 2, 1.0, 2, 1.0, 1)
    assert [e.action for e in late.events][-4:] == ["appeal", "refuse_appeal", "appeal", "approve_appeal"]
    assert late.events[-1].data["ground"] == "unreasonable"


def test_the_api_and_the_console_take_these_rows_and_refuse_bad_input_in_chinese(app, db, redis, make, world,
                                                                                   people, auth):
    order = new_order(make, world, people)
    client = app.test_client()
    worker = auth.headers_for(world["workers"][0])
    url = f"/api/v1/orders/{order.number}"
    for body in ({"reason": "等配件", "until": "下周一"}, {"reason": "等配件"},
                 {"reason": "等配件", "until": (order.resolve_by - timedelta(hours=1)).isoformat()}):
        answer = client.post(url + "/extend", json=body, headers=worker)
        assert answer.status_code == 422 and "until" in answer.json["error"]["fields"], answer.json
    answer = client.post(url + "/pause", json={"reason": "等雨停", "why": "lazy"}, headers=worker)
    assert answer.status_code == 422 and "why" in answer.json["error"]["fields"]
    answer = client.post(url + "/appeal", json={"ground": "boring", "reason": "无"}, headers=worker)
    assert answer.status_code == 422 and "ground" in answer.json["error"]["fields"]
    message = client.post(url + "/pause", json={"why": "x"}, headers=worker).json["error"]["message"]
    assert message and not any("a" <= ch.lower() <= "z" for ch in message), message  # said in Chinese
    # The console's form: a local date and time from <input type=datetime-local>, a select for 原因.
    from backend.accounts import sessions
    with client.session_transaction() as session:
        session["csrf"] = "t"
        sessions.sign_in(session, "staff", world["workers"][0])
    until = (order.resolve_by + timedelta(days=2)).astimezone(SH).replace(tzinfo=None, second=0, microsecond=0)
    page = client.post(f"/console/orders/{order.number}/extend",
                       data={"reason": "等配件", "until": until.isoformat(timespec="minutes"), "csrf": "t"})
    assert page.status_code == 302
    order = _db.session.get(Order, order.id)
    _db.session.refresh(order)
    assert "extension_pending" in order.flags and order.events[-1].data["until"] == until.replace(tzinfo=SH).isoformat()
    shown = client.get(f"/console/orders/{order.number}").get_data(as_text=True)
    assert "挂起" in shown and "等待第三方" in shown  # the pause form with its reasons
