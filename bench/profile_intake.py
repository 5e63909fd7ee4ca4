"""Where one `POST /api/v1/orders` spends its time, in-process: the same request through the Flask
test client on the bench's database, under cProfile, with every SQL statement and transaction end
counted. `python -m bench.profile_intake [orders] [--sql] [--self] [--cpu]` (BENCH_DATABASE_URL as for
the bench; its schema is rebuilt). `--cpu` times this process's CPU instead of the wall clock, so a
busy machine or a slow disk (each commit waits for its fsync) does not hide where the work is. For the picture under real load, py-spy a gunicorn worker during `make bench`."""
import cProfile
import pstats
import sys
import uuid
from collections import Counter


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    n = int(next((a for a in argv if a.isdigit()), "200"))
    from sqlalchemy import event
    from . import bench_intake, servers
    url = bench_intake.default_database_url()
    bench_intake.ensure_database(url)
    with servers.redis_server() as redis_url:
        tokens = bench_intake.prepare(url, redis_url)
        from backend import create_app
        from backend.config import Config

        class Profile(Config):
            SQLALCHEMY_DATABASE_URI = url
            REDIS_URL = redis_url
            SECRET_KEY = bench_intake.SECRET
            RATELIMIT_ENABLED = False

        app = create_app(Profile)
        client = app.test_client()

        def post(i):
            response = client.post("/api/v1/orders", json=bench_intake.BODY, headers={
                "Authorization": f"Bearer {tokens[i % len(tokens)]}", "Idempotency-Key": uuid.uuid4().hex})
            assert response.status_code == 201, response.get_data(as_text=True)

        for i in range(20):  # warm: the model, the registry, the connection pool
            post(i)
        statements, ends = Counter(), Counter()
        with app.app_context():
            from backend.extensions import db
            engine = db.engine

        import time
        spent = Counter()

        @event.listens_for(engine, "before_cursor_execute")
        def _count(conn, cursor, statement, *args):
            statements[" ".join(statement.split())[:110]] += 1
            conn.info["rm_started"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _timed(conn, cursor, statement, *args):
            spent[" ".join(statement.split())[:110]] += time.perf_counter() - conn.info.pop("rm_started", 0)

        @event.listens_for(engine, "commit")
        def _commit(conn):
            ends["commit"] += 1

        @event.listens_for(engine, "rollback")
        def _rollback(conn):
            ends["rollback"] += 1

        profiler = cProfile.Profile(time.process_time) if "--cpu" in argv else cProfile.Profile()
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        profiler.enable()
        for i in range(n):
            post(i)
        profiler.disable()
        cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
    print(f"per order: {sum(statements.values()) / n:.1f} SQL statements, "
          f"{ends['commit'] / n:.1f} commits, {ends['rollback'] / n:.1f} rollbacks; "
          f"{cpu / n * 1000:.2f} ms of this process's CPU, {wall / n * 1000:.2f} ms wall (profiler included)")
    if "--sql" in argv:
        for statement, count in statements.most_common():
            print(f"  {count / n:5.1f} × {spent[statement] / count * 1000:6.2f} ms  {statement}")
    stats = pstats.Stats(profiler).strip_dirs().sort_stats("tottime" if "--self" in argv else "cumulative")
    stats.print_stats(int(__import__("os").environ.get("PROFILE_ROWS", "45")))
    if __import__("os").environ.get("PROFILE_DUMP"):
        profiler.dump_stats(__import__("os").environ["PROFILE_DUMP"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
