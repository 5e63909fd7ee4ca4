"""CPU per `POST /api/v1/orders` in-process, side by side with the bare ceiling, and with an older
commit of the backend in the same run (issue 22 item 5: ≤ 8 ms per order).

Each tree (this one, and with `--before REF` that commit exported to a temporary directory) runs in a
child process of its own: its own database (schema rebuilt from its migrations), the same private
redis-server, the Flask test client with the bench's body and 32 residents' tokens, and the ceiling
app (`bench/ceiling_app.py`) beside it in the same process. Rounds alternate the trees (before, after,
after, before, …) and inside a round the ceiling and the app (ceiling, app, app, ceiling), so that
what else loads this shared machine falls on all alike. A figure is this process's CPU
(`time.process_time`) per request, not the wall clock: PostgreSQL's and Redis's own work is not in it.

    .venv/bin/python -m bench.intake_cpu --orders 300 --rounds 3 --before lead

BENCH_DATABASE_URL names the after tree's database (default red_mailbox_bench); the before tree's is
the same name + `_before`. Progress goes to stderr, the summary to stdout and bench/results/."""
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _child(database_url: str, redis_url: str) -> None:
    """Runs inside a tree (cwd and sys.path[0] = the tree): answers `round N` lines with JSON."""
    sys.path.insert(0, os.getcwd())
    os.environ["DATABASE_URL"] = database_url
    from bench import bench_intake, ceiling_app
    bench_intake.ensure_database(database_url)
    tokens = bench_intake.prepare(database_url, redis_url)
    from backend import create_app
    from backend.config import Config

    class Measure(Config):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = redis_url
        SECRET_KEY = bench_intake.SECRET
        RATELIMIT_ENABLED = False

    app = create_app(Measure).test_client()
    ceiling_app.create_table(database_url)
    ceiling = ceiling_app.create_app().test_client()

    def post(client, i):
        answer = client.post("/api/v1/orders", json=bench_intake.BODY, headers={
            "Authorization": f"Bearer {tokens[i % len(tokens)]}", "Idempotency-Key": uuid.uuid4().hex})
        assert answer.status_code == 201, answer.get_data(as_text=True)

    def cpu(client, n):
        started = time.process_time()
        for i in range(n):
            post(client, i)
        return (time.process_time() - started) / n * 1000

    for i in range(30):  # warm: the model, the registry, the pools
        post(app, i)
        post(ceiling, i)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        n = int(line.split()[1])
        c1, a1, a2, c2 = cpu(ceiling, n), cpu(app, n), cpu(app, n), cpu(ceiling, n)
        print(json.dumps({"ceiling": (c1 + c2) / 2, "app": (a1 + a2) / 2}), flush=True)


def _summary(rounds: list[dict]) -> dict:
    from bench.trees import spread
    out = {key: spread([r[key] for r in rounds]) for key in ("ceiling", "app")}
    out["app_over_ceiling"] = spread([r["app"] / r["ceiling"] for r in rounds])
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        _child(argv[1], argv[2])
        return 0

    def opt(name, default):
        return type(default)(argv[argv.index(name) + 1]) if name in argv else default

    n, rounds, before = opt("--orders", 300), opt("--rounds", 3), opt("--before", "")
    sys.path.insert(0, str(ROOT))
    from bench import bench_intake, servers, trees as side_by_side
    url = bench_intake.default_database_url()
    load_before = os.getloadavg()

    def report(r, tree, f):
        print(f"round {r + 1}/{rounds} {tree.name}: app {f['app']:.2f} ms, ceiling {f['ceiling']:.2f} ms "
              f"per request ({n} each, twice)", file=sys.stderr, flush=True)
    with servers.redis_server() as redis_url:
        trees = []
        if before:
            trees.append(side_by_side.Tree(f"before ({before})", side_by_side.export(before, "intake_cpu.py"),
                                           "intake_cpu.py", [url + "_before", redis_url]))
        trees.append(side_by_side.Tree(f"after ({side_by_side.this_tree()})", ROOT, "intake_cpu.py", [url, redis_url]))
        side_by_side.alternate(trees, rounds, n, report)
    load_after = os.getloadavg()
    result = {"measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "orders_per_round": n,
              "rounds": rounds, "load_average_1m": [load_before[0], load_after[0]],
              "trees": {t.name: {"rounds": t.rounds, **_summary(t.rounds)} for t in trees}}
    out = ROOT / "bench" / "results" / f"intake-cpu-{result['measured'].replace(':', '')}.json"
    out.write_text(json.dumps(result, indent=1))
    print(f"CPU per POST /api/v1/orders, in-process, {n} × 2 per round, {rounds} rounds, median (min–max); "
          f"load average {load_before[0]:.1f} → {load_after[0]:.1f}")
    for name, s in result["trees"].items():
        print(f"  {name}: app {s['app']['median']:.2f} ms ({s['app']['min']:.2f}–{s['app']['max']:.2f}), "
              f"ceiling {s['ceiling']['median']:.2f} ms ({s['ceiling']['min']:.2f}–{s['ceiling']['max']:.2f}), "
              f"app ÷ ceiling {s['app_over_ceiling']['median']:.1f}×")
    print(f"raw: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
