"""Where one WeChat push's acknowledgement spends its time, in-process: signed pushes through the
Flask test client to /wechat/callback on the bench's database (plain or safe mode), under cProfile,
with every SQL statement, transaction end and Redis command counted.

`python -m bench.profile_wechat [pushes] [--safe] [--sql] [--self] [--no-profile] [--callers=NAME] [--callees=NAME]`
(BENCH_DATABASE_URL as for the bench; its schema is rebuilt). Prints the CPU per push (process
time, so the machine's other load counts less than in wall time) before the profile."""
import cProfile
import hashlib
import pstats
import sys
import time
import uuid
from collections import Counter

MESSAGE = "楼道灯坏了好几天了，晚上漆黑一片"


def _push(client, token: str, aes_key: str, appid: str, i: int, safe: bool):
    from tests.wechat.conftest import aes_encrypt, sha1_signature
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    xml = (f"<xml><ToUserName><![CDATA[gh_redmailbox]]></ToUserName><FromUserName><![CDATA[o-profile-{i % 200}]]>"
           f"</FromUserName><CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{MESSAGE}]]></Content><MsgId>{time.time_ns() + i}</MsgId></xml>")
    query = {"signature": hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest(),
             "timestamp": timestamp, "nonce": nonce, "openid": f"o-profile-{i % 200}"}
    body = xml
    if safe:
        encrypted = aes_encrypt(xml, aes_key, appid)
        query.update(encrypt_type="aes", msg_signature=sha1_signature(token, timestamp, nonce, encrypted))
        body = f"<xml><ToUserName><![CDATA[gh_redmailbox]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    response = client.post("/wechat/callback", query_string=query, data=body.encode(), content_type="text/xml")
    assert response.status_code == 200 and response.get_data(as_text=True) == "success", response.get_data()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    n = int(next((a for a in argv if a.isdigit()), "500"))
    safe = "--safe" in argv
    from sqlalchemy import event
    from . import bench_intake, servers
    url = bench_intake.default_database_url()
    bench_intake.ensure_database(url)
    with servers.redis_server() as redis_url:
        bench_intake.prepare(url, redis_url)
        from backend import create_app
        from backend.config import Config

        class Profile(Config):
            SQLALCHEMY_DATABASE_URI = url
            REDIS_URL = redis_url
            SECRET_KEY = bench_intake.SECRET
            RATELIMIT_ENABLED = False

        app = create_app(Profile)
        client = app.test_client()
        cfg = app.config

        def push(i):
            _push(client, cfg["WECHAT_TOKEN"], cfg["WECHAT_AES_KEY"], cfg["WECHAT_APPID"], i, safe)

        for i in range(30):  # warm: connection pools, the queue, lazy imports
            push(i)
        statements, ends, redis_commands = Counter(), Counter(), Counter()
        with app.app_context():
            from backend.extensions import db
            engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def _count(conn, cursor, statement, *args):
            statements[" ".join(statement.split())[:110]] += 1

        @event.listens_for(engine, "commit")
        def _commit(conn):
            ends["commit"] += 1

        @event.listens_for(engine, "rollback")
        def _rollback(conn):
            ends["rollback"] += 1

        import redis.connection
        original = redis.connection.AbstractConnection.send_packed_command

        def counted(self, command, check_health=True):
            redis_commands["round trips"] += 1
            return original(self, command, check_health)
        redis.connection.AbstractConnection.send_packed_command = counted

        profiler = cProfile.Profile()
        started, cpu = time.perf_counter(), time.process_time()
        if "--no-profile" not in argv:
            profiler.enable()
        for i in range(n):
            push(1000 + i)
        profiler.disable()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        redis.connection.AbstractConnection.send_packed_command = original
    print(f"{'safe' if safe else 'plain'} mode, {n} pushes: {cpu / n * 1000:.2f} ms CPU and {wall / n * 1000:.2f} ms "
          f"wall per push{' (under cProfile)' if '--no-profile' not in argv else ''}")
    print(f"per push: {sum(statements.values()) / n:.1f} SQL statements, {ends['commit'] / n:.1f} commits, "
          f"{ends['rollback'] / n:.1f} rollbacks, {redis_commands['round trips'] / n:.1f} Redis round trips")
    if "--sql" in argv:
        for statement, count in statements.most_common():
            print(f"  {count / n:5.1f} ×  {statement}")
    if "--no-profile" not in argv:
        stats = pstats.Stats(profiler).strip_dirs().sort_stats("tottime" if "--self" in argv else "cumulative")
        stats.print_stats(40)
        for name in [a.split("=", 1)[1] for a in argv if a.startswith("--callers=")]:
            stats.print_callers(name)
        for name in [a.split("=", 1)[1] for a in argv if a.startswith("--callees=")]:
            stats.print_callees(name)
    return 0




def _cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (/proc/PID/stat, clock ticks)."""
    import os
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served(argv) -> int:
    """The callback under gunicorn as the Procfile serves it (no bot, no chat load): capacity (closed
    loop, 8 connections) and the acknowledgement's latency at a fixed rate (open loop), 3 rounds.
    `python -m bench.profile_wechat --served [--rate=100] [--seconds=10]`; py-spy a worker meanwhile
    (its pid is printed)."""
    import statistics
    from . import bench_bot, bench_intake, clients, servers
    rate = float(next((a.split("=", 1)[1] for a in argv if a.startswith("--rate=")), "100"))
    seconds = float(next((a.split("=", 1)[1] for a in argv if a.startswith("--seconds=")), "10"))
    url = bench_intake.default_database_url()
    bench_intake.ensure_database(url)
    logdir = servers.ROOT / "var" / "bench-logs"
    logdir.mkdir(parents=True, exist_ok=True)
    with servers.redis_server() as redis_url:
        bench_intake.prepare(url, redis_url)
        env = {**bench_intake.server_env(url, redis_url), "WECHAT_TOKEN": bench_bot.WECHAT_TOKEN}
        port, server = servers.gunicorn("backend.wsgi:app", env, log=logdir / "wechat-served.log")
        with server as proc:
            base = f"http://127.0.0.1:{port}"
            openids = [f"served-{i}" for i in range(200)]
            clients.closed_loop(base, bench_bot._push_request(openids), 8, 3)  # warm-up
            workers = servers.children(proc.pid)
            print(f"gunicorn {proc.pid}, workers {workers}", flush=True)
            capacity, acks, cpu = [], [], []
            for r in range(3):
                before = sum(_cpu_seconds(p) for p in workers)
                c = clients.closed_loop(base, bench_bot._push_request(openids), 8, seconds)
                cpu.append((sum(_cpu_seconds(p) for p in workers) - before) / max(1, c["requests"]) * 1000)
                o = clients.open_loop(base, bench_bot._push_request(openids), rate, seconds)
                capacity.append(c["rps"])
                acks.append(o)
                print(f"  round {r + 1}: capacity {c['rps']:.0f} pushes/s (errors {c['errors']}), "
                      f"{cpu[-1]:.2f} ms of the web workers' CPU per push; at {rate:.0f}/s "
                      f"p50 {o['p50_ms']:.1f} ms p99 {o['p99_ms']:.1f} ms answered {o['achieved_rps']:.0f}/s "
                      f"errors {o['errors']}", flush=True)
            print(f"capacity median {statistics.median(capacity):.0f} pushes/s, {statistics.median(cpu):.2f} ms CPU "
                  f"per push; at {rate:.0f}/s p50 median "
                  f"{statistics.median(a['p50_ms'] for a in acks):.1f} ms, p99 median "
                  f"{statistics.median(a['p99_ms'] for a in acks):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(served(sys.argv[1:]) if "--served" in sys.argv else main())
