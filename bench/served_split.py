"""Where a served order's CPU goes: `POST /api/v1/orders` under wrk (c16) on gunicorn as the Procfile
runs it, with the RQ worker and the WeChat stub beside it, and each process's CPU read from /proc
before and after a round (the worker given a few seconds to drain what the round queued). The bare
ceiling (`ceiling_app.py`) is measured the same way in the same run, so the split reads against it.

    .venv/bin/python -m bench.served_split [--rounds 2] [--seconds 8] [--threads 4]

Groups: web (gunicorn's master and workers), rq (the worker), stub (WeChat's stand-in: on a real
deployment its work is WeChat's, not ours), postgres and redis-server (every process of that name on
the machine: run it on a quiet machine), wrk. Progress on stderr, the summary on stdout and in
bench/results/served-split-<time>.json."""
import datetime
import json
import os
import statistics
import sys
import time

from . import bench_intake, load, servers

HZ = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 when it is gone)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / HZ


def pids_named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if open(f"/proc/{entry}/comm").read().strip() == name:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def split(before: dict, after: dict, requests: float) -> dict:
    """ms of CPU per request for each group, from two {group: {pid: seconds}} snapshots; a process
    that started between them counts from zero, one that ended counts nothing after its last read."""
    if requests <= 0:
        return {group: float("nan") for group in after}
    return {group: sum(after[group][pid] - before.get(group, {}).get(pid, 0.0) for pid in after[group])
            * 1000 / requests for group in after}


def _snapshot(groups: dict) -> dict:
    return {group: {pid: cpu_seconds(pid) for pid in pids()} for group, pids in groups.items()}


def run(rounds: int = 2, seconds: float = 8, drain: float = 5, threads: int | None = None) -> dict:
    if threads:
        os.environ["BENCH_WEB_THREADS"] = str(threads)
        servers.GUNICORN_ARGS[servers.GUNICORN_ARGS.index("--threads") + 1] = str(threads)
    database_url = bench_intake.default_database_url()
    bench_intake.ensure_database(database_url)
    logdir = servers.ROOT / "var" / "bench-logs"
    logdir.mkdir(parents=True, exist_ok=True)
    results = {"app": [], "ceiling": []}
    with servers.redis_server() as redis_url:
        print("  preparing the bench database", file=sys.stderr, flush=True)
        tokens = bench_intake.prepare(database_url, redis_url)
        stub_port = servers.free_port()
        env = {**bench_intake.server_env(database_url, redis_url), "WECHAT_API_BASE": f"http://127.0.0.1:{stub_port}/"}
        app_port, app_server = servers.gunicorn("backend.wsgi:app", env, log=logdir / "split-app.log")
        ceiling_port, ceiling_server = servers.gunicorn("bench.ceiling_app:create_app()", env,
                                                        log=logdir / "split-ceiling.log")
        worker_cmd = [str(servers.VENV_BIN / "flask"), "--app", "backend:create_app", "run-worker"]
        stub_cmd = [str(servers.VENV_BIN / "python"), "-m", "stubs.wechat_api", "--port", str(stub_port)]
        with servers.process(stub_cmd, env, port=stub_port, log=logdir / "split-stub.log") as stub, \
                app_server as app_proc, ceiling_server as ceiling_proc, \
                servers.process(worker_cmd, env, log=logdir / "split-worker.log") as worker:
            targets = {"app": (f"http://127.0.0.1:{app_port}", app_proc),
                       "ceiling": (f"http://127.0.0.1:{ceiling_port}", ceiling_proc)}
            for name, (url, _) in targets.items():
                print(f"  warm-up {name}", file=sys.stderr, flush=True)
                load.run(url, "/api/v1/orders", bench_intake.BODY, tokens, 16, 3)
            time.sleep(drain)
            for r in range(rounds):
                for name in (("ceiling", "app") if r % 2 == 0 else ("app", "ceiling")):
                    url, proc = targets[name]
                    groups = {"web": lambda p=proc: [p.pid, *servers.children(p.pid)], "rq": lambda: [worker.pid],
                              "stub": lambda: [stub.pid], "postgres": lambda: pids_named("postgres"),
                              "redis": lambda: pids_named("redis-server"), "wrk": lambda: pids_named("wrk")}
                    before = _snapshot(groups)
                    answer = load.run(url, "/api/v1/orders", bench_intake.BODY, tokens, 16, seconds)
                    time.sleep(drain)  # what the round queued is worked off and counted with it
                    parts = split(before, _snapshot(groups), answer["rps"] * seconds)
                    results[name].append({"rps": answer["rps"], "p99_ms": answer["p99_ms"], "errors": answer["errors"],
                                          "ms_per_request": parts})
                    print(f"  round {r + 1} {name:<8} {answer['rps']:6.1f} req/s; ms CPU per request: "
                          + ", ".join(f"{g} {v:.2f}" for g, v in parts.items())
                          + f"; total {sum(parts.values()):.2f}", file=sys.stderr, flush=True)
    summary = {name: {"rps": statistics.median(x["rps"] for x in runs),
                      "ms_per_request": {g: statistics.median(x["ms_per_request"][g] for x in runs)
                                         for g in runs[0]["ms_per_request"]}}
               for name, runs in results.items()}
    return {"seconds": seconds, "rounds": rounds, "drain_seconds": drain, "gunicorn": " ".join(servers.GUNICORN_ARGS),
            "load_average": os.getloadavg(), "summary": summary, "runs": results}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv

    def option(name, default):
        return type(default)(argv[argv.index(name) + 1]) if name in argv else default
    out = run(rounds=option("--rounds", 2), seconds=option("--seconds", 8.0), threads=option("--threads", 0) or None)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = servers.ROOT / "bench" / "results" / f"served-split-{stamp}.json"
    path.write_text(json.dumps(out, indent=1))
    for name, s in out["summary"].items():
        parts = s["ms_per_request"]
        print(f"{name:<8} {s['rps']:6.1f} req/s; ms CPU per request: "
              + ", ".join(f"{g} {v:.2f}" for g, v in parts.items()) + f"; total {sum(parts.values()):.2f}")
    print(f"raw: {path.relative_to(servers.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
