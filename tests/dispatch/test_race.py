"""20 workers race for 200 orders: every order is claimed exactly once."""
import threading
import time
from collections import Counter

from sqlalchemy import func, select

from backend.accounts.actors import Actor
from backend.dispatch import claims
from backend.errors import Conflict, InvalidTransition
from backend.orders.models import Order, OrderEvent

WORKERS, ORDERS = 20, 200


def test_twenty_workers_race_for_two_hundred_orders(app, db, redis, make):
    grid = make.grid(make.community(aliases=["水晶城小区"]))
    make.building(grid, number=3)
    staff = [make.staff("grid_worker", grid=grid, username=f"racer{i}") for i in range(WORKERS)]
    actors = [Actor.for_staff(s) for s in staff]
    resident = make.resident()
    numbers = [make.order(resident, text=f"第{i}件").number for i in range(ORDERS)]
    assert redis.zcard(f"rm:q:grid:{grid.id}") == ORDERS
    db.session.rollback()  # end this thread's read: on SQLite an open transaction holds the lock

    barrier = threading.Barrier(WORKERS)
    wins: list[list[str]] = [[] for _ in range(WORKERS)]
    losses = Counter()
    errors = []

    def work(i):
        try:
            barrier.wait()
            # Every worker goes down the same list at the same time: maximal contention per order.
            for number in numbers:
                with app.app_context():
                    try:
                        claims.claim(actors[i], number)
                        wins[i].append(number)
                    except (Conflict, InvalidTransition) as exc:
                        losses[exc.code] += 1
        except Exception as exc:  # surfaced below: a thread must not fail silently
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    elapsed = time.perf_counter() - started
    print(f"\n{WORKERS} workers x {ORDERS} orders: {elapsed:.2f}s, losses {dict(losses)}")

    assert errors == []
    won = [n for w in wins for n in w]
    assert len(won) == ORDERS and set(won) == set(numbers)  # no lost order, no double claim
    assert sum(losses.values()) == WORKERS * ORDERS - ORDERS
    db.session.expire_all()
    rows = db.session.execute(select(Order.number, Order.state, Order.assignee_id)).all()
    assert {r.state for r in rows} == {"claimed"}
    owner = {n: staff[i].id for i, w in enumerate(wins) for n in w}
    assert all(owner[r.number] == r.assignee_id for r in rows)
    claim_events = db.session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.action == "claim"))
    assert claim_events == ORDERS
    assert redis.zcard(f"rm:q:grid:{grid.id}") == 0
    assert not redis.keys("rm:claim:*")
