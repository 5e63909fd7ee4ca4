"""Scope-leading indexes for "touched since" (issue 22 item 4, follow-up): what the street and
community pages gain from `(street_id | community_id, resolved_at | rated_at | state)`, and what
every order's writes pay for them; and the desk's search by a whole number (exact, through the
unique index) against the trigram search it replaced. Not part of `make bench`; run by hand on the
scale bench's district (`python -m bench.bench_scale10 generate`, or bench_scale's 1M stage):

    export BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<your bench database>
    python -m bench.bench_scope_indexes copy --size 1000000      # <db>_scale_N_ix: a copy + the new indexes
    python -m bench.bench_scope_indexes measure --size 1000000 [--repeat 11]
    python -m bench.bench_scope_indexes writes --size 1000000 [--orders 2000] [--rounds 5]
    python -m bench.bench_scope_indexes drop --size 1000000      # the copy goes

`copy` makes <db>_scale_N_ix as CREATE DATABASE … TEMPLATE <db>_scale_N and builds there every index
the models declare on `orders` that the database lacks (so the copy holds exactly what the migration
adds, built by the models' own DDL), timing each. `measure` calls the pages through the services the
views call in both databases, interleaved call by call (before, after, after, before …), at the
district's own `as_of`: p50 and p95 of `--repeat` calls after a warm-up each, then EXPLAIN (ANALYZE,
BUFFERS) of each page's slowest statement in both. "before" also searches a whole number the old way
(`desk.whole_number` answering None: the trigram OR). `writes` times the intake's pair (an order and
its submit event, single-row INSERTs) and then two lifecycle UPDATEs of each new order (claim,
resolve: every update of an order writes all its indexes, as `updated_at` is indexed), in both
databases, rounds alternating, each round rolled back."""
import argparse
import json
import re
import statistics
import sys
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from . import bench_scale, bench_scale10

_INDEX = re.compile(r"(?:Index Scan|Index Only Scan|Backward) (?:Backward )?(?:using|on) (\w+)")
RESULTS = Path(__file__).resolve().parent / "results"
PAGES = ("dashboard (street)", "dashboard (community)", "公示 community page", "考核 monthly (street)",
         "考核 monthly (community)", "search by number (street)", "search by number (whole db)",
         "search by text 楼道灯 (street)", "desk filtered (street)")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _urls(size: int) -> tuple[str, str]:
    base = bench_scale.stage_url(bench_scale10._url(), size)
    return base, base + "_ix"


def _engine(url: str):
    from sqlalchemy import create_engine
    return create_engine(url)


def _missing(conn) -> list:
    """The models' indexes on `orders` that this database lacks."""
    from sqlalchemy import text
    from backend.orders.models import Order
    present = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'orders' "
                                    "AND schemaname = current_schema()")).scalars())
    return [ix for ix in sorted(Order.__table__.indexes, key=lambda ix: ix.name) if ix.name not in present]


def copy(size: int) -> dict:
    from sqlalchemy import text
    from sqlalchemy.schema import CreateIndex
    before, after = _urls(size)
    name = after.rsplit("/", 1)[1]
    t0 = time.perf_counter()
    bench_scale._admin(after, f'DROP DATABASE IF EXISTS "{name}"')
    bench_scale._admin(after, f'CREATE DATABASE "{name}" TEMPLATE "{before.rsplit("/", 1)[1]}"')
    out = {"copy_s": time.perf_counter() - t0, "indexes": {}, "load": bench_scale10._load()}
    log(f"copied into {name} in {out['copy_s']:.0f} s")
    engine = _engine(after)
    try:
        with engine.connect() as conn:
            for ix in _missing(conn):
                t0 = time.perf_counter()
                conn.execute(CreateIndex(ix))
                conn.commit()
                mb = conn.execute(text("SELECT pg_relation_size(:n) / 1048576.0"), {"n": ix.name}).scalar()
                out["indexes"][ix.name] = {"build_s": time.perf_counter() - t0, "mb": float(mb)}
                log(f"  {ix.name}: {out['indexes'][ix.name]['build_s']:.1f} s, {mb:.1f} MB")
            conn.execute(text("ANALYZE orders"))
            conn.commit()
            out["orders_indexes_mb"] = float(conn.execute(text(
                "SELECT pg_indexes_size('orders') / 1048576.0")).scalar())
    finally:
        engine.dispose()
    return out


def _world(stack, url: str, size: int, old_search: bool) -> dict:
    from sqlalchemy import text
    from backend.extensions import db
    from backend.orders import desk
    from .servers import redis_server
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            reg = json.loads(conn.execute(text(f"SELECT registry FROM {bench_scale.RECORD}")).scalar())
    finally:
        engine.dispose()
    app = stack.enter_context(bench_scale._app(url, stack.enter_context(redis_server())))
    app.config["PUBLIC_CACHE_SECONDS"] = 0
    admin = bench_scale10._sysadmin(app)
    with app.app_context():
        from backend.dispatch import queues
        queues.rebuild()
        street = db.session.execute(text("SELECT street_id FROM staff WHERE id = :i"), {"i": reg["street_admin"]}).scalar()
        number = db.session.execute(text("SELECT number FROM orders WHERE street_id = :s AND id <= :n "
                                         "ORDER BY id DESC LIMIT 1 OFFSET 500"), {"s": street, "n": size}).scalar()
        db.session.remove()
        spy = bench_scale10._Statements(db.engine)
    every = bench_scale10.pages(app, reg, admin, number)

    def old_way(fn):
        def run():
            saved, desk.whole_number = desk.whole_number, lambda q: None
            try:
                return fn()
            finally:
                desk.whole_number = saved
        return run
    pages = {name: old_way(every[name]) if old_search else every[name] for name in PAGES}
    return {"app": app, "reg": reg, "spy": spy, "pages": pages, "number": number}


def _p95(times: list[float]) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def _explained(worlds: dict, name: str, floor_ms: float = 2.0) -> list[dict]:
    """The page's statements in each world, paired by position (the same code runs), and every pair
    of which either took `floor_ms` or more EXPLAINed (ANALYZE, BUFFERS) in its own database.
    `touched`: the "touched since" statement (figures._touched_since: created, resolved or rated
    since, or open), the one the scope-leading indexes are for."""
    from sqlalchemy import text
    from backend.extensions import db
    seen = {}
    for k, w in worlds.items():
        with w["app"].app_context():
            spy = w["spy"]
            spy.seen, spy.on = [], True
            w["pages"][name]()
            spy.on = False
            seen[k] = list(spy.seen)
    out, jit_off = [], False
    for pair in zip(*(seen[k] for k in worlds)):
        if not pair[0][1].lstrip().upper().startswith(("SELECT", "WITH")):
            jit_off = pair[0][1].strip().upper().startswith("SET LOCAL JIT = OFF")  # figures.periods does
            continue
        explain_jit_off, jit_off = jit_off, False
        touched = "rated_at >=" in pair[0][1] and "state IN ('submitted'" in pair[0][1]
        if max(ms for ms, _ in pair) < floor_ms and not touched:
            continue
        entry = {"touched": touched}
        for k, (ms, sql) in zip(worlds, pair):
            with worlds[k]["app"].app_context():
                with db.engine.connect() as conn:
                    if explain_jit_off:
                        conn.execute(text("SET LOCAL jit = off"))
                    plan = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
            entry[k] = {"call_ms": ms, "sql": sql, "plan": plan,
                        "ms": next(float(line.split(":")[1].split()[0]) for line in plan if line.startswith("Execution Time")),
                        "indexes": sorted({m for line in plan for m in _INDEX.findall(line)})}
        out.append(entry)
    return out


def measure(size: int, repeat: int) -> dict:
    from backend import clock
    before, after = _urls(size)
    out = {"size": size, "repeat": repeat, "at": datetime.now().isoformat(), "load_before": bench_scale10._load(),
           "pages": {}}
    with ExitStack() as stack:
        worlds = {"before": _world(stack, before, size, old_search=True),
                  "after": _world(stack, after, size, old_search=False)}
        clock.travel(datetime.fromisoformat(worlds["before"]["reg"]["as_of"]) - clock.now())
        stack.callback(clock.reset)
        out["number"] = worlds["before"]["number"]
        for name in PAGES:
            times = {k: [] for k in worlds}
            for round_ in range(repeat + 1):
                for k in (("before", "after") if round_ % 2 == 0 else ("after", "before")):
                    w = worlds[k]
                    with w["app"].app_context():
                        t0 = time.perf_counter()
                        w["pages"][name]()
                        if round_:
                            times[k].append((time.perf_counter() - t0) * 1000)
            row = {k: {"p50_ms": statistics.median(times[k]), "p95_ms": _p95(times[k]), "min_ms": min(times[k])}
                   for k in worlds}
            row["statements"] = _explained(worlds, name)
            touched = [st for st in row["statements"] if st["touched"]]
            row["load"] = bench_scale10._load()
            out["pages"][name] = row
            b, a = row["before"], row["after"]
            explained = "; ".join(f"{'touched ' if st['touched'] else ''}{st['before']['ms']:.1f} → {st['after']['ms']:.1f}"
                                  for st in row["statements"])
            log(f"  {name:<32} p50 {b['p50_ms']:8.1f} → {a['p50_ms']:8.1f} ms  p95 {b['p95_ms']:8.1f} → "
                f"{a['p95_ms']:8.1f}  statements (EXPLAIN ANALYZE ms) {explained or '-'}  load {row['load']}")
            if touched:
                row["touched"] = {k: touched[0][k] for k in ("before", "after")}
    out["load_after"] = bench_scale10._load()
    return out


def writes(size: int, n: int, rounds: int) -> dict:
    import psycopg2
    from sqlalchemy.engine import make_url
    conns = {}
    for kind, url in zip(("before", "after"), _urls(size)):
        u = make_url(url)
        conns[kind] = psycopg2.connect(host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database)
    cur = conns["before"].cursor()
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' "
                "AND table_schema = current_schema() ORDER BY ordinal_position")
    cols = [c for (c,) in cur.fetchall() if c not in ("id", "number", "idempotency_key")]
    cur.execute(f"SELECT {', '.join(cols)} FROM orders WHERE state = 'submitted' ORDER BY id DESC LIMIT 1")
    row = list(cur.fetchone())
    from datetime import timezone
    for c in ("created_at", "updated_at"):
        row[cols.index(c)] = datetime.now(timezone.utc)
    cur.execute("SELECT id FROM staff WHERE role = 'grid_worker' ORDER BY id LIMIT 1")
    worker = cur.fetchone()[0]
    cur.execute("SELECT max(id) FROM orders WHERE state = 'submitted'")
    template, bulk = cur.fetchone()[0], n * 10
    out = {k: {"insert": [], "update": [], "insert, one statement": [], "update, one statement": []} for k in conns}
    for round_ in range(rounds):
        for kind in (("before", "after") if round_ % 2 == 0 else ("after", "before")):
            conn = conns[kind]
            cur = conn.cursor()
            cur.execute("SELECT max(id) FROM orders")
            top = cur.fetchone()[0] + 1_000_000
            t0 = time.perf_counter()
            for i in range(n):
                cur.execute(f"INSERT INTO orders (id, number, {', '.join(cols)}) VALUES "
                            f"(%s, %s, {', '.join(['%s'] * len(cols))})", (top + i, f"BENCH-{round_}-{i}", *row))
                cur.execute("INSERT INTO order_events (order_id, actor_type, action, to_state, data, created_at) "
                            "VALUES (%s, 'resident', 'submit', 'submitted', '{}', now())", (top + i,))
            t1 = time.perf_counter()
            for i in range(n):
                cur.execute("UPDATE orders SET state = 'claimed', assignee_id = %s, updated_at = now() WHERE id = %s",
                            (worker, top + i))
                cur.execute("UPDATE orders SET state = 'resolved', assignee_id = NULL, due_at = NULL, result = '已处理', "
                            "resolved_at = now(), updated_at = now() WHERE id = %s", (top + i,))
            t2 = time.perf_counter()
            out[kind]["insert"].append((t1 - t0) * 1e6 / n)
            out[kind]["update"].append((t2 - t1) * 1e6 / n)
            conn.rollback()
            # The same rows written by one statement each: the database's own work per row, without
            # the round trips, which is where an index's cost shows.
            top += n
            t0 = time.perf_counter()
            cur.execute(f"INSERT INTO orders (id, number, {', '.join(cols)}) SELECT %s + g, 'BENCH-' || g, "
                        f"{', '.join('now()' if c in ('created_at', 'updated_at') else 'o.' + c for c in cols)} "
                        "FROM orders o, generate_series(1, %s) g WHERE o.id = %s", (top, bulk, template))
            t1 = time.perf_counter()
            cur.execute("UPDATE orders SET state = 'claimed', assignee_id = %s, updated_at = now() "
                        "WHERE id > %s AND id <= %s", (worker, top, top + bulk))
            cur.execute("UPDATE orders SET state = 'resolved', assignee_id = NULL, due_at = NULL, result = '已处理', "
                        "resolved_at = now(), updated_at = now() WHERE id > %s AND id <= %s", (top, top + bulk))
            t2 = time.perf_counter()
            out[kind]["insert, one statement"].append((t1 - t0) * 1e6 / bulk)
            out[kind]["update, one statement"].append((t2 - t1) * 1e6 / bulk)
            conn.rollback()
    for conn in conns.values():
        conn.close()
    result = {"orders": n, "rounds": rounds, "load": bench_scale10._load()}
    for kind in out:
        result[kind] = {what: statistics.median(v) for what, v in out[kind].items()}
        result[kind]["rounds_us"] = out[kind]
    for what in out["before"]:
        result[f"{what} after ÷ before"] = result["after"][what] / result["before"][what]
    log(json.dumps({k: v for k, v in result.items()}, indent=1, default=str))
    return result


def drop(size: int) -> None:
    after = _urls(size)[1]
    bench_scale._admin(after, f'DROP DATABASE IF EXISTS "{after.rsplit("/", 1)[1]}"')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_scope_indexes")
    parser.add_argument("command", choices=("copy", "measure", "writes", "drop"))
    parser.add_argument("--size", type=int, default=bench_scale10.BASE)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    import logging
    logging.disable(logging.WARNING)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    result = None
    if args.command == "copy":
        result = copy(args.size)
    elif args.command == "measure":
        result = measure(args.size, args.repeat)
    elif args.command == "writes":
        result = writes(args.size, args.orders, args.rounds)
    else:
        drop(args.size)
    if result is not None:
        path = RESULTS / f"scope-indexes-{stamp}-{args.command}-{args.size}.json"
        path.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
        log(f"  → {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
