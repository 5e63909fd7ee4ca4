"""Queue listing: the Redis fast path against the database-only listing (the path used when Redis
is down), on the same data in the same run."""
from unittest import mock

from redis.exceptions import ConnectionError as RedisConnectionError

from .harness import measure

OPEN_ORDERS = 2000


def run(app, quick: bool = False) -> dict:
    open_orders = 200 if quick else OPEN_ORDERS
    from sqlalchemy import select
    from backend.accounts.actors import Actor
    from backend.accounts.models import Resident, Staff
    from backend.dispatch import listings, queues
    from backend.extensions import db
    from backend.orders import services as orders

    with app.app_context():
        resident = db.session.scalar(select(Resident))
        actor = Actor.for_resident(resident)
        for i in range(open_orders):
            building = 1 + i % 18
            orders.create_order(actor, text=f"第{i}号诉求 楼道灯坏了", category="城乡建设/物业管理",
                                location_text=f"水晶城小区{building}号楼")
            if i % 200 == 0:
                print(f"\r  seeding open orders {i}/{open_orders}", end="", flush=True)
        print()
        admin = Actor.for_staff(db.session.scalar(select(Staff).where(Staff.username == "sjc-admin")))
        worker = Actor.for_staff(db.session.scalar(select(Staff).where(Staff.username == "sjc-wg1")))

        def redis_down(*args, **kwargs):
            raise RedisConnectionError("benchmark: redis treated as down")

        results = {}
        for name, who in (("grid worker", worker), ("community admin", admin)):
            fast = measure(lambda: listings.queue(who, limit=50), label=f"queue via redis ({name})")
            with mock.patch.object(queues, "members", redis_down):
                slow = measure(lambda: listings.queue(who, limit=50), label=f"queue via database ({name})")
            results[name] = {"redis_ms": fast * 1000, "database_ms": slow * 1000, "ratio": fast / slow}
        return {"open_orders": open_orders, "listings": results}
