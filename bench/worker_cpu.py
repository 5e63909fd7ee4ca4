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
import statistics
import subprocess
import sys
import tempfile
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


class Tree:
    def __init__(self, name: str, path: Path, database_url: str, redis_url: str, stub_url: str, profile: str):
        self.name, self.rounds = name, []
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "worker_cpu.py"), "--child", database_url, redis_url, stub_url,
             profile], cwd=path, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(path)})
        self._read()  # ready

    def _read(self) -> dict:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise SystemExit(f"{self.name}: the child ended")
            if line.startswith("{"):
                return json.loads(line)

    def round(self, n: int) -> dict:
        self.proc.stdin.write(f"round {n}\n")
        self.proc.stdin.flush()
        figures = self._read()
        self.rounds.append(figures)
        return figures

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _export(ref: str) -> Path:
    where = Path(tempfile.mkdtemp(prefix="worker-cpu-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    # The harness is this tree's: an older tree may not have it.
    (where / "bench" / "worker_cpu.py").write_text((ROOT / "bench" / "worker_cpu.py").read_text())
    return where


def _summary(rounds: list[dict]) -> dict:
    out = {}
    for key in ("ms_per_order", "wall_ms_per_order"):
        values = [r[key] for r in rounds]
        out[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        _child(*argv[1:5])
        return 0

    def opt(name, default):
        return type(default)(argv[argv.index(name) + 1]) if name in argv else default

    n, rounds, before, profile = opt("--orders", 300), opt("--rounds", 3), opt("--before", ""), "--profile" in argv
    sys.path.insert(0, str(ROOT))
    from bench import bench_intake, servers
    url = bench_intake.default_database_url()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True).stdout.strip())
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    load_before = os.getloadavg()
    stub_port = servers.free_port()
    stub_cmd = [str(servers.VENV_BIN / "python"), "-m", "stubs.wechat_api", "--port", str(stub_port)]
    with servers.redis_server() as redis_url, servers.process(stub_cmd, {}, port=stub_port):
        stub_url = f"http://127.0.0.1:{stub_port}/"
        trees = []

        def prof(tag):
            return f"/tmp/worker-cpu-{stamp}-{tag}.prof" if profile else ""
        if before:
            trees.append(Tree(f"before ({before})", _export(before), url + "_before", redis_url, stub_url,
                              prof("before")))
        trees.append(Tree(f"after ({commit}{'+dirty' if dirty else ''})", ROOT, url, redis_url, stub_url,
                          prof("after")))
        for r in range(rounds):
            order = trees if r % 2 == 0 else trees[::-1]
            for tree in order:
                f = tree.round(n)
                print(f"round {r + 1}/{rounds} {tree.name}: {f['ms_per_order']:.2f} ms CPU per checked order "
                      f"({f['checked']} checked, wall {f['wall_ms_per_order']:.2f} ms)", file=sys.stderr, flush=True)
        for tree in trees:
            tree.close()
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
