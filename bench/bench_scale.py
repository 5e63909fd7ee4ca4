"""Scale (issue 15 item 6): the pages staff and the public open most, at 100k and at 1M orders of
one district (bench/scale_data.py: three years, newest months first, so the second stage adds only
history), on PostgreSQL with Redis, in this process through the services the views call.

Measured at each stage, p50 and p95 over REPEAT calls after a warm-up:
  dashboard (street)     figures.dashboard for a street admin (a sixth of the district)
  dashboard (community)  the same for a community admin
  desk filtered          desk.search: done orders of one top category, newest first, first page + total
  desk searched          desk.search with a text search (楼道灯, served by the pg_trgm index)
  queue                  dispatch.queue for one grid worker (Redis queue + the worker's own orders)
  public page            public.services.community_page, computed (its Redis cache switched off)
The judged figures are the 1M ones against the targets, and each page's growth 1M ÷ 100k — a page
that reads only what it shows stays near 1 however long the history."""
import statistics
import time

REPEAT = 15
STAGES = (100_000, 1_000_000)
QUICK_STAGES = (5_000, 50_000)


def _timed(fn, repeat: int) -> dict:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"p50_ms": statistics.median(times), "p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
            "runs": len(times)}


def pages(app, reg: dict) -> dict:
    """name → zero-argument call of the page, inside the app context."""
    from backend.accounts.actors import Actor
    from backend.accounts.models import Staff
    from backend.dispatch import services as dispatch
    from backend.extensions import db
    from backend.orders import desk, figures
    from backend.public import services as public

    def staff(staff_id):
        return Actor.for_staff(db.session.get(Staff, staff_id))

    def call(fn):
        def run():
            try:
                return fn()
            finally:
                db.session.remove()
        return run

    done = ("resolved", "rated", "closed")
    return {
        "dashboard (street)": call(lambda: figures.dashboard(staff(reg["street_admin"]))),
        "dashboard (community)": call(lambda: figures.dashboard(staff(reg["community_admin"]))),
        "desk filtered": call(lambda: desk.search(staff(reg["street_admin"]),
                                                  desk.Filters(states=done, category="城乡建设"))),
        "desk searched": call(lambda: desk.search(staff(reg["street_admin"]), desk.Filters(q="楼道灯"))),
        "queue": call(lambda: dispatch.queue(staff(reg["worker"]))),
        "public page": call(lambda: public.community_page(reg["community_id"])),
    }


def measure(app, reg: dict, repeat: int) -> dict:
    out = {}
    with app.app_context():
        app.config["PUBLIC_CACHE_SECONDS"] = 0
        for name, fn in pages(app, reg).items():
            out[name] = _timed(fn, repeat)
            print(f"  {name:<24} p50 {out[name]['p50_ms']:8.1f} ms  p95 {out[name]['p95_ms']:8.1f} ms", flush=True)
    return out


def run(database_url: str, quick: bool = False) -> dict:
    from sqlalchemy import text
    from . import scale_data
    from .harness import bench_app
    stages = QUICK_STAGES if quick else STAGES
    repeat = 5 if quick else REPEAT
    total = stages[-1]
    result = {"stages": {}, "generation_s": {}, "repeat": repeat,
              "district": f"{scale_data.STREETS} streets × {scale_data.COMMUNITIES} communities × "
                          f"{scale_data.GRIDS} grids, {scale_data.SPAN_DAYS // 365} years"}
    with bench_app(database_url) as app:
        reg = scale_data.registry(app)
        written = 0
        for size in stages:
            print(f"  generating orders up to {size:,} (of {total:,}; newest first)", flush=True)
            # Stage k writes the ids just below what is there: the newest `size` orders of the total.
            result["generation_s"][size] = scale_data.generate(app, reg, total, total - size + 1, total - written)
            written = size
            with app.app_context():
                from backend.dispatch import queues
                from backend.extensions import db
                queues.rebuild()
                result["stages"][size] = {
                    "orders": db.session.execute(text("SELECT count(*) FROM orders")).scalar(),
                    "pages": None}
                db.session.remove()
            result["stages"][size]["pages"] = measure(app, reg, repeat)
    small, large = (result["stages"][s]["pages"] for s in stages)
    result["growth"] = {name: large[name]["p95_ms"] / small[name]["p95_ms"] for name in large}
    result["sizes"] = list(stages)
    return result
