"""Intake under load: `POST /api/v1/orders` served by gunicorn as `make run` serves it (the
Procfile's web line), on PostgreSQL with Redis, against the bare ceiling (`ceiling_app.py`: Flask +
marshmallow + one INSERT) under the same gunicorn settings, with the same body and headers.

Runs alternate (ceiling, app, app, ceiling, …) at each concurrency so that whatever else loads this
shared machine hits both alike; each round's ratio is app ÷ ceiling from back-to-back runs, and the
spread over rounds is reported. Rate limits are switched off (RATE_LIMITS_ENABLED=0) in the served
app: the bench is a few residents sending thousands of orders, which the limits exist to refuse.
Also measured here: resident memory of the web workers and the RQ worker at idle and under load."""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from . import load, servers

BODY = {"text": "水晶城小区3号楼2单元楼道灯坏了好几天了，晚上漆黑一片，老人上下楼很危险",
        "location_text": "水晶城小区3号楼2单元"}
RESIDENTS = 32
SECRET = "bench-secret-not-for-production"


def default_database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/red_mailbox_bench"


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database if it is missing (its public schema is dropped and rebuilt)."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy.engine import make_url
    u = make_url(url)
    subprocess.run(["createdb", "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres",
                    u.database], capture_output=True)


def prepare(database_url: str, redis_url: str) -> list[str]:
    """Fresh schema from the migrations, the demo community, residents and their tokens, the ceiling's table."""
    from sqlalchemy import text
    from backend import create_app
    from backend.config import Config

    class Prepare(Config):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = redis_url
        SECRET_KEY = SECRET
        RATELIMIT_ENABLED = False

    app = create_app(Prepare)
    with app.app_context():
        from flask_migrate import upgrade
        from backend import demo
        from backend.accounts import tokens
        from backend.accounts.models import Resident
        from backend.extensions import db
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        else:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(directory=str(servers.ROOT / "migrations"))
        demo.seed()
        residents = [Resident(openid=f"bench-resident-{i}", name=f"居民{i}") for i in range(RESIDENTS)]
        db.session.add_all(residents)
        db.session.commit()
        issued = [tokens.issue("resident", r.id)["token"] for r in residents]
        db.engine.dispose()
    from .ceiling_app import create_table
    create_table(database_url)
    return issued


def server_env(database_url: str, redis_url: str) -> dict:
    return {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": SECRET, "RATE_LIMITS_ENABLED": "0",
            "FLASK_APP": "backend:create_app", "RED_MAILBOX_ENV": "development", "PYTHONUNBUFFERED": "1"}


def _summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "rounds": values}


def run(database_url: str | None = None, *, rounds: int = 3, seconds: float = 10, warmup: float = 3,
        concurrencies=(16, 64), logdir: Path | None = None) -> dict:
    database_url = database_url or default_database_url()
    ensure_database(database_url)
    logdir = logdir or servers.ROOT / "var" / "bench-logs"
    logdir.mkdir(parents=True, exist_ok=True)
    with servers.redis_server() as redis_url:
        print(f"  preparing {database_url.split('@')[-1]} (migrations, demo community, {RESIDENTS} residents)",
              flush=True)
        tokens = prepare(database_url, redis_url)
        # The RQ worker checks every new order's text with WeChat (msg_sec_check): the stub answers
        # it as WeChat would, so the worker does that real work instead of failing and retrying.
        stub_port = servers.free_port()
        env = {**server_env(database_url, redis_url), "WECHAT_API_BASE": f"http://127.0.0.1:{stub_port}/"}
        app_port, app_server = servers.gunicorn("backend.wsgi:app", env, log=logdir / "intake-app.log")
        ceiling_port, ceiling_server = servers.gunicorn("bench.ceiling_app:create_app()", env,
                                                        log=logdir / "intake-ceiling.log")
        worker_cmd = [str(servers.VENV_BIN / "flask"), "--app", "backend:create_app", "run-worker"]
        stub_cmd = [str(servers.VENV_BIN / "python"), "-m", "stubs.wechat_api", "--port", str(stub_port)]
        with servers.process(stub_cmd, env, port=stub_port, log=logdir / "intake-wechat-stub.log"), \
                app_server as app_proc, ceiling_server as ceiling_proc, \
                servers.process(worker_cmd, env, log=logdir / "intake-worker.log") as worker_proc:
            targets = {"app": f"http://127.0.0.1:{app_port}", "ceiling": f"http://127.0.0.1:{ceiling_port}"}

            def pids():
                return {"web worker": servers.children(app_proc.pid), "rq worker": [worker_proc.pid],
                        "ceiling worker": servers.children(ceiling_proc.pid)}
            time.sleep(1.0)
            memory = {"after start": {k: max((servers.rss_mb(p) for p in v), default=0) for k, v in pids().items()}}
            for name, url in targets.items():
                print(f"  warm-up {name} {warmup:.0f}s", flush=True)
                load.run(url, "/api/v1/orders", BODY, tokens, 16, warmup)
            time.sleep(1.0)
            memory["idle after warm-up"] = {k: max((servers.rss_mb(p) for p in v), default=0)
                                            for k, v in pids().items()}
            runs = {c: {"app": [], "ceiling": []} for c in concurrencies}
            total = rounds * len(concurrencies) * 2
            done = 0
            with servers.RssSampler(pids) as sampler:
                for r in range(rounds):
                    for c in concurrencies:
                        order = ("ceiling", "app") if r % 2 == 0 else ("app", "ceiling")
                        for name in order:
                            result = load.run(targets[name], "/api/v1/orders", BODY, tokens, c, seconds)
                            runs[c][name].append(result)
                            done += 1
                            print(f"  [{done}/{total}] round {r + 1} c{c} {name:<8} {result['rps']:7.1f} req/s "
                                  f"p99 {result['p99_ms']:7.1f} ms errors {result['errors']}", flush=True)
            memory["peak under load"] = sampler.peak
    out = {"generator": load.generator(), "database": database_url.split(":")[0], "seconds_per_run": seconds,
           "rounds": rounds, "gunicorn": " ".join(servers.GUNICORN_ARGS), "rate_limits": "RATE_LIMITS_ENABLED=0",
           "memory_mb": memory, "concurrency": {}}
    for c in concurrencies:
        ratios = [a["rps"] / b["rps"] if b["rps"] else float("nan")
                  for a, b in zip(runs[c]["app"], runs[c]["ceiling"])]
        out["concurrency"][c] = {
            "ratio": _summary(ratios),
            "app_rps": _summary([a["rps"] for a in runs[c]["app"]]),
            "ceiling_rps": _summary([b["rps"] for b in runs[c]["ceiling"]]),
            "app_p99_ms": _summary([a["p99_ms"] for a in runs[c]["app"]]),
            "ceiling_p99_ms": _summary([b["p99_ms"] for b in runs[c]["ceiling"]]),
            "app_errors": sum(a["errors"] for a in runs[c]["app"]),
            "ceiling_errors": sum(b["errors"] for b in runs[c]["ceiling"]),
            "runs": runs[c]}
    return out


if __name__ == "__main__":
    import json
    print(json.dumps(run(rounds=int(sys.argv[1]) if len(sys.argv) > 1 else 1, seconds=3), indent=1, default=str))
