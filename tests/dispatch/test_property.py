"""Property companies (物业) on the ladder: 小区吹哨、物业报到. Property work in a compound with a
property company goes to the property first; it must report (报到) and resolve within its own
limits or the SLA tick sends the order back to the community; its staff see only what was given
to their company."""
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend import clock
from backend.dispatch import jobs
from backend.dispatch import claims, listings
from backend.errors import InvalidTransition, NotFound
from backend.notifications.models import Notification
from backend.orders import services as orders
from backend.orders.models import Order, OrderEvent
from backend.accounts import sessions
from tests.conftest import actor

PROPERTY_WORK = "城乡建设/住房保障与房地产/物业服务"


@pytest.fixture
def estate(make, city):
    """The city, with 水晶城小区 managed by one property company and 翠湖苑 (in grid 2) by another."""
    community = city["community"]
    make.building(city["grids"][1], compound="翠湖苑", number=12)
    city["property"] = make.property_company((community, "水晶城小区"), name="绿城物业")
    city["other_property"] = make.property_company((community, "翠湖苑"), name="金地物业")
    city["keeper"] = make.staff("property_staff", property_company=city["property"], name="物业小王")
    city["other_keeper"] = make.staff("property_staff", property_company=city["other_property"])
    return city


def _reload(db, number) -> Order:
    db.session.rollback()
    return db.session.scalar(select(Order).where(Order.number == number))


def _events(db, order_id, action):
    return db.session.scalars(select(OrderEvent).where(
        OrderEvent.order_id == order_id, OrderEvent.action == action).order_by(OrderEvent.id)).all()


def _told(db, order_id, kind):
    return sorted(db.session.scalars(select(Notification.recipient_id).where(
        Notification.order_id == order_id, Notification.kind == kind, Notification.recipient_type == "staff")))


def _travel_past(order):
    clock.travel(order.due_at - clock.now() + timedelta(seconds=1))


def test_property_work_in_a_managed_compound_goes_to_the_property_first(db, redis, make, estate):
    order = make.order(estate["resident"], text="3号楼电梯坏了", category=PROPERTY_WORK)
    assert (order.rung, order.property_company_id) == ("property", estate["property"].id)
    assert order.ack_by == order.claim_by == order.due_at and order.resolve_by > order.ack_by
    assert redis.hget("rm:q:where", order.number) == f"rm:q:prop:{estate['property'].id}"
    assert _told(db, order.id, "property_dispatched") == [estate["keeper"].id]
    assert _events(db, order.id, "submit")[0].data["property"] == estate["property"].id


@pytest.mark.parametrize("category, location", [
    ("城乡建设/城市建设和市政管理", "水晶城小区3号楼2单元"),  # not property work
    (PROPERTY_WORK, "水晶城社区"),  # no building: no compound to ask
])
def test_other_orders_start_at_the_grid(db, redis, make, estate, category, location):
    order = make.order(estate["resident"], category=category, location_text=location)
    assert order.rung == "grid_worker" and order.property_company_id is None


def test_a_compound_without_a_property_company_keeps_its_orders_at_the_grid(db, redis, make, city):
    order = make.order(city["resident"], category=PROPERTY_WORK)
    assert order.rung == "grid_worker" and "dispatch_property" not in orders.present(
        actor(city["community_admin"]), order).allowed_actions


def test_property_categories_are_configurable(app, db, redis, make, estate, monkeypatch):
    monkeypatch.setitem(app.config, "PROPERTY_CATEGORIES", "城乡建设/城市建设和市政管理")
    lamp = make.order(estate["resident"], category="城乡建设/城市建设和市政管理/城市公共设施")
    service = make.order(estate["resident"], category=PROPERTY_WORK)
    assert (lamp.rung, service.rung) == ("property", "grid_worker")


def test_a_property_that_misses_its_acknowledgement_limit_loses_the_order_to_the_community(db, redis, make, estate):
    order = make.order(estate["resident"], text="楼道灯不亮", category=PROPERTY_WORK)
    ack_by = order.ack_by
    _travel_past(order)
    first, second = jobs.sla_tick(), jobs.sla_tick()
    assert first["returned_from_property"] == 1 and second["returned_from_property"] == 0
    order = _reload(db, order.number)
    assert (order.state, order.rung, order.assignee_id) == ("escalated", "community", None)
    assert order.property_company_id == estate["property"].id  # the property's figures still count it
    assert "property_missed" in order.flags and order.due_at > clock.now()
    [returned] = _events(db, order.id, "return_from_property")
    assert returned.actor_type == "system" and returned.from_state == "submitted"
    assert returned.data["missed"] == "acknowledge" and returned.data["deadline"] == ack_by.isoformat()
    assert returned.data["rung_to"] == "community" and returned.data["manual"] is False
    assert _told(db, order.id, "property_returned") == [estate["community_admin"].id]
    told = db.session.scalar(select(Notification).where(Notification.order_id == order.id,
                                                       Notification.kind == "property_returned"))
    assert told.payload["missed"] == "acknowledge"
    resident = db.session.scalars(select(Notification).where(
        Notification.order_id == order.id, Notification.recipient_type == "resident")).all()
    assert "escalated" in {n.kind for n in resident}
    assert redis.hget("rm:q:where", order.number) == f"rm:q:community:{estate['community'].id}"
    # Too late to report now: the property can no longer take it, the community can.
    assert "claim" not in orders.present(actor(estate["keeper"]), order).allowed_actions
    assert "claim" in orders.present(actor(estate["community_admin"]), order).allowed_actions


def test_a_property_that_reports_but_misses_its_resolve_limit_loses_it_too(db, redis, make, estate):
    order = make.order(estate["resident"], category=PROPERTY_WORK)
    claimed = claims.claim(actor(estate["keeper"]), order.number)
    [report] = _events(db, order.id, "claim")
    assert report.data["acknowledged"] is True and report.data["on_time"] is True
    assert claimed.due_at == claimed.resolve_by
    _travel_past(claimed)
    assert jobs.sla_tick()["returned_from_property"] == 1
    order = _reload(db, order.number)
    assert (order.state, order.rung, order.assignee_id) == ("escalated", "community", None)
    assert _events(db, order.id, "return_from_property")[0].data["missed"] == "resolve"


def test_the_property_reports_and_resolves_in_time(db, redis, make, estate):
    order = make.order(estate["resident"], category=PROPERTY_WORK)
    keeper = actor(estate["keeper"])
    claims.claim(keeper, order.number)
    claims.act(keeper, order.number, "progress", note="已派维修工")
    done = claims.act(keeper, order.number, "resolve", result="灯已换好")
    assert (done.state, done.rung, done.resolver_id) == ("resolved", "property", estate["keeper"].id)
    data = _events(db, done.id, "resolve")[0].data
    assert (data["property"], data["on_time"], data["at"]["property"]) == (estate["property"].id, True, estate["property"].id)


@pytest.mark.parametrize("who", ["workers", "leader", "community_admin", "street_admin"])
def test_nobody_on_the_ladder_takes_what_waits_for_the_property(db, redis, make, estate, who):
    order = make.order(estate["resident"], category=PROPERTY_WORK)
    staff = estate[who][0] if who == "workers" else estate[who]
    assert "claim" not in orders.present(actor(staff), order).allowed_actions
    assert "resolve" not in orders.present(actor(staff), order).allowed_actions


def test_property_staff_cannot_open_an_order_of_another_compound(client, db, redis, make, auth, estate):
    ours = make.order(estate["resident"], category=PROPERTY_WORK)
    theirs = make.order(make.resident(), category=PROPERTY_WORK, location_text="翠湖苑12号楼")
    grid_order = make.order(make.resident(), category="城乡建设/城市建设和市政管理")
    assert theirs.property_company_id == estate["other_property"].id
    keeper = estate["keeper"]
    assert client.get(f"/api/v1/orders/{ours.number}", headers=auth.headers_for(keeper)).status_code == 200
    for order in (theirs, grid_order):
        assert client.get(f"/api/v1/orders/{order.number}", headers=auth.headers_for(keeper)).status_code == 404
        assert client.post(f"/api/v1/orders/{order.number}/claim", json={},
                           headers=auth.headers_for(keeper)).status_code == 404
        with pytest.raises(NotFound):
            listings.get(actor(keeper), order.number)
    queue = client.get("/api/v1/queue", headers=auth.headers_for(keeper)).json
    assert [o["number"] for o in queue["waiting"]] == [ours.number]


def test_the_community_whistles_a_grid_order_to_the_compounds_property(db, redis, make, estate):
    order = make.order(estate["resident"], category="城乡建设/城市建设和市政管理")
    cadmin = actor(estate["community_admin"])
    moved = claims.act(cadmin, order.number, "dispatch_property", note="楼顶漏水，物业维修")
    assert (moved.state, moved.rung, moved.property_company_id) == ("submitted", "property", estate["property"].id)
    assert _told(db, order.id, "property_dispatched") == [estate["keeper"].id]
    assert "dispatch_property" not in moved.allowed_actions  # already there
    # The property hands it back with a reason: to the community, no miss recorded.
    back = claims.act(actor(estate["keeper"]), order.number, "return_from_property", reason="属于市政管网")
    assert (back.state, back.rung) == ("escalated", "community") and "property_missed" not in back.flags
    assert _events(db, order.id, "return_from_property")[0].data["manual"] is True


def test_returning_an_order_that_is_not_at_the_property_is_a_conflict(db, redis, make, estate):
    order = make.order(estate["resident"], category="城乡建设/城市建设和市政管理")
    with pytest.raises(InvalidTransition):
        claims.act(actor(estate["community_admin"]), order.number, "return_from_property", reason="x")


def test_the_database_refuses_a_property_rung_without_a_company(db, redis, make, estate):
    order = make.order(estate["resident"], category="城乡建设/城市建设和市政管理")
    order = _reload(db, order.number)
    order.rung = "property"
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_dashboard_shows_each_propertys_figures(client, db, redis, make, estate):
    """Two 水晶城小区 orders reported and resolved in time and rated (满意, 不满意), one left until the
    tick returned it; 金地物业 resolves its one order, 满意. The community admin sees both
    companies, each property only its own."""
    from backend.accounts.actors import Actor
    from backend.orders import figures
    month = figures.local_starts(clock.now())[1]
    clock.travel(month + timedelta(days=1, hours=9) - clock.now())  # 09:00 on the 2nd: within this month
    resident = estate["resident"]
    done = [make.order(resident, category=PROPERTY_WORK) for _ in range(2)]
    missed = make.order(resident, category=PROPERTY_WORK)
    theirs = make.order(resident, category=PROPERTY_WORK, location_text="翠湖苑12号楼")
    for keeper, order in [(estate["keeper"], done[0]), (estate["keeper"], done[1]), (estate["other_keeper"], theirs)]:
        claims.claim(actor(keeper), order.number)
        claims.act(actor(keeper), order.number, "resolve", result="已修好")
    you = Actor.for_resident(resident)
    orders.rate(you, _reload(db, done[0].number), satisfaction="satisfied")
    orders.rate(you, _reload(db, done[1].number), satisfaction="unsatisfied")
    orders.rate(you, _reload(db, theirs.number), satisfaction="satisfied")
    _travel_past(_reload(db, missed.number))
    jobs.sla_tick()

    shown = {p["company"]: p for p in figures.dashboard(actor(estate["community_admin"]))["by_property"]}
    assert list(shown) == sorted(["绿城物业", "金地物业"])
    ours = shown["绿城物业"]
    assert (ours["offered"], ours["acknowledged_on_time"], ours["resolved_on_time"]) == (3, 2, 2)
    assert (ours["returned"], ours["missed"], ours["rated"]) == (1, 1, 2)
    assert ours["on_time_rate"] == ours["acknowledge_rate"] == round(2 / 3, 4) and ours["satisfaction_rate"] == 0.5
    assert shown["金地物业"]["satisfaction_rate"] == 1.0 and shown["金地物业"]["on_time_rate"] == 1.0
    own = figures.dashboard(actor(estate["keeper"]))["by_property"]
    assert [p["company"] for p in own] == ["绿城物业"]
    # The property no longer reads the orders that left it (the one the tick returned, the one
    # reopened by 不满意), but its own figures still count them (orders.services.figures_filter).
    assert (own[0]["offered"], own[0]["returned"], own[0]["rated"]) == (3, 1, 2)
    with pytest.raises(NotFound):
        listings.get(actor(estate["keeper"]), missed.number)

    with client.session_transaction() as session:
        sessions.sign_in(session, "staff", estate["community_admin"])
    page = client.get("/console/").get_data(as_text=True)
    assert 'id="chart-by-property"' in page and "金地物业" in page and "66.7%" in page


def test_open311_names_the_property_company_responsible(db, redis, make, estate):
    from backend.open311 import services as open311
    order = make.order(estate["resident"], category=PROPERTY_WORK)
    assert open311.describe(_reload(db, order.number))["agency_responsible"] == "绿城物业"


def test_property_staff_list_only_their_colleagues(db, redis, make, estate):
    from backend.grids import staff
    colleague = make.staff("property_staff", property_company=estate["property"])
    shown = {s.id for s in staff.visible(actor(estate["keeper"]))}
    assert shown == {estate["keeper"].id, colleague.id}
