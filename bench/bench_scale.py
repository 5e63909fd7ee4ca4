"""Scale (issue 15 item 6): the pages staff and the public open most, at 100k and at 1M orders of
one district (bench/scale_data.py: three years, newest months first, so the second stage adds only
history), on PostgreSQL with Redis, in this process through the services the views call.

Measured at each stage, p50 and p95 over REPEAT calls after a warm-up:
  dashboard (street)     figures.dashboard for a street admin (a sixth of the district)
  dashboard (community)  the same for a community admin
  desk filtered          desk.search: done orders of one top category, newest first, first page + total
  desk searched          desk.search with a text search (楼道灯, served by the pg_trgm index)
  queue                  dispatch.listings.queue for one grid worker (Redis queue + the worker's own orders)
  public page            public.services.community_page, computed (its Redis cache switched off)
  assessment (street)    orders.assessment for a street admin: the month's 考核 of every unit (ranking page,
                         its XLSX report read the same); the dashboards above include its scope row
  assessment (community) the same for a community admin
  public assessment      public.services.assessment_page: the month's 三率 of every community and grid
The judged figures are the 1M ones against the targets, and each page's growth 1M ÷ 100k — a page
that reads only what it shows stays near 1 however long the history."""
import hashlib
import json
import statistics
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

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


def staff(staff_id: int):
    """The staff member's actor, read in the current app context (as a request would)."""
    from backend.accounts.actors import Actor
    from backend.accounts.models import Staff
    from backend.extensions import db
    return Actor.for_staff(db.session.get(Staff, staff_id))


def call(fn):
    """A page call that ends its session as a request does, so no identity map carries over."""
    from backend.extensions import db

    def run():
        try:
            return fn()
        finally:
            db.session.remove()
    return run


def month_of_now(app) -> tuple[int, int]:
    from backend import clock
    local = clock.local(clock.now(), app.config["TIMEZONE"])
    return local.year, local.month


def pages(app, reg: dict) -> dict:
    """name → zero-argument call of the page, inside the app context."""
    from backend.dispatch import listings
    from backend.orders import assessment, desk, figures
    from backend.public import services as public

    done = ("resolved", "rated", "closed")

    def this_month():
        return month_of_now(app)
    return {
        "dashboard (street)": call(lambda: figures.dashboard(staff(reg["street_admin"]))),
        "dashboard (community)": call(lambda: figures.dashboard(staff(reg["community_admin"]))),
        "desk filtered": call(lambda: desk.search(staff(reg["street_admin"]),
                                                  desk.Filters(states=done, category="城乡建设"))),
        "desk searched": call(lambda: desk.search(staff(reg["street_admin"]), desk.Filters(q="楼道灯"))),
        "queue": call(lambda: listings.queue(staff(reg["worker"]))),
        "public page": call(lambda: public.community_page(reg["community_id"])),
        "assessment (street)": call(lambda: assessment.for_staff(staff(reg["street_admin"]), *this_month())),
        "assessment (community)": call(lambda: assessment.for_staff(staff(reg["community_admin"]), *this_month())),
        "public assessment": call(lambda: public.assessment_page()),
    }


def measure(app, reg: dict, repeat: int) -> dict:
    out = {}
    with app.app_context():
        app.config["PUBLIC_CACHE_SECONDS"] = 0
        for name, fn in pages(app, reg).items():
            out[name] = _timed(fn, repeat)
            print(f"  {name:<24} p50 {out[name]['p50_ms']:8.1f} ms  p95 {out[name]['p95_ms']:8.1f} ms", flush=True)
    return out


MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
RECORD = "bench_scale_district"  # one row: what made the district this database holds


def fingerprint() -> str:
    """What a generated district depends on: scale_data.py's text and the schema (the Alembic heads,
    and the migrations' text, so an index added to a revision not yet merged counts too)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ",".join(sorted(ScriptDirectory.from_config(config).get_heads()))
    code = (Path(__file__).resolve().parent / "scale_data.py").read_bytes()
    schema = hashlib.sha256()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        schema.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{hashlib.sha256(code).hexdigest()[:16]}@{heads}#{schema.hexdigest()[:12]}"


def stage_url(database_url: str, size: int) -> str:
    """Each stage's district lives in a database of its own beside the benchmarks' one (whose
    schema the other benchmarks rebuild): <name>_scale_<size>."""
    from sqlalchemy.engine import make_url
    url = make_url(database_url)
    return url.set(database=f"{url.database}_scale_{size}").render_as_string(hide_password=False)


def _admin(url: str, sql: str) -> None:
    """CREATE / DROP DATABASE, from the server's maintenance database."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def _recorded(url: str, size: int, total: int) -> dict | None:
    """The record of a district of `size` (of `total`) made by this scale_data.py on this schema."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text(f"SELECT fingerprint, size, total, registry, generation_s FROM {RECORD}")).first()
    except Exception:  # noqa: BLE001 — no database, no table: nothing to reuse
        return None
    finally:
        engine.dispose()
    if row is None or (row.fingerprint, row.size, row.total) != (fingerprint(), size, total):
        return None
    return {"registry": json.loads(row.registry), "generation_s": row.generation_s}


def _record(app, size: int, total: int, reg: dict, seconds: float) -> None:
    from sqlalchemy import text
    from backend.extensions import db
    with app.app_context():
        db.session.execute(text(f"DROP TABLE IF EXISTS {RECORD}"))
        db.session.execute(text(f"CREATE TABLE {RECORD} (fingerprint text, size int, total int, registry text, "
                                "generation_s float8, generated_at timestamptz DEFAULT now())"))
        db.session.execute(text(f"INSERT INTO {RECORD} (fingerprint, size, total, registry, generation_s) "
                                "VALUES (:f, :s, :t, :r, :g)"),
                           {"f": fingerprint(), "s": size, "t": total, "r": json.dumps(reg), "g": seconds})
        db.session.commit()


@contextmanager
def _app(url: str, redis_url: str):
    from backend import create_app
    from backend.config import TestConfig

    class ScaleConfig(TestConfig):
        TESTING = False
        SQLALCHEMY_DATABASE_URI = url
        REDIS_URL = redis_url

    app = create_app(ScaleConfig)
    try:
        yield app
    finally:
        from backend.extensions import db
        with app.app_context():
            db.session.remove()
            db.engine.dispose()  # a database used as a template must have no connections


def _fresh(app) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text
    from backend.extensions import db
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(directory=str(MIGRATIONS))


def run(database_url: str, quick: bool = False) -> dict:
    """Each stage's district is generated once into its own database and reused while scale_data.py
    and the schema stay the same (`reused`, with the seconds its generation took); a larger stage
    starts as a copy of the smaller one (CREATE DATABASE … TEMPLATE) and adds the older history."""
    from sqlalchemy import text
    from backend import clock
    from . import scale_data
    from .servers import redis_server
    if not database_url.startswith("postgresql"):
        raise SystemExit("the scale benchmark needs PostgreSQL (BENCH_DATABASE_URL)")
    stages = QUICK_STAGES if quick else STAGES
    repeat = 5 if quick else REPEAT
    total = stages[-1]
    result = {"stages": {}, "generation_s": {}, "reused": {}, "repeat": repeat, "fingerprint": fingerprint(),
              "district": f"{scale_data.STREETS} streets × {scale_data.COMMUNITIES} communities × "
                          f"{scale_data.GRIDS} grids, {scale_data.SPAN_DAYS // 365} years"}
    with redis_server() as redis_url:
        previous = None  # (url, registry, size) of the stage before, when this run made or kept it
        for size in stages:
            url = stage_url(database_url, size)
            name = url.rsplit("/", 1)[1]
            found = _recorded(url, size, total)
            if found:
                reg, seconds = found["registry"], found["generation_s"]
                print(f"  reusing the district of {size:,} orders in {name} (same scale_data.py and schema; "
                      f"generated in {seconds:.0f} s)", flush=True)
            else:
                started = time.perf_counter()
                _admin(url, f'DROP DATABASE IF EXISTS "{name}"')
                if previous:
                    _admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{previous[0].rsplit("/", 1)[1]}"')
                else:
                    _admin(url, f'CREATE DATABASE "{name}"')
                with _app(url, redis_url) as app:
                    if previous:
                        reg, written = previous[1], previous[2]
                    else:
                        _fresh(app)
                        reg, written = scale_data.registry(app), 0
                    print(f"  generating orders up to {size:,} into {name} (of {total:,}; newest first)", flush=True)
                    # Stage k writes the ids just below what is there: the newest `size` orders of the total.
                    scale_data.generate(app, reg, total, total - size + 1, total - written)
                    seconds = time.perf_counter() - started
                    _record(app, size, total, reg, seconds)
            result["generation_s"][size], result["reused"][size] = seconds, bool(found)
            with _app(url, redis_url) as app:
                # Measured at the district's own now: a district reused days later looks as it did.
                clock.travel(datetime.fromisoformat(reg["as_of"]) - clock.now())
                try:
                    with app.app_context():
                        from backend.dispatch import queues
                        from backend.extensions import db
                        queues.rebuild()
                        result["stages"][size] = {
                            "orders": db.session.execute(text("SELECT count(*) FROM orders")).scalar(), "pages": None}
                        db.session.remove()
                    result["stages"][size]["pages"] = measure(app, reg, repeat)
                finally:
                    clock.reset()
            previous = (url, reg, size)
    small, large = (result["stages"][s]["pages"] for s in stages)
    result["growth"] = {name: large[name]["p95_ms"] / small[name]["p95_ms"] for name in large}
    result["sizes"] = list(stages)
    return result
