"""Missed deadlines move an order up the ladder, one rung per missed deadline, idempotently."""
from datetime import timedelta

from sqlalchemy import select

from backend import clock
from backend.dispatch import jobs
from backend.orders import deadlines
from backend.dispatch import claims
from backend.notifications.models import Notification
from backend.orders import services as orders
from backend.orders.models import Order, OrderEvent
from tests.conftest import actor


def _reload(db, number) -> Order:
    db.session.rollback()
    return db.session.scalar(select(Order).where(Order.number == number))


def _escalations(db, order_id):
    return db.session.scalars(select(OrderEvent).where(
        OrderEvent.order_id == order_id, OrderEvent.action == "escalate").order_by(OrderEvent.id)).all()


def _notified(db, order_id, kind):
    return sorted(db.session.scalars(select(Notification.recipient_id).where(
        Notification.order_id == order_id, Notification.kind == kind, Notification.recipient_type == "staff")))


def _travel_past(order):
    clock.travel(order.due_at - clock.now() + timedelta(seconds=1))


def test_each_missed_deadline_is_one_rung_up_even_when_the_job_runs_twice(db, redis, make, city):
    order = make.order(city["resident"], grade="urgent", category="城乡建设/城市建设和市政管理")
    assert order.claim_by - order.created_at == timedelta(minutes=10)  # urgent: calendar time
    ladder = [
        ("grid_leader", [city["leader"].id], f"rm:q:leader:{city['grids'][0].id}"),
        ("community", [city["community_admin"].id], f"rm:q:community:{city['community'].id}"),
        ("street", [city["street_admin"].id], f"rm:q:street:{city['street'].id}"),
        ("department", [city["liaison"].id], f"rm:q:dept:{city['department'].id}"),
    ]
    for n, (rung, people, queue_key) in enumerate(ladder, start=1):
        missed = order.due_at
        _travel_past(order)
        first, second = jobs.sla_tick(), jobs.sla_tick()
        assert first["escalated"] == 1 and second["escalated"] == 0
        order = _reload(db, order.number)
        assert (order.state, order.rung) == ("escalated", rung)
        events = _escalations(db, order.id)
        assert len(events) == n  # exactly one escalation per missed deadline
        assert events[-1].data["rung_to"] == rung and events[-1].data["deadline"] == missed.isoformat()
        assert _notified(db, order.id, "escalated")[-len(people):] == people
        assert order.due_at > clock.now()  # the new rung has its own deadline
        assert redis.zscore(queue_key, order.number) is not None
        assert redis.hget("rm:q:where", order.number) == queue_key
    assert order.department_id == city["department"].id  # picked by the top-level category
    assert order.ack_by is not None and order.ack_by - clock.now() <= timedelta(hours=1, seconds=1)

    # The department reports (报到) and then misses its resolve limit: nothing above; one overdue record.
    orders.perform(actor(city["liaison"]), order, "claim")
    order = _reload(db, order.number)
    _travel_past(order)
    assert jobs.sla_tick()["overdue"] == 1
    assert jobs.sla_tick() == {"escalated": 0, "overdue": 0, "skipped": 1, "returned_from_property": 0}
    order = _reload(db, order.number)
    assert order.rung == "department" and "overdue" in order.flags
    assert len(db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                            OrderEvent.action == "overdue")).all()) == 1


def test_a_long_outage_catches_up_without_double_escalation(db, redis, make, city):
    orders_ = [make.order(city["resident"], grade=g) for g in ("urgent", "normal", "urgent")]
    clock.travel(timedelta(days=30))  # the worker was down for a month
    assert jobs.sla_tick()["escalated"] == 3
    assert jobs.sla_tick()["escalated"] == 0
    for o in orders_:
        o = _reload(db, o.number)
        assert o.rung == "grid_leader" and len(_escalations(db, o.id)) == 1


def test_claimed_order_missing_its_resolve_limit_goes_up_and_leaves_the_assignee(db, redis, make, city):
    order = make.order(city["resident"], grade="urgent")
    claims.claim(actor(city["workers"][0]), order.number)
    order = _reload(db, order.number)
    _travel_past(order)
    jobs.sla_tick()
    order = _reload(db, order.number)
    assert (order.state, order.rung, order.assignee_id) == ("escalated", "grid_leader", None)


def test_no_department_for_the_category_means_the_street_is_the_top(db, redis, make, city):
    order = make.order(city["resident"], grade="urgent", category="教育文体/学校")
    for _ in range(3):
        _travel_past(order)
        jobs.sla_tick()
        order = _reload(db, order.number)
    assert order.rung == "street"
    _travel_past(order)
    assert jobs.sla_tick()["overdue"] == 1
    assert _reload(db, order.number).rung == "street"


def test_two_concurrent_ticks_lose_on_the_version_lock_not_double_escalate(app, db, redis, make, city):
    import threading
    orders_ = [make.order(city["resident"], grade="urgent", text=f"第{i}件") for i in range(20)]
    clock.travel(timedelta(minutes=11))
    db.session.rollback()
    results = []

    def tick():
        with app.app_context():
            results.append(jobs.sla_tick()["escalated"])

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(results) == 20
    for o in orders_:
        assert len(_escalations(db, o.id)) == 1


def test_unsatisfied_rating_reopens_to_the_grid_then_the_community(db, redis, make, city, client, auth):
    resident = city["resident"]
    worker = actor(city["workers"][0])
    order = make.order(resident)
    for round_, (rung, told) in enumerate([("grid_worker", city["leader"]), ("community", city["community_admin"])], 1):
        holder = worker if round_ == 1 else actor(city["community_admin"])
        claims.claim(holder, order.number)
        claims.act(holder, order.number, "resolve", result="已处理")
        clock.travel(timedelta(days=2))
        response = client.post(f"/api/v1/orders/{order.number}/rating", json={"score": 2, "comment": "没修好"},
                               headers=auth.headers_for(resident))
        assert response.json["state"] == "reopened", response.json
        order = _reload(db, order.number)
        assert (order.rung, order.grid_id, order.reopen_count) == (rung, city["grids"][0].id, round_)
        assert order.claim_by > clock.now()  # a fresh deadline
        assert "reopened" in order.flags
        assert told.id in _notified(db, order.id, "reopened")
    assert redis.zscore(f"rm:q:community:{city['community'].id}", order.number) is not None


def test_who_holds_an_order_follows_every_staff_change_at_once(db, redis, make, city):
    """The holders come from routing's per-process snapshot (no SELECT of staff per notice): a new
    worker, a deactivation, a move to another grid, a role change — committed, only pending in the
    asking transaction, or rolled back — is what the next look-up sees, as the query did."""
    from backend.orders import ladder
    order = make.order(city["resident"], location_text="水晶城小区3号楼2单元")
    grid = city["grids"][0]
    assert order.grid_id == grid.id
    first = city["workers"][0]
    assert ladder.holders(order) == [first.id]
    second = make.staff("grid_worker", grid=grid)  # committed
    assert ladder.holders(order) == [first.id, second.id]
    first.active = False  # pending in this transaction: the look-up flushes it, as autoflush did
    assert ladder.holders(order) == [second.id]
    db.session.rollback()
    assert ladder.holders(order) == [first.id, second.id]
    second.grid_id = city["grids"][1].id
    db.session.commit()
    assert ladder.holders(order) == [first.id]
    first.active = False
    db.session.commit()
    assert ladder.holders(order) == [city["community_admin"].id]  # no worker left in the grid: the community
    city["community_admin"].role = "street_admin"  # a role change: nobody at the community, the street hears it
    db.session.commit()
    assert ladder.holders(order) == sorted([city["street_admin"].id])
