"""A throwaway app for benchmarks: private redis-server, fresh database (SQLite file, or
BENCH_DATABASE_URL), schema from the Alembic migrations, a seeded community."""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def bench_app(database_url: str | None = None):
    import redis as redis_lib
    workdir = tempfile.mkdtemp(prefix="rm-bench-")
    port = _free_port()
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            redis_lib.Redis(port=port).ping()
            break
        except redis_lib.ConnectionError:
            time.sleep(0.05)
    from backend import create_app
    from backend.config import TestConfig

    class BenchConfig(TestConfig):
        TESTING = False
        SQLALCHEMY_DATABASE_URI = database_url or f"sqlite:///{workdir}/bench.sqlite3"
        REDIS_URL = f"redis://127.0.0.1:{port}/0"

    app = create_app(BenchConfig)
    try:
        with app.app_context():
            from flask_migrate import upgrade
            from sqlalchemy import text
            from backend.extensions import db
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
            from backend import demo
            demo.seed()
        yield app
    finally:
        proc.terminate()
        proc.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)


def measure(fn, repeat: int = 7, label: str = "") -> float:
    """Median seconds of `repeat` runs (after one warm-up), with a progress line."""
    fn()
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        print(f"\r  {label:<44} run {i + 1}/{repeat}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return statistics.median(times)
