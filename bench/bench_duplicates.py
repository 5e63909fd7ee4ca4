"""疑似重复 (issue 20, item 1): what finding the possible duplicates adds to one intake. 1,000 open
orders in one grid and one level-2 category (the worst case: every one is scored), then 200 new
orders; `duplicates.candidates` timed for each, median and p95 in ms. Then 200 residents' drafts as
附议 asks before a chat or H5 report is stored (`joining.candidates_for`: the draft routed and
classified as the intake would, then the same query over open orders), timed the same way.

    .venv/bin/python -m bench.bench_duplicates [BENCH_DATABASE_URL]   (default: SQLite in a temp dir)
"""
import statistics
import sys
import time
from datetime import timedelta

EXISTING = 1000
INTAKES = 200
PROBLEMS = ("路灯不亮", "路灯坏了晚上很黑", "水管爆了路上全是水", "垃圾没人清运很臭", "电梯坏了有人被困",
            "暖气不热", "楼道堆满杂物", "井盖丢了很危险", "下水道堵了污水冒出来", "烧烤油烟太大",
            "工地夜间施工噪音大", "门禁坏了外人随便进出", "健身器材坏了", "乱停车堵住消防通道")
# A level-2 category the classifier gives these texts, so residents' drafts meet every row too.
CATEGORY = "城乡建设/城市建设和市政管理/城市公共设施"
PLACES = ("门口", "楼下", "东门", "西门", "停车场旁边", "楼道里", "花园边上")


def _text(i: int) -> str:
    return f"{i % 12 + 1}号楼{PLACES[i % len(PLACES)]}{PROBLEMS[(i * 7) % len(PROBLEMS)]}，已经{i % 5 + 1}天了"


def run(database_url: str | None = None) -> dict:
    from sqlalchemy import select
    from backend import clock
    from backend.accounts.actors import Actor
    from backend.accounts.models import Resident
    from backend.extensions import db
    from backend.orders import duplicates, joining, services
    from backend.orders.models import Order
    from .harness import bench_app

    with bench_app(database_url) as app, app.app_context():
        actor = Actor.for_resident(db.session.scalar(select(Resident)))
        first = services.create_order(actor, text=_text(0), category=CATEGORY,
                                      location_text="水晶城小区2号楼")
        now = clock.now()
        db.session.add_all(Order(
            number=f"BENCH-{i:05d}", channel="h5", kind="repair", category=CATEGORY,
            text=_text(i), grid_id=first.grid_id, community_id=first.community_id, street_id=first.street_id,
            building_id=first.building_id, state="submitted", due_at=now + timedelta(days=1),
            created_at=now - timedelta(minutes=i)) for i in range(1, EXISTING))
        db.session.commit()
        news = [services.create_order(actor, text=_text(EXISTING + i), category=CATEGORY,
                                      location_text="水晶城小区2号楼") for i in range(INTAKES)]
        times, named = [], 0
        for order in news:
            start = time.perf_counter()
            named += len(duplicates.candidates(order))
            times.append((time.perf_counter() - start) * 1000)
            db.session.rollback()  # as each intake's own transaction ends
        drafts, offered = [], 0
        joining.candidates_for(actor, _text(0), "水晶城小区2号楼")  # the classifier loaded before timing
        for i in range(INTAKES):
            start = time.perf_counter()
            offered += len(joining.candidates_for(actor, _text(2 * EXISTING + i), "水晶城小区2号楼"))
            drafts.append((time.perf_counter() - start) * 1000)
            db.session.rollback()
        times.sort()
        drafts.sort()
        result = {"existing": EXISTING, "intakes": INTAKES, "median_ms": round(statistics.median(times), 2),
                  "p95_ms": round(times[int(len(times) * 0.95) - 1], 2), "candidates_per_intake": named / INTAKES,
                  "draft_median_ms": round(statistics.median(drafts), 2),
                  "draft_p95_ms": round(drafts[int(len(drafts) * 0.95) - 1], 2),
                  "offered_per_draft": offered / INTAKES, "dialect": db.engine.dialect.name}
        print(result)
        return result


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else None)
