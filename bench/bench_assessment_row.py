"""The dashboard at 1M orders with the month's 考核 row (issue 26's must-show: "the dashboard query at
1M orders still within BENCHMARKS.md's limits", ≤ 300 ms p95). On the scale bench's 1M district
(bench_scale: generate it first with `python -m bench scale`, or `bench_scale.run(url)`), in this
process through `figures.dashboard` for the street and the community admin, three ways interleaved
call by call so the machine's load weighs on all of them:
  as served       the row read from Redis (ASSESSMENT_CACHE_SECONDS, filled by the warm-up)
  without row     assessment.scope_row replaced by an empty row: the dashboard before 考核
  row computed    ASSESSMENT_CACHE_SECONDS = 0: what the first call of a scope every 5 minutes costs
Usage: python -m bench.bench_assessment_row [BENCH_DATABASE_URL] [ROUNDS]; prints p50 / p95 and
writes bench/results/assessment-row-<UTC time>.json."""
import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from . import bench_scale
from .servers import redis_server

WAYS = ("as served", "without row", "row computed")
WHO = ("street_admin", "community_admin")


def _p95(times: list) -> float:
    times = sorted(times)
    return times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def run(database_url: str, rounds: int = 21) -> dict:
    from backend import clock
    url = bench_scale.stage_url(database_url, 1_000_000)
    found = bench_scale._recorded(url, 1_000_000, 1_000_000)
    if not found:
        raise SystemExit(f"no 1M district in {url}: run the scale bench first")
    reg = found["registry"]
    out = {"load_start": os.getloadavg(), "rounds": rounds, "database": url.rsplit("/", 1)[1]}
    times = {(who, way): [] for who in WHO for way in WAYS}
    with redis_server() as redis_url, bench_scale._app(url, redis_url) as app:
        from backend.accounts.actors import Actor
        from backend.accounts.models import Staff
        from backend.extensions import db
        from backend.orders import assessment, figures
        clock.travel(datetime.fromisoformat(reg["as_of"]) - clock.now())
        real = assessment.scope_row
        try:
            with app.app_context():
                def call(who, way):
                    try:
                        if way == "without row":
                            assessment.scope_row = lambda *a, **k: {}
                        elif way == "row computed":
                            app.config["ASSESSMENT_CACHE_SECONDS"] = 0
                        return figures.dashboard(Actor.for_staff(db.session.get(Staff, reg[who])))
                    finally:
                        assessment.scope_row = real
                        app.config["ASSESSMENT_CACHE_SECONDS"] = 300
                        db.session.remove()
                for key in times:
                    call(*key)  # warm-up; fills the row's cache
                for _ in range(rounds):
                    for key in times:
                        start = time.perf_counter()
                        call(*key)
                        times[key].append((time.perf_counter() - start) * 1000)
        finally:
            clock.reset()
    for (who, way), ts in times.items():
        row = {"p50_ms": round(statistics.median(ts), 1), "p95_ms": round(_p95(ts), 1),
               "min_ms": round(min(ts), 1), "max_ms": round(max(ts), 1)}
        out[f"{who} | {way}"] = row
        print(f"  {who:<16} {way:<13} p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  "
              f"(min {row['min_ms']:.1f}, max {row['max_ms']:.1f})", flush=True)
    out["load_end"] = os.getloadavg()
    out["at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return out


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/red_mailbox_bench")
    result = run(url, int(sys.argv[2]) if len(sys.argv) > 2 else 21)
    folder = Path(__file__).resolve().parent / "results"
    path = folder / f"assessment-row-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"  load {result['load_start']} → {result['load_end']}; written {path.name}")
