"""A throwaway app for benchmarks: private redis-server, fresh database (SQLite file, or
BENCH_DATABASE_URL), schema from the Alembic migrations, a seeded community."""
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager


@contextmanager
def bench_app(database_url: str | None = None):
    """The app on a private redis-server (servers.redis_server) and a fresh, seeded database."""
    from .servers import redis_server
    workdir = tempfile.mkdtemp(prefix="rm-bench-")
    from backend import create_app
    from backend.config import TestConfig
    with redis_server() as redis_url:

        class BenchConfig(TestConfig):
            TESTING = False
            SQLALCHEMY_DATABASE_URI = database_url or f"sqlite:///{workdir}/bench.sqlite3"
            REDIS_URL = redis_url

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
