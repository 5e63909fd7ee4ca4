"""`make bench`: every benchmark in one run; a dated section appended to BENCHMARKS.md and the raw
figures written to bench/results/<time>-<commit>.json.

Every result is a ratio against a baseline measured in the same run (interleaved with it where the
two are servers under load), so it means the same on a slow or busy machine; the targets are checked
and reported here, never asserted in tests.

    python -m bench                 # everything (≈ 25 minutes on 2 cores)
    python -m bench --quick         # short runs, one round: checks the harness end to end (≈ 2 minutes)
    python -m bench intake peer     # only these
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from . import report

ROOT = Path(__file__).resolve().parent.parent
IN_PROCESS = ("queue", "chat_fallback", "claims")
ALL = ("intake", "peer", "bot", "race", "scale", *IN_PROCESS)


def _versions() -> dict:
    from importlib.metadata import version
    out = {"python": platform.python_version()}
    for dist in ("Flask", "SQLAlchemy", "gunicorn", "psycopg2-binary", "redis", "rq", "marshmallow"):
        try:
            out[dist] = version(dist)
        except Exception:
            pass
    for cmd, key in ((["psql", "--version"], "postgresql client"), (["redis-server", "--version"], "redis-server"),
                     (["wrk", "--version"], "wrk")):
        try:
            text = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            first = (text.stdout or text.stderr).strip().splitlines()[0]
            # "Redis server v=7.0.15 sha=…", "wrk debian/4.1.0-3 [epoll] Copyright…", "psql (PostgreSQL) 15.2 (…)"
            out[key] = next((w.removeprefix("v=") for w in first.split() if w[:1].isdigit() or w.startswith(
                ("v=", "debian/"))), first[:40])
        except (OSError, IndexError, subprocess.TimeoutExpired):
            pass
    return out


def _machine() -> str:
    model = ""
    try:
        model = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                     if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.machine()}, {os.cpu_count()} cores{', ' + model if model else ''}, {platform.system()} {platform.release()}"


def _commit() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                               text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except OSError:
        return "unknown"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("only", nargs="*", help=f"run only these benchmarks: {', '.join(ALL)}")
    parser.add_argument("--quick", action="store_true", help="short runs, one round (checks the harness)")
    parser.add_argument("--no-write", action="store_true", help="print only: BENCHMARKS.md and bench/results/ untouched")
    parser.add_argument("--label", default="", help="a note for this run's section (e.g. 'before the fixes')")
    args = parser.parse_args(argv)
    only = set(args.only) or set(ALL)
    if only - set(ALL):
        parser.error(f"unknown benchmark {', '.join(sorted(only - set(ALL)))}; known: {', '.join(ALL)}")
    import logging
    logging.getLogger("backend.chat.services").setLevel(logging.ERROR)  # the bot is down on purpose
    started = time.monotonic()
    now = datetime.datetime.now(datetime.timezone.utc)
    run = {"date": now.isoformat(timespec="seconds"), "commit": _commit(), "machine": _machine(),
           "versions": _versions(), "quick": args.quick, "label": args.label, "results": {}}
    pg = os.environ.get("BENCH_DATABASE_URL")
    run["part_s"] = {}
    part = {"name": None, "started": time.monotonic()}

    def starting(name: str) -> None:
        """The time each benchmark took, for the run's "Took" line (the 30-minute budget)."""
        now = time.monotonic()
        if part["name"]:
            run["part_s"][part["name"]] = round(now - part["started"], 1)
        part.update(name=name, started=now)
    if only & {"intake", "peer", "bot", "race", "scale"}:
        from . import bench_intake
        url = bench_intake.default_database_url()
    if "intake" in only:
        starting("intake")
        print(f"==> intake: POST /api/v1/orders under gunicorn on {url.split(':')[0]} vs the bare ceiling", flush=True)
        kwargs = {"rounds": 1, "seconds": 3, "warmup": 2} if args.quick else {"rounds": 3, "seconds": 10}
        run["results"]["intake"] = bench_intake.run(url, **kwargs)
    if "peer" in only:
        starting("peer")
        from . import bench_peer
        print("==> peer: django-helpdesk POST /api/tickets/ vs POST /api/v1/orders, same server settings", flush=True)
        kwargs = {"rounds": 1, "seconds": 3, "warmup": 2} if args.quick else {"rounds": 3, "seconds": 10}
        run["results"]["peer"] = bench_peer.run(url, **kwargs)
    if "bot" in only:
        starting("bot")
        from . import bench_bot
        print("==> bot: chat turns against Rasa alone, WeChat acknowledgements at 200/s while the bot is busy", flush=True)
        try:
            kwargs = {"rounds": 1, "seconds": 4, "quick": True} if args.quick else {"rounds": 3, "seconds": 10}
            run["results"]["bot"] = bench_bot.run(url, **kwargs)
        except Exception as exc:  # noqa: BLE001 — no trained model or Rasa would not start: the rest still runs
            print(f"  bot benchmark failed: {exc}", flush=True)
            run["results"]["bot"] = {"error": str(exc)[:200]}
    if "race" in only:
        starting("race")
        from . import bench_race
        print(f"==> race: {bench_race.THREADS} workers claiming {bench_race.ORDERS:,} orders vs raw Redis round trips",
              flush=True)
        bench_intake.ensure_database(url)
        run["results"]["race"] = bench_race.run(url, quick=args.quick)
    if "scale" in only:
        starting("scale")
        from . import bench_scale
        print("==> scale: dashboard, order desk, queue and public page at 100k and 1M orders of one district", flush=True)
        bench_intake.ensure_database(url)
        run["results"]["scale"] = bench_scale.run(url, quick=args.quick)
    wanted = [name for name in IN_PROCESS if name in only]
    if wanted:
        from . import bench_chat, bench_claims, bench_queue
        from .harness import bench_app
        modules = {"queue": bench_queue, "chat_fallback": bench_chat, "claims": bench_claims}
        starting("in-process")
        for database in [None] + ([pg] if pg else []):
            with bench_app(database) as app:
                dialect = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
                for name in wanted:
                    print(f"==> {name} on {dialect}", flush=True)
                    run["results"][f"{name}/{dialect}"] = modules[name].run(app, quick=args.quick)
    starting(None)
    run["elapsed_s"] = round(time.monotonic() - started, 1)
    section = report.section(run)
    print("\n" + section)
    if not args.no_write:
        results = ROOT / "bench" / "results"
        results.mkdir(parents=True, exist_ok=True)
        name = f"{now:%Y%m%dT%H%M%SZ}-{run['commit'].replace('+', '-')}{'-quick' if args.quick else ''}.json"
        (results / name).write_text(json.dumps(run, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
        report.append(ROOT / "BENCHMARKS.md", section)
        print(f"appended to BENCHMARKS.md; raw figures in bench/results/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
