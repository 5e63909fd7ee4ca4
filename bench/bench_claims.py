"""Claim race: 8 workers of one grid racing for the same 200 orders, with the Redis claim lock
(the fast path) against the same race decided by the database alone (the lock switched off, as
when Redis is down). Every order must be claimed exactly once either way."""
import threading
import time
from unittest import mock

ORDERS = 200
RACERS = 8


def _seed(app, tag):
    from sqlalchemy import select
    from backend.accounts.actors import Actor
    from backend.accounts.models import Resident
    from backend.extensions import db
    from backend.orders import services as orders
    with app.app_context():
        actor = Actor.for_resident(db.session.scalar(select(Resident)))
        return [orders.create_order(actor, text=f"{tag}{i} 路灯不亮", category="城乡建设/市政设施",
                                    location_text="水晶城小区2号楼").number for i in range(ORDERS)]


def _workers(app, n):
    from sqlalchemy import select
    from backend.accounts.actors import Actor
    from backend.accounts.models import Staff
    from backend.extensions import db
    with app.app_context():
        grid_id = db.session.scalar(select(Staff).where(Staff.username == "sjc-wg1")).grid_id
        staff = []
        for i in range(n):
            s = Staff(username=f"bench-wg-{i}-{time.monotonic_ns()}", name="测试", role="grid_worker",
                      grid_id=grid_id, password_hash="x")
            db.session.add(s)
            staff.append(s)
        db.session.commit()
        return [Actor.for_staff(s) for s in staff]


def _claim_all(app, actor, numbers, wins):
    from backend.dispatch import claims
    from backend.errors import DomainError
    from backend.extensions import db
    with app.app_context():
        for number in numbers:
            try:
                claims.claim(actor, number)
                wins.append(number)
            except DomainError:
                db.session.rollback()


def _race(app, tag) -> float:
    numbers = _seed(app, tag)
    racers = _workers(app, RACERS)
    wins: list = []
    threads = [threading.Thread(target=_claim_all, args=(app, a, numbers, wins)) for a in racers]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - start
    assert sorted(wins) == sorted(numbers), "every order claimed exactly once"
    print(f"  {tag}: {len(wins)} orders claimed once each by {RACERS} racing workers in {took:.2f}s")
    return took


def run(app, quick: bool = False) -> dict:
    global ORDERS
    from backend.dispatch import queues
    ORDERS = 40 if quick else 200
    with_lock = _race(app, "redis-lock")
    with mock.patch.object(queues, "try_lock", lambda number, token: None):
        database_only = _race(app, "database-only")
    return {"orders": ORDERS, "racers": RACERS, "redis_lock_s": with_lock, "database_only_s": database_only,
            "ratio": with_lock / database_only}
