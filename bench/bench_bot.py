"""The bot under load (issue 15 items 3, 4 and Rasa's part of 7), on the whole stack as `make run`
starts it: gunicorn (the Procfile's web line) and the RQ worker on PostgreSQL, a private
redis-server (the bot's tracker and lock store in its db 3), the Rasa server and its action server
(the actions calling the backend over HTTP), and the WeChat stub for replies.

chat:   POST /api/v1/chat (backend → Rasa → reply) against Rasa's REST webhook called directly with
        the same message and metadata, 4 connections, a fresh resident per message, rounds
        interleaved (rasa, app, app, rasa, …). Then one resident's long conversation, both ways.
wechat: signed pushes at 200/s (open loop: latency from when each push was due) to /wechat/callback
        while the bot is busy (chat load on 4 connections, the worker running the pushes' turns),
        against the bare ceiling (Flask + marshmallow + one INSERT) at the same rate under the same
        load, interleaved.
memory: RSS of the Rasa server and the action server after start and at peak under load."""
import hashlib
import json
import os
import time
import uuid
from pathlib import Path

from . import bench_intake, clients, servers

MESSAGE = "楼道灯坏了好几天了，晚上漆黑一片"
WECHAT_TOKEN = "bench-wechat-token"
BOT_TOKEN = "bench-bot-service-token"
RASA_TOKEN = "bench-rasa-auth-token"  # the backend's key to Rasa: the bench calls Rasa with it too
RASA_HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {RASA_TOKEN}"}
LONG_TURNS = ["楼道灯坏了", "水晶城小区3号楼2单元", "对", "没有", "不用", "好"]


def _residents(database_url: str, redis_url: str, n: int) -> list[tuple[str, str]]:
    """n more residents: their conversation ids with the bot and their tokens (the prepared database
    has the demo and the intake's)."""
    from backend import create_app
    from backend.config import Config

    class Prepare(Config):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = redis_url
        SECRET_KEY = bench_intake.SECRET

    app = create_app(Prepare)
    with app.app_context():
        from backend.accounts import tokens
        from backend.accounts.models import Resident
        from backend.chat import gateway
        from backend.extensions import db
        tag = uuid.uuid4().hex[:6]
        rows = [Resident(openid=f"bot-{tag}-{i}", name=f"居民{i}") for i in range(n)]
        db.session.add_all(rows)
        db.session.commit()
        out = [(gateway.sender_id(r.id), tokens.issue("resident", r.id)["token"]) for r in rows]
        db.engine.dispose()
        return out


def _chat_request(pool):
    def make(i):
        _, token = pool[i % len(pool)]
        body = json.dumps({"text": MESSAGE, "client_id": uuid.uuid4().hex}).encode()
        return "POST", "/api/v1/chat", body, {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return make


def _rasa_request(pool):
    def make(i):
        sender, _ = pool[i % len(pool)]
        body = json.dumps({"sender": sender, "message": MESSAGE,
                           "metadata": {"channel": "h5", "idempotency_key": f"turn:{uuid.uuid4().hex}"}}).encode()
        return "POST", "/webhooks/rest/webhook", body, RASA_HEADERS
    return make


def _long_request(kind, resident):
    sender, token = resident

    def make(i):
        text = LONG_TURNS[i % len(LONG_TURNS)]
        if kind == "app":
            return "POST", "/api/v1/chat", json.dumps({"text": text, "client_id": uuid.uuid4().hex}).encode(), {
                "Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        return "POST", "/webhooks/rest/webhook", json.dumps({
            "sender": sender, "message": text,
            "metadata": {"channel": "h5", "idempotency_key": f"turn:{uuid.uuid4().hex}"}}).encode(), RASA_HEADERS
    return make


def _push_request(openids):
    def make(i):
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
        signature = hashlib.sha1("".join(sorted([WECHAT_TOKEN, timestamp, nonce])).encode()).hexdigest()
        openid = openids[i % len(openids)]
        body = (f"<xml><ToUserName><![CDATA[gh_redmailbox]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
                f"</FromUserName><CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[{MESSAGE}]]></Content><MsgId>{time.time_ns() + i}</MsgId></xml>").encode()
        return ("POST", f"/wechat/callback?signature={signature}&timestamp={timestamp}&nonce={nonce}&openid={openid}",
                body, {"Content-Type": "text/xml"})
    return make


def _ceiling_request(tokens):
    body = json.dumps(bench_intake.BODY).encode()

    def make(i):
        return "POST", "/api/v1/orders", body, {"Content-Type": "application/json",
                                                "Authorization": f"Bearer {tokens[i % len(tokens)]}",
                                                "Idempotency-Key": uuid.uuid4().hex}
    return make


def _summary(values):
    return bench_intake._summary(values)


def _background_chat(url, pool, seconds):
    import threading
    holder = {}
    thread = threading.Thread(target=lambda: holder.update(clients.closed_loop(url, _chat_request(pool), 4, seconds)))
    thread.start()
    return thread, holder


def run(database_url: str | None = None, *, rounds: int = 3, seconds: float = 10, quick: bool = False,
        logdir: Path | None = None) -> dict:
    database_url = database_url or bench_intake.default_database_url()
    bench_intake.ensure_database(database_url)
    logdir = logdir or servers.ROOT / "var" / "bench-logs"
    logdir.mkdir(parents=True, exist_ok=True)
    out = {"rounds": rounds, "seconds_per_run": seconds, "message": MESSAGE, "connections": 4,
           "nice": {"bot": os.environ.get("BOT_NICE", "0"), "rq worker": os.environ.get("WORKER_NICE", "0")}}
    with servers.redis_server() as redis_url:
        print("  preparing the database (migrations, demo, residents)", flush=True)
        intake_tokens = bench_intake.prepare(database_url, redis_url)
        # A fresh resident per message: more than the rounds can send at these rates.
        pool = _residents(database_url, redis_url, 600 if quick else 4000)
        half = len(pool) // 2
        app_pool, rasa_pool = pool[:half], pool[half:]
        stub_port, rasa_port, actions_port = servers.free_port(), servers.free_port(), servers.free_port()
        env = {**bench_intake.server_env(database_url, redis_url), "BOT_SERVICE_TOKEN": BOT_TOKEN,
               "RASA_AUTH_TOKEN": RASA_TOKEN,
               "RASA_URL": f"http://127.0.0.1:{rasa_port}", "BOT_TIMEOUT_SECONDS": "30", "WECHAT_TOKEN": WECHAT_TOKEN,
               "WECHAT_API_BASE": f"http://127.0.0.1:{stub_port}/",
               "WECHAT_OAUTH_BASE": f"http://127.0.0.1:{stub_port}/connect/"}
        app_port, app_server = servers.gunicorn("backend.wsgi:app", env, log=logdir / "bot-app.log",
                                                extra=("--timeout", "120"))
        ceiling_port, ceiling_server = servers.gunicorn("bench.ceiling_app:create_app()", env,
                                                        log=logdir / "bot-ceiling.log")
        app_url, ceiling_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{ceiling_port}"
        bot_env = {**env, "REDIS_BOT_DB": "3", "RASA_PORT": str(rasa_port), "ACTIONS_PORT": str(actions_port),
                   "ACTIONS_URL": f"http://127.0.0.1:{actions_port}", "BACKEND_URL": app_url}
        # As the Procfile's worker line (WORKER_NICE, 0 by default: below the web workers when set).
        worker_cmd = ["nice", "-n", os.environ.get("WORKER_NICE", "0"),
                      str(servers.VENV_BIN / "flask"), "--app", "backend:create_app", "run-worker"]
        stub_cmd = [str(servers.VENV_BIN / "python"), "-m", "stubs.wechat_api", "--port", str(stub_port)]
        with app_server as app_proc, ceiling_server, \
                servers.process(stub_cmd, env, port=stub_port, log=logdir / "bot-stub.log"), \
                servers.process(worker_cmd, env, log=logdir / "bot-worker.log") as worker_proc, \
                servers.process([str(servers.ROOT / "scripts/bot-actions.sh")], bot_env, port=actions_port,
                                log=logdir / "bot-actions.log") as actions_proc, \
                servers.process([str(servers.ROOT / "scripts/bot-serve.sh")], bot_env, port=rasa_port,
                                log=logdir / "bot-rasa.log", timeout=600) as rasa_proc:
            rasa_url = f"http://127.0.0.1:{rasa_port}"
            servers.wait_for_http(f"{rasa_url}/status?token={RASA_TOKEN}", 600)

            def pids():
                return {"rasa": [rasa_proc.pid, *servers.descendants(rasa_proc.pid)],
                        "actions": [actions_proc.pid, *servers.descendants(actions_proc.pid)],
                        "web worker": servers.children(app_proc.pid), "rq worker": [worker_proc.pid]}
            memory = {"after start": {k: max((servers.rss_mb(p) for p in v), default=0) for k, v in pids().items()}}
            print("  warm-up: both paths 3 s", flush=True)
            clients.closed_loop(rasa_url, _rasa_request(rasa_pool[-50:]), 4, 3)
            clients.closed_loop(app_url, _chat_request(app_pool[-50:]), 4, 3)
            app_pool, rasa_pool = app_pool[:-50], rasa_pool[:-50]
            with servers.RssSampler(pids) as sampler:
                out["chat"] = _chat_rounds(app_url, rasa_url, app_pool, rasa_pool, rounds, seconds)
                out["long"] = _long_conversation(app_url, rasa_url, pool[:2], 5 if quick else seconds)
                out["wechat"] = _wechat_rounds(app_url, ceiling_url, intake_tokens, app_pool, rounds,
                                               3 if quick else seconds)
            memory["peak under load"] = sampler.peak
            out["memory_mb"] = memory
    return out


def _chat_rounds(app_url, rasa_url, app_pool, rasa_pool, rounds, seconds) -> dict:
    runs = {"app": [], "rasa": []}
    used = {"app": 0, "rasa": 0}
    pools = {"app": app_pool, "rasa": rasa_pool}
    urls = {"app": app_url, "rasa": rasa_url}
    makers = {"app": _chat_request, "rasa": _rasa_request}
    for r in range(rounds):
        for name in (("rasa", "app") if r % 2 == 0 else ("app", "rasa")):
            fresh = pools[name][used[name]:]
            result = clients.closed_loop(urls[name], makers[name](fresh), 4, seconds)
            used[name] += result["requests"]
            if used[name] > len(pools[name]):
                result["residents_reused"] = True  # the pool ran out: later messages were second turns
            runs[name].append(result)
            print(f"  chat round {r + 1} {name:<5} {result['rps']:6.1f} req/s p99 {result['p99_ms']:7.1f} ms "
                  f"errors {result['errors']}", flush=True)
    ratios = [a["rps"] / b["rps"] if b["rps"] else float("nan") for a, b in zip(runs["app"], runs["rasa"])]
    p99s = [a["p99_ms"] / b["p99_ms"] if b["p99_ms"] else float("nan") for a, b in zip(runs["app"], runs["rasa"])]
    return {"ratio": _summary(ratios), "p99_ratio": _summary(p99s),
            "app_rps": _summary([a["rps"] for a in runs["app"]]), "rasa_rps": _summary([b["rps"] for b in runs["rasa"]]),
            "app_p99_ms": _summary([a["p99_ms"] for a in runs["app"]]),
            "rasa_p99_ms": _summary([b["p99_ms"] for b in runs["rasa"]]), "runs": runs}


def _long_conversation(app_url, rasa_url, residents, seconds) -> dict:
    """One resident talking on and on (one connection: a person waits for each answer)."""
    out = {}
    for name, url, resident in (("rasa", rasa_url, residents[1]), ("app", app_url, residents[0])):
        first = clients.closed_loop(url, _long_request(name, resident), 1, seconds)
        later = clients.closed_loop(url, _long_request(name, resident), 1, seconds)
        out[name] = {"first": first, "later": later}
        print(f"  long conversation {name:<5} {first['rps']:5.1f} → {later['rps']:5.1f} req/s, "
              f"p99 {first['p99_ms']:.0f} → {later['p99_ms']:.0f} ms after {first['requests']} turns", flush=True)
    out["ratio"] = out["app"]["later"]["rps"] / out["rasa"]["later"]["rps"] if out["rasa"]["later"]["rps"] else float("nan")
    return out


def _wechat_rounds(app_url, ceiling_url, tokens, chat_pool, rounds, seconds, rate: float = 200) -> dict:
    openids = [f"bench-push-{i}" for i in range(200)]
    runs = {"app": [], "ceiling": []}
    offset = len(chat_pool) // 2  # the chat rounds used the first part of the pool
    for r in range(rounds):
        for name in (("ceiling", "app") if r % 2 == 0 else ("app", "ceiling")):
            busy, chat = _background_chat(app_url, chat_pool[offset:], seconds + 1)
            if name == "app":
                result = clients.open_loop(app_url, _push_request(openids), rate, seconds)
            else:
                result = clients.open_loop(ceiling_url, _ceiling_request(tokens), rate, seconds)
            busy.join()
            offset += chat.get("requests", 0)
            result["chat_meanwhile_rps"] = chat.get("rps")
            runs[name].append(result)
            print(f"  wechat round {r + 1} {name:<8} {result['achieved_rps']:6.1f}/s answered, p99 "
                  f"{result['p99_ms']:7.1f} ms, errors {result['errors']} (chat meanwhile {chat.get('rps', 0):.0f}/s)",
                  flush=True)
    ratios = [a["p99_ms"] / b["p99_ms"] if b["p99_ms"] else float("nan") for a, b in zip(runs["app"], runs["ceiling"])]
    return {"rate": rate, "p99_ratio": _summary(ratios), "app_p99_ms": _summary([a["p99_ms"] for a in runs["app"]]),
            "ceiling_p99_ms": _summary([b["p99_ms"] for b in runs["ceiling"]]),
            "app_errors": sum(a["errors"] for a in runs["app"]), "runs": runs}


if __name__ == "__main__":
    print(json.dumps(run(rounds=1, seconds=5, quick=True), indent=1, default=str))
    os._exit(0)
