"""考核 (orders/assessment.py): each formula on a few orders with the clock moved, against values
computed by hand. Working time: Mon–Fri 08:30–17:30 and the official calendar (November 2026 has no
holiday). A normal order: claim within 2 working hours, resolve within 27 (3 working days)."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import true

from backend import clock
from backend.accounts.actors import SYSTEM, Actor
from backend.dispatch import ticks
from backend.extensions import db as _db
from backend.orders import assessment, figures, services
from backend.orders.models import Order

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


def travel_to(moment):
    clock.travel(moment - clock.now())


def do(actor, order, action, **given):
    return services.perform(actor, _db.session.get(Order, order.id), action, **given)


@pytest.fixture
def people(world):
    return {"w1": Actor.for_staff(world["workers"][0]), "w2": Actor.for_staff(world["workers"][1]),
            "leader": Actor.for_staff(world["leader"]), "admin": Actor.for_staff(world["community_admin"]),
            "resident": Actor.for_resident(world["resident"])}


def new(make, world, grid=1):
    return make.order(world["resident"], text="楼道灯坏了", location_text=f"水晶城小区{3 if grid == 1 else 8}号楼",
                      category="城乡建设/城市建设和市政管理/城市公共设施")


def unit(found, level, key):
    return next(r for r in found[level] if r["key"] == key)


def november(world):
    return assessment.report(Order.community_id == world["community"].id, 2026, 11)


def test_response_rate_counts_takes_within_the_limit_over_takes_and_missed_limits(db, redis, make, world, people):
    travel_to(at(2026, 11, 2, 9, 0))  # Monday; claim-by 11:00
    quick, slow, missed = new(make, world), new(make, world), new(make, world)
    travel_to(at(2026, 11, 2, 10, 0))
    do(people["w1"], quick, "claim")
    travel_to(at(2026, 11, 2, 11, 30))
    do(people["w1"], slow, "claim")  # half an hour late (the tick had not run yet)
    ticks.escalate_missed(missed.id, clock.now())  # nobody took it: up to the grid leader
    do(people["leader"], missed, "claim")  # the leader's fresh limit: in time
    found = november(world)
    g1, w1 = world["grids"][0].id, world["workers"][0].id
    # By hand: the grid had 4 takes due (3 claims + 1 missed limit), 2 in time (quick, leader) → 0.5;
    # worker 1: 2 takes, 1 in time → 0.5; the leader 1/1.
    assert (unit(found, "grid", g1)["respond_due"], unit(found, "grid", g1)["response_rate"]) == (4, 0.5)
    assert unit(found, "worker", w1)["response_rate"] == 0.5
    assert unit(found, "worker", world["leader"].id)["response_rate"] == 1.0
    assert found["scope"]["response_rate"] == 0.5
    reasons = {d["number"]: [x["reason"] for x in d["reasons"]] for d in unit(found, "grid", g1)["deductions"]}
    assert reasons == {slow.number: ["超时签收"], missed.number: ["超时签收"]}
    assert unit(found, "worker", w1)["score"] == 99.0 and unit(found, "grid", g1)["score"] == 98.0


def test_on_time_counts_an_approved_extension_a_pause_and_leaves_out_an_exemption(db, redis, make, world, people):
    travel_to(at(2026, 11, 2, 9, 0))  # resolve-by Thu 11-05 09:00
    extended, paused, late, exempt, taken = (new(make, world) for _ in range(5))
    for o in (extended, paused, late, exempt, taken):
        do(people["w1"], o, "claim")
    do(people["w1"], extended, "extend", reason="等配件", until=at(2026, 11, 10, 17, 30).isoformat())
    do(people["leader"], extended, "approve_extension")
    do(people["w1"], paused, "pause", reason="居民不在家", why="resident")
    do(people["w1"], exempt, "appeal", ground="unreasonable", reason="不属于公共事务")
    do(people["admin"], exempt, "approve_appeal")
    travel_to(at(2026, 11, 9, 9, 0))  # Monday: past the first deadline
    do(people["w1"], paused, "resume")  # the 27 h left come back from now: Thu 11-12 09:00
    for o in (extended, paused, late, exempt):
        do(people["w1"], o, "resolve", result="已处理")
    ticks.escalate_missed(taken.id, clock.now())  # held past resolve-by: taken away by the tick
    found = november(world)
    w1 = unit(found, "worker", world["workers"][0].id)
    # By hand: resolutions 4, one exempt (out of the rate) → due 3 resolved + 1 taken away = 4;
    # on time: extended and paused → 2/4; 1 extension, 1 pause; the exempt one still counted.
    assert (w1["resolutions"], w1["exempt"], w1["resolve_due"], w1["on_time"]) == (4, 1, 4, 2)
    assert (w1["on_time_rate"], w1["extensions"], w1["pauses"]) == (0.5, 1, 1)
    lost = {d["number"]: d["reasons"] for d in w1["deductions"]}
    assert set(lost) == {late.number, taken.number}
    assert lost[late.number] == [{"reason": "超时办结", "points": 2.0}]


def test_solve_rate_is_the_months_intake_resolved_at_the_months_end(db, redis, make, world, people):
    travel_to(at(2026, 11, 30, 9, 0))  # the month's last day (a Monday)
    done, reopened, open_, later = (new(make, world) for _ in range(4))
    for o in (done, reopened, open_, later):
        do(people["w1"], o, "claim")
    for o in (done, reopened):
        do(people["w1"], o, "resolve", result="已处理")
    do(people["resident"], reopened, "reopen", satisfaction="unsatisfied")
    travel_to(at(2026, 12, 1, 9, 0))  # December: resolving now does not change November
    do(people["w1"], later, "resolve", result="已处理")
    found = november(world)
    # By hand: 4 received in November, 1 resolved and not reopened at its end → 0.25.
    assert (found["scope"]["received"], found["scope"]["solved"], found["scope"]["solve_rate"]) == (4, 1, 0.25)
    assert assessment.report(Order.community_id == world["community"].id, 2026, 12)["scope"]["received"] == 0


def test_satisfaction_self_rated_and_by_callback_apart_reopen_rate_and_unrated(db, redis, make, world, people):
    travel_to(at(2026, 11, 2, 9, 0))
    orders = [new(make, world) for _ in range(6)]
    for o in orders:
        do(people["w1"], o, "claim")
        do(people["w1"], o, "resolve", result="已处理")
    happy, basic, unhappy, called_ok, called_bad, silent = orders
    do(people["resident"], happy, "rate", satisfaction="satisfied")
    do(people["resident"], basic, "rate", satisfaction="basically_satisfied")
    do(people["resident"], unhappy, "reopen", satisfaction="unsatisfied")
    travel_to(at(2026, 11, 6, 9, 0))  # past CALLBACK_AFTER_DAYS: staff may call
    services.perform(people["leader"], _db.session.get(Order, called_ok.id), "callback", satisfaction="satisfied")
    services.perform(people["leader"], _db.session.get(Order, called_bad.id), "callback_reopen",
                     satisfaction="unsatisfied")
    travel_to(at(2026, 11, 16, 9, 0))
    services.perform(SYSTEM, _db.session.get(Order, silent.id), "close")  # archived unrated: 未评价
    found = november(world)
    w1 = unit(found, "worker", world["workers"][0].id)
    # By hand: self-rated 3 (满意, 基本满意, 不满意) → 2/3; callbacks 2 → 1/2; reopened 2 of 6
    # resolutions → 1/3; one 未评价. Points: two 不满意 (2 each) and two 重办 (1 each) → 94.
    assert (w1["rated"], w1["satisfaction_rate"]) == (3, round(2 / 3, 4))
    assert (w1["callbacks"], w1["callback_satisfaction_rate"]) == (2, 0.5)
    assert (w1["reopened"], w1["reopen_rate"], w1["unrated"]) == (2, round(2 / 6, 4), 1)
    assert w1["score"] == 94.0
    # The exempt order leaves the self-rated rate (still rated once it is decided: counted only outside it).
    do(people["w1"], unhappy, "appeal", ground="malicious", reason="恶意诉求")
    do(people["admin"], unhappy, "approve_appeal")
    w1 = unit(november(world), "worker", world["workers"][0].id)
    assert (w1["rated"], w1["satisfaction_rate"], w1["score"]) == (2, 1.0, 96.0)


def test_urged_and_supervised_are_presses_before_and_after_the_deadline(db, redis, make, world, people):
    travel_to(at(2026, 11, 2, 9, 0))
    early, late = new(make, world), new(make, world)
    do(people["w1"], early, "claim")
    do(people["leader"], early, "supervise", note="请尽快处理")  # within its limit: 催办
    travel_to(at(2026, 11, 2, 12, 0))  # past late's claim-by, the tick has not run
    do(people["leader"], late, "supervise", note="已超时，请立即接单")  # 督办
    found = november(world)
    g1 = unit(found, "grid", world["grids"][0].id)
    assert (g1["urged"], g1["supervised"], g1["deducted"]) == (1, 1, 1.5)
    assert unit(found, "worker", world["workers"][0].id)["urged"] == 1


def test_a_later_transfer_does_not_move_a_past_month(db, redis, make, world, people):
    travel_to(at(2026, 11, 2, 9, 0))
    order = new(make, world)
    do(people["w1"], order, "claim")
    do(people["w1"], order, "resolve", result="已处理")
    do(people["resident"], order, "reopen", satisfaction="unsatisfied")
    before = november(world)
    travel_to(at(2026, 12, 2, 9, 0))
    do(people["admin"], order, "transfer", reason="属于二网格", grid_id=world["grids"][1].id)
    after = november(world)
    g1, g2 = world["grids"][0].id, world["grids"][1].id
    assert unit(after, "grid", g1) == unit(before, "grid", g1) and not [r for r in after["grid"] if r["key"] == g2]


def test_the_property_figures_honour_an_approved_exemption(db, redis, make, world, people):
    travel_to(at(2026, 11, 2, 9, 0))
    company = make.property_company((world["community"], "水晶城小区"))
    clerk = Actor.for_staff(make.staff("property_staff", property_company=company))
    kept, exempt = (make.order(world["resident"], text="电梯坏了", location_text="水晶城小区3号楼") for _ in range(2))
    assert kept.rung == exempt.rung == "property"
    for o in (kept, exempt):
        do(clerk, o, "claim")
    do(clerk, kept, "resolve", result="已修好")
    travel_to(at(2026, 11, 9, 9, 0))  # past the property's two working days
    do(clerk, exempt, "resolve", result="已修好")
    do(people["resident"], kept, "rate", satisfaction="satisfied")
    do(people["resident"], exempt, "reopen", satisfaction="unsatisfied")
    where = Order.community_id == world["community"].id
    row = figures.by_property(where, at(2026, 11, 1))[0]
    assert (row["resolved"], row["on_time_rate"], row["rated"], row["satisfaction_rate"]) == (2, 0.5, 2, 0.5)
    do(people["admin"], exempt, "appeal", ground="repeated", reason="重复诉求")
    do(people["admin"], exempt, "approve_appeal")
    row = figures.by_property(where, at(2026, 11, 1))[0]
    # By hand: both still resolved and rated; the exempt one leaves both rates → 1/1 each.
    assert (row["resolved"], row["exempt"], row["on_time_rate"], row["rated"], row["satisfaction_rate"]) == (
        2, 1, 1.0, 2, 1.0)
    found = assessment.report(where, 2026, 11)
    prop = unit(found, "property", company.id)
    assert (prop["resolutions"], prop["exempt"], prop["on_time_rate"], prop["satisfaction_rate"]) == (2, 1, 1.0, 1.0)


def test_every_public_unit_is_named_only_by_place(db, redis, make, world, people):
    travel_to(at(2026, 11, 2, 9, 0))
    order = new(make, world)
    do(people["w1"], order, "claim")
    page = assessment.report(true(), 2026, 11, levels=("community", "grid"))
    assert "worker" not in page and {r["name"] for r in page["grid"]} == {world["grids"][0].name}


def test_the_dashboards_row_is_the_rankings_scope_row_reused_for_a_while(app, db, redis, make, world, people,
                                                                         monkeypatch, caplog):
    """The dashboard's 本月考核 cards read the one module (assessment.scope_row): the same row as the
    ranking's 总体, kept in Redis for ASSESSMENT_CACHE_SECONDS per scope, computed afresh when the
    setting is 0 or Redis is down."""
    travel_to(at(2026, 11, 2, 9, 0))
    quick, slow = new(make, world), new(make, world)
    do(people["w1"], quick, "claim")
    do(people["leader"], slow, "supervise", note="请尽快接单")
    travel_to(at(2026, 11, 2, 11, 30))
    do(people["w1"], slow, "claim")  # late: 响应率 1/2
    admin = people["admin"]
    ranking = assessment.for_staff(admin, 2026, 11)["scope"]
    assert (ranking["response_rate"], ranking["urged"], ranking["score"]) == (0.5, 1, 98.5)
    assert figures.dashboard(admin)["assessment"] == ranking

    do(people["w1"], quick, "resolve", result="已处理")
    do(people["resident"], quick, "reopen", satisfaction="unsatisfied")
    fresh = assessment.for_staff(admin, 2026, 11)["scope"]
    assert (fresh["reopened"], fresh["satisfaction_rate"]) == (1, 0.0)
    assert figures.dashboard(admin)["assessment"] == ranking  # the cached row, within its 300 s
    monkeypatch.setitem(app.config, "ASSESSMENT_CACHE_SECONDS", 0)
    assert figures.dashboard(admin)["assessment"] == fresh

    monkeypatch.setitem(app.config, "ASSESSMENT_CACHE_SECONDS", 300)
    # The app's Redis pointed at a port nobody listens on. (Not its get/set patched: monkeypatch puts
    # back what it read, the methods bound to the client of that moment, as attributes of the
    # wrapper, so later tests swapping the client would no longer reach get and set.)
    import redis as redis_lib
    from backend.extensions import redis as client
    from tests.conftest import _free_port
    monkeypatch.setattr(client, "client", redis_lib.Redis(port=_free_port(), socket_connect_timeout=0.5,
                                                          decode_responses=True))
    assert figures.dashboard(admin)["assessment"] == fresh  # Redis down: computed, never failing
    assert "assessment cache unavailable (ConnectionError)" in caplog.text


def test_a_department_answers_for_its_rung_and_the_area_for_the_missed_limits_below_it(db, redis, make, city):
    """An urgent order nobody takes climbs the ladder by the tick to the department (吹哨), which
    reports (报到) in time and resolves: the department's row has only what happened at its rung."""
    travel_to(at(2026, 11, 2, 9, 0))
    order = make.order(city["resident"], grade="urgent", text="路面塌陷", location_text="水晶城小区3号楼",
                       category="城乡建设/城市建设和市政管理")
    for rung in ("grid_leader", "community", "street", "department"):  # four claim limits missed
        travel_to(_db.session.get(Order, order.id).due_at + timedelta(seconds=1))
        ticks.sla_tick(clock.now())
        assert _db.session.get(Order, order.id).rung == rung
    liaison = Actor.for_staff(city["liaison"])
    travel_to(clock.now() + timedelta(minutes=20))  # within the department's hour to report
    do(liaison, order, "claim")
    travel_to(clock.now() + timedelta(hours=2))
    do(liaison, order, "resolve", result="已回填路面")
    found = assessment.report(Order.community_id == city["community"].id, 2026, 11)
    dept = unit(found, "department", city["department"].id)
    # By hand: the department received 1, took it in time (1/1), resolved it in time (1/1), no points lost.
    assert (dept["received"], dept["respond_due"], dept["response_rate"], dept["resolutions"],
            dept["on_time_rate"], dept["solve_rate"], dept["score"]) == (1, 1, 1.0, 1, 1.0, 1.0, 100.0)
    assert unit(found, "worker", city["liaison"].id)["response_rate"] == 1.0
    # The grid and community answer for the area: 4 missed claim limits + 1 take in time → 1/5, 4 points.
    for level, key in (("grid", city["grids"][0].id), ("community", city["community"].id)):
        row = unit(found, level, key)
        assert (row["respond_due"], row["responded"], row["response_rate"], row["score"]) == (5, 1, 0.2, 96.0)
        assert [r["reason"] for r in row["deductions"][0]["reasons"]] == ["超时签收"] * 4


def test_the_dashboard_names_its_two_satisfaction_rates_apart(app, db, redis, make, world, people):
    """The month's 满意率 counts each order's standing answer; the 考核's counts every answer (a
    不满意 that reopened it, then the 满意 after it): one order, 100 % and 50 % — never one label."""
    from backend.accounts import sessions
    travel_to(at(2026, 11, 2, 9, 0))
    order = new(make, world)
    do(people["w1"], order, "claim")
    do(people["w1"], order, "resolve", result="已处理")
    do(people["resident"], order, "reopen", satisfaction="unsatisfied")
    do(people["w1"], order, "claim")
    do(people["w1"], order, "resolve", result="已重新处理")
    do(people["resident"], order, "rate", satisfaction="satisfied")
    board = figures.dashboard(people["admin"])
    assert (board["month"]["rated"], board["month"]["satisfaction_rate"]) == (1, 1.0)
    assert (board["assessment"]["rated"], board["assessment"]["satisfaction_rate"]) == (2, 0.5)
    client = app.test_client()
    with client.session_transaction() as session:
        sessions.sign_in(session, "staff", world["community_admin"])
    page = client.get("/console/").get_data(as_text=True)
    assessed = page[page.index('id="figures-assessment"'):]
    assert "<span>考核满意率</span>" in assessed and "50.0%" in assessed and "按每次评价计 2 次" in assessed
    assert "<span>满意率</span>" not in assessed and "<span>满意率</span>" in page[:page.index('id="figures-assessment"')]
