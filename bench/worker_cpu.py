"""The RQ worker's CPU per content-checked order, in-process, and with an older commit of the backend
in the same run (issue 22 item 5: the worker's share of a served order).

Each tree (this one, and with `--before REF` that commit exported to a temporary directory) runs in a
child process of its own: its own database (schema rebuilt from its migrations), the same private
redis-server and WeChat stub (`stubs.wechat_api`, answering msg_sec_check as WeChat would). A round
makes `--orders` orders through the Flask test client (the bench's body, 32 residents; not counted),
then runs the content-check job's body (`backend.wechat.jobs.check_new_orders`, what the worker runs
for a burst of orders) until every order is checked, and reports this process's CPU
(`time.process_time`) per checked order: PostgreSQL's, Redis's and the stub's own work is not in it.
Rounds alternate the trees (before, after, after, before, …).

    .venv/bin/python -m bench.worker_cpu --orders 300 --rounds 3 --before wip/lead [--profile]

`--profile` also writes a cProfile of one round's checks per tree (/tmp/worker-cpu-*.prof).
BENCH_DATABASE_URL names the after tree's database (default red_mailbox_bench); the before tree's is
the same name + `_before`. Progress goes to stderr, the summary to stdout and bench/results/."""
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child(database_url: str, redis_url: str, stub_url: str, profile: str) -> None:
    """Runs inside a tree (cwd and sys.path[0] = the tree): answers `round N` lines with JSON."""
    sys.path.insert(0, os.getcwd())
    os.environ["DATABASE_URL"] = database_url
    from bench import bench_intake
    bench_intake.ensure_database(database_url)
    tokens = bench_intake.prepare(database_url, redis_url)
    from backend import create_app
    from backend.config import Config

    class Measure(Config):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = redis_url
        SECRET_KEY = bench_intake.SECRET
        RATELIMIT_ENABLED = False
        WECHAT_API_BASE = stub_url

    app = create_app(Measure)
    client = app.test_client()

    def post(i):
        answer = client.post("/api/v1/orders", json=bench_intake.BODY, headers={
            "Authorization": f"Bearer {tokens[i % len(tokens)]}", "Idempotency-Key": uuid.uuid4().hex})
        assert answer.status_code == 201, answer.get_data(as_text=True)

    def checks(n: int, profiler=None) -> dict:
        from backend.wechat import jobs
        for i in range(n):
            post(i)
        checked = 0
        with app.app_context():
            started, wall = time.process_time(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            while True:  # as the worker does: the job asks for itself again while orders are left
                done = jobs.check_new_orders()
                checked += done["checked"]
                if not done["more"]:
                    break
            if profiler is not None:
                profiler.disable()
            cpu, wall = time.process_time() - started, time.perf_counter() - wall
        return {"ms_per_order": cpu / max(checked, 1) * 1000, "wall_ms_per_order": wall / max(checked, 1) * 1000,
                "checked": checked}

    checks(30)  # warm: the model, the registry, the pools, the access token
    print(json.dumps({"ready": True}), flush=True)
    profiled = False
    for line in sys.stdin:
        n = int(line.split()[1])
        profiler = None
        if profile and not profiled:
            import cProfile
            profiler, profiled = cProfile.Profile(time.process_time), True
        figures = checks(n, profiler)
        if profiler is not None:
            profiler.dump_stats(profile)
        print(json.dumps(figures), flush=True)


def _summary(rounds: list[dict]) -> dict:
    from bench.trees import spread
    return {key: spread([r[key] for r in rounds]) for key in ("ms_per_order", "wall_ms_per_order")}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        _child(*argv[1:5])
        return 0

    def opt(name, default):
        return type(default)(argv[argv.index(name) + 1]) if name in argv else default

    n, rounds, before, profile = opt("--orders", 300), opt("--rounds", 3), opt("--before", ""), "--profile" in argv
    sys.path.insert(0, str(ROOT))
    from bench import bench_intake, servers, trees as side_by_side
    url = bench_intake.default_database_url()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    load_before = os.getloadavg()
    stub_port = servers.free_port()
    stub_cmd = [str(servers.VENV_BIN / "python"), "-m", "stubs.wechat_api", "--port", str(stub_port)]

    def report(r, tree, f):
        print(f"round {r + 1}/{rounds} {tree.name}: {f['ms_per_order']:.2f} ms CPU per checked order "
              f"({f['checked']} checked, wall {f['wall_ms_per_order']:.2f} ms)", file=sys.stderr, flush=True)
    with servers.redis_server() as redis_url, servers.process(stub_cmd, {}, port=stub_port):
        stub_url = f"http://127.0.0.1:{stub_port}/"
        trees = []

        def args(database_url, tag):
            return [database_url, redis_url, stub_url, f"/tmp/worker-cpu-{stamp}-{tag}.prof" if profile else ""]
        if before:
            trees.append(side_by_side.Tree(f"before ({before})", side_by_side.export(before, "worker_cpu.py"),
                                           "worker_cpu.py", args(url + "_before", "before")))
        trees.append(side_by_side.Tree(f"after ({side_by_side.this_tree()})", ROOT, "worker_cpu.py",
                                       args(url, "after")))
        side_by_side.alternate(trees, rounds, n, report)
    load_after = os.getloadavg()
    result = {"measured": stamp, "orders_per_round": n, "rounds": rounds,
              "load_average_1m": [load_before[0], load_after[0]],
              "trees": {t.name: {"rounds": t.rounds, **_summary(t.rounds)} for t in trees}}
    out = ROOT / "bench" / "results" / f"worker-cpu-{stamp}.json"
    out.write_text(json.dumps(result, indent=1))
    print(f"Worker CPU per content-checked order, in-process, {n} per round, {rounds} rounds, median (min–max); "
          f"load average {load_before[0]:.1f} → {load_after[0]:.1f}")
    for name, s in result["trees"].items():
        m = s["ms_per_order"]
        print(f"  {name}: {m['median']:.2f} ms ({m['min']:.2f}–{m['max']:.2f}); "
              f"wall {s['wall_ms_per_order']['median']:.2f} ms")
    print(f"raw: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
