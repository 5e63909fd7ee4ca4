"""Claims at scale (issue 15 item 5): 50 workers of one grid taking 10,000 waiting orders off their
queue at once, on PostgreSQL with Redis, against raw Redis round trips in the same run.

Each worker loops as the phone page does: read the top of the grid's queue (ZRANGE), pick one of
the first few, claim it (`dispatch.claims.claim`: the Redis lock script, then the lifecycle's transaction),
until the queue is empty. Afterwards the database must show every order claimed exactly once (one
claim event each, an assignee each) and no worker told "yours" for an order another holds.

Baselines, measured right before and after (interleaved) by the same 50 threads in this process:
  raw   — the bare round trips a claim's gate needs, SET NX on a fresh key per order;
  gate  — the claim lock script itself (`queues.try_lock`) on the same number of orders.
The judged ratio is gate ÷ raw (what the claim path adds to Redis, target ≥ 0.8); the whole claim,
a PostgreSQL transaction each, is reported against raw too, as a figure, since a database commit
per claim is what makes the winner the winner and no Redis trick removes it."""
import random
import threading
import time
import uuid

THREADS = 50
ORDERS = 10_000


def _threads(n: int, work) -> float:
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def _split(items: list, n: int) -> list[list]:
    return [items[i::n] for i in range(n)]


def raw_round_trips(redis_client, keys: list[str], threads: int) -> float:
    """Seconds for `threads` threads to SET NX EX every key once (one round trip each)."""
    parts = _split(keys, threads)

    def work(i):
        for key in parts[i]:
            redis_client.set(key, "x", nx=True, ex=30)
    return _threads(threads, work)


def gate_round_trips(numbers: list[str], threads: int) -> float:
    """Seconds for `threads` threads to run the claim lock script once per order."""
    from backend.dispatch import queues
    parts = _split(numbers, threads)

    def work(i):
        token = uuid.uuid4().hex
        for number in parts[i]:
            queues.try_lock(number, token)
    return _threads(threads, work)


def _seed(app, n: int) -> None:
    """n waiting orders in one grid, bulk-inserted as create_order would leave them, then queued."""
    from sqlalchemy import select, text
    from backend import clock
    from backend.accounts.models import Staff
    from backend.dispatch import queues
    from backend.extensions import db
    from backend.grids.models import Grid
    from backend.orders.models import Order, OrderEvent
    with app.app_context():
        grid = db.session.get(Grid, db.session.scalar(select(Staff.grid_id).where(Staff.username == "sjc-wg1")))
        now = clock.now()
        due = now.replace(microsecond=0)
        tag = uuid.uuid4().hex[:6]
        rows = [{"number": f"R{tag}{i:06d}", "channel": "h5", "kind": "repair", "category": "城乡建设/市政设施",
                 "grade": "normal", "text": f"路灯不亮 {i}", "location_text": "水晶城小区2号楼", "state": "submitted",
                 "rung": "grid_worker", "grid_id": grid.id, "community_id": grid.community_id,
                 "street_id": grid.community.street_id, "flags": [], "claim_by": due, "resolve_by": due, "due_at": due,
                 "reopen_count": 0, "created_at": now, "updated_at": now, "version": 1} for i in range(n)]
        db.session.execute(Order.__table__.insert(), rows)
        ids = db.session.execute(select(Order.id, Order.number).where(Order.number.like(f"R{tag}%"))).all()
        db.session.execute(OrderEvent.__table__.insert(), [
            {"order_id": i, "actor_type": "system", "action": "submit", "to_state": "submitted", "created_at": now}
            for i, _ in ids])
        db.session.commit()
        pipe = queues.redis.pipeline(transaction=False)
        for _, number in ids:
            pipe.zadd(f"{queues.PREFIX}grid:{grid.id}", {number: due.timestamp()})
            pipe.hset(queues.WHERE, number, f"{queues.PREFIX}grid:{grid.id}")
        pipe.execute()
        db.session.execute(text("ANALYZE orders")) if db.engine.dialect.name == "postgresql" else None
        db.session.commit()
        return grid.id, [n for _, n in ids]


def _workers(app, grid_id: int, n: int):
    from backend.accounts.actors import Actor
    from backend.accounts.models import Staff
    from backend.extensions import db
    with app.app_context():
        staff = [Staff(username=f"race-{i}-{uuid.uuid4().hex[:6]}", name="测试", role="grid_worker", grid_id=grid_id,
                       password_hash="x") for i in range(n)]
        db.session.add_all(staff)
        db.session.commit()
        return [Actor.for_staff(s) for s in staff]


def claim_race(app, grid_id: int, racers, total: int) -> dict:
    """Every racer takes from the grid's queue until it is empty; wins and refusals counted."""
    from backend.dispatch import claims, queues
    from backend.errors import DomainError
    from backend.extensions import db
    wins: list[tuple[int, str]] = []
    refused = [0]
    lock = threading.Lock()
    key = f"{queues.PREFIX}grid:{grid_id}"

    def work(i):
        actor = racers[i]
        rng = random.Random(i)
        with app.app_context():
            while True:
                top = queues.redis.zrange(key, 0, 7)
                if not top:
                    return
                number = rng.choice(top)
                number = number.decode() if isinstance(number, bytes) else number
                try:
                    claims.claim(actor, number)
                    with lock:
                        wins.append((actor.id, number))
                except DomainError:
                    db.session.rollback()
                    with lock:
                        refused[0] += 1
                finally:
                    db.session.remove()
                if len(wins) and i == 0 and len(wins) % 500 < 1:
                    print(f"\r  claimed {len(wins):,}/{total:,}", end="", flush=True)
    took = _threads(len(racers), work)
    print(f"\r  claimed {len(wins):,}/{total:,} in {took:.1f}s ({refused[0]:,} refused)", flush=True)
    return {"seconds": took, "wins": wins, "refused": refused[0]}


def double_claims(app, numbers: list[str], wins) -> dict:
    """What the database says about the race: orders claimed twice, never, or by someone not told."""
    from sqlalchemy import func, select
    from backend.extensions import db
    from backend.orders.models import Order, OrderEvent
    with app.app_context():
        held = dict(db.session.execute(select(Order.number, Order.assignee_id).where(Order.number.in_(numbers))).all())
        events = dict(db.session.execute(
            select(Order.number, func.count(OrderEvent.id)).join(OrderEvent, OrderEvent.order_id == Order.id)
            .where(Order.number.in_(numbers), OrderEvent.action == "claim").group_by(Order.number)).all())
    told = {}
    told_twice = 0
    for actor_id, number in wins:
        told_twice += number in told
        told[number] = actor_id
    return {"claim_events_twice": sum(1 for n in numbers if events.get(n, 0) > 1),
            "never_claimed": sum(1 for n in numbers if events.get(n, 0) == 0),
            "told_twice": told_twice,
            "told_but_not_holder": sum(1 for n, a in told.items() if held.get(n) != a)}


def run(database_url: str, quick: bool = False) -> dict:
    from .harness import bench_app
    total = 500 if quick else ORDERS
    with bench_app(database_url) as app:
        from backend.extensions import redis
        with app.app_context():
            print(f"  seeding {total:,} waiting orders in one grid", flush=True)
            grid_id, numbers = _seed(app, total)
            racers = _workers(app, grid_id, THREADS)
            tag = uuid.uuid4().hex[:6]
            raw_before = raw_round_trips(redis, [f"rm:bench:raw:{tag}:a:{n}" for n in numbers], THREADS)
            gate = gate_round_trips([f"G{tag}{n}" for n in numbers], THREADS)
            raw_after = raw_round_trips(redis, [f"rm:bench:raw:{tag}:b:{n}" for n in numbers], THREADS)
            print(f"  {THREADS} threads × {total:,}: raw SET NX {raw_before:.2f}s / {raw_after:.2f}s, "
                  f"claim lock script {gate:.2f}s", flush=True)
            race = claim_race(app, grid_id, racers, total)
            raw_last = raw_round_trips(redis, [f"rm:bench:raw:{tag}:c:{n}" for n in numbers], THREADS)
    mine = set(numbers)  # the demo's own waiting orders are in the same queue and taken too
    race["wins"] = [w for w in race["wins"] if w[1] in mine]
    raw = sorted([raw_before, raw_after, raw_last])[1]
    checks = double_claims(app, numbers, race["wins"])
    return {"orders": total, "threads": THREADS, "raw_s": [raw_before, raw_after, raw_last], "gate_s": gate,
            "claims_s": race["seconds"], "claims": len(race["wins"]), "refused": race["refused"],
            "raw_per_s": total / raw, "gate_per_s": total / gate, "claims_per_s": len(race["wins"]) / race["seconds"],
            "gate_ratio": raw / gate, "claims_ratio": raw / race["seconds"], **checks,
            "zero_double_claims": checks["claim_events_twice"] == 0 and checks["told_twice"] == 0
            and checks["told_but_not_holder"] == 0 and checks["never_claimed"] == 0}
