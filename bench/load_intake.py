"""Load with zero loss (issue 12 part 7): N orders through the API (Idempotency-Key), N signed WeChat
pushes of which 10 % are duplicates, and N chat messages with the bot down (fallback orders), at
concurrency C, against the app under gunicorn (2 workers × 4 threads) with an RQ worker and the
WeChat stub — all private processes on loopback, on a fresh database and redis-server. Then it
reconciles: orders stored == accepted answers, zero 5xx, zero duplicates, one reply per distinct
push, every waiting order in exactly its one Redis queue.

    .venv/bin/python -m bench.load_intake --n 300 --c 8 [--database-url postgresql://…] [--benchmarks]

Results: JSON under bench/results/ (or --out); --benchmarks also rewrites the load section of
BENCHMARKS.md. Exit status 1 when the reconciliation finds a loss. Rate limits are off for the
run: a handful of load residents sending hundreds of orders would be throttled by design."""
import argparse
import datetime
import hashlib
import json
import os
import platform
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
WECHAT_TOKEN = "load-wechat-token"
SECTION = "<!-- Section kept by hand (not written by make bench): bench/load_intake.py --benchmarks -->"


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(url)


class Stack:
    """redis-server, WeChat stub, gunicorn and the RQ worker on loopback, in a temp dir."""

    def __init__(self, database_url: str | None):
        self.dir = Path(tempfile.mkdtemp(prefix="rm-load-"))
        self.procs = []
        redis_port, self.stub_port, self.web_port = _free_port(), _free_port(), _free_port()
        self.env = {**os.environ, "DATABASE_URL": database_url or f"sqlite:///{self.dir}/load.sqlite3",
                    "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "SECRET_KEY": secrets.token_hex(16),
                    "BOT_SERVICE_TOKEN": secrets.token_hex(16), "WECHAT_TOKEN": WECHAT_TOKEN,
                    "WECHAT_API_BASE": f"http://127.0.0.1:{self.stub_port}/",
                    "WECHAT_OAUTH_BASE": f"http://127.0.0.1:{self.stub_port}/connect/",
                    "RASA_URL": "http://127.0.0.1:1", "BOT_TIMEOUT_SECONDS": "1", "RATE_LIMITS_ENABLED": "0",
                    "UPLOAD_DIR": str(self.dir / "uploads"), "RED_MAILBOX_ENV": "development"}
        self.env.pop("FLASK_APP", None)
        os.environ.update({k: self.env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BOT_SERVICE_TOKEN",
                                                    "WECHAT_TOKEN", "WECHAT_API_BASE", "RASA_URL")})
        self._start("redis", [shutil.which("redis-server"), "--port", str(redis_port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", str(self.dir)])
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.stub = f"http://127.0.0.1:{self.stub_port}"

    def _start(self, name, argv):
        proc = subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=open(self.dir / f"{name}.log", "w"),
                                stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def serve(self):
        stub = self._start("stub", [str(VENV / "python"), "-m", "stubs.wechat_api", "--port", str(self.stub_port)])
        web = self._start("web", [str(VENV / "gunicorn"), "--workers", "2", "--threads", "4", "--bind",
                                  f"127.0.0.1:{self.web_port}", "--timeout", "120", "backend:create_app()"])
        self._start("worker", [str(VENV / "flask"), "--app", "backend:create_app", "run-worker"])
        _wait(self.stub + "/_stub/calls", stub)
        _wait(self.url + "/healthz", web)

    def close(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _signed_query(openid: str) -> dict:
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    signature = hashlib.sha1("".join(sorted([WECHAT_TOKEN, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce, "openid": openid}


def _push_xml(openid: str, msg_id: int, text: str) -> bytes:
    return (f"<xml><ToUserName><![CDATA[gh_redmailbox]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
            f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>").encode()


TEXTS = ["楼道灯坏了好几天了", "小区门口窨井盖松动了", "楼下垃圾没人清运", "电梯经常停在半层", "路灯不亮晚上不安全"]


class Phase:
    """Requests of one kind at concurrency C: status counts, wall time, progress lines."""

    def __init__(self, name: str, total: int):
        self.name, self.total, self.done = name, total, 0
        self.statuses: dict[int, int] = {}
        self.accepted: set[str] = set()
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def record(self, status: int, accepted_key: str | None = None):
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if accepted_key:
                self.accepted.add(accepted_key)
            self.done += 1
            if self.done % max(1, self.total // 10) == 0 or self.done == self.total:
                print(f"    {self.name}: {self.done}/{self.total}", flush=True)

    def run(self, jobs, concurrency: int):
        started = time.monotonic()
        with ThreadPoolExecutor(concurrency) as pool:
            for future in [pool.submit(job) for job in jobs]:
                try:
                    future.result()
                except requests.RequestException as exc:
                    self.errors.append(repr(exc))
        self.seconds = time.monotonic() - started

    def figures(self) -> dict:
        return {"requests": self.total, "accepted": len(self.accepted), "statuses": self.statuses,
                "5xx": sum(n for s, n in self.statuses.items() if s >= 500), "transport_errors": len(self.errors),
                "seconds": round(self.seconds, 2), "requests_per_second": round(self.total / self.seconds, 1)}


def run(n: int, concurrency: int, database_url: str | None = None) -> dict:
    stack = Stack(database_url)
    try:
        from backend import create_app
        from bench.load_world import prepare
        app = create_app()
        world = prepare(max(concurrency, 8), app=app)
        before = _order_count(app)  # the demo seed's own orders
        tokens, openids = world["tokens"], world["openids"]
        stack.serve()
        session = requests.Session()
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=concurrency * 2))
        print(f"==> load: N={n} per stream, C={concurrency}, {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}")

        api = Phase("API orders", n)

        def order(i):
            key = f"load-api-{uuid.uuid4()}"
            r = session.post(f"{stack.url}/api/v1/orders", timeout=120, json={
                "text": f"{TEXTS[i % 5]}（{i}）", "location_text": f"水晶城小区{i % 18 + 1}号楼"},
                headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}", "Idempotency-Key": key})
            api.record(r.status_code, key if r.status_code in (200, 201) else None)
        api.run([lambda i=i: order(i) for i in range(n)], concurrency)

        distinct = n - n // 10
        msg_ids = [9_000_000_000 + i for i in range(distinct)]
        pushes = msg_ids + random.Random(12).sample(msg_ids, n - distinct)  # 10 % sent twice
        random.Random(13).shuffle(pushes)
        wechat = Phase("WeChat pushes", len(pushes))

        def push(msg_id):
            openid = openids[msg_id % len(openids)]
            r = session.post(f"{stack.url}/wechat/callback", params=_signed_query(openid), timeout=120,
                             data=_push_xml(openid, msg_id, f"{TEXTS[msg_id % 5]}，在水晶城小区{msg_id % 18 + 1}号楼"),
                             headers={"Content-Type": "text/xml"})
            wechat.record(r.status_code, str(msg_id) if r.status_code == 200 and r.text == "success" else None)
        wechat.run([lambda m=m: push(m) for m in pushes], concurrency)

        chat = Phase("chat (bot down)", n)

        def message(i):
            client_id = f"load-chat-{uuid.uuid4()}"
            r = session.post(f"{stack.url}/api/v1/chat", timeout=120, json={
                "text": f"水晶城小区{i % 18 + 1}号楼{TEXTS[i % 5]}", "client_id": client_id},
                headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"})
            chat.record(r.status_code, client_id if r.status_code == 200 and r.json().get("order_number") else None)
        chat.run([lambda i=i: message(i) for i in range(n)], concurrency)

        with app.app_context():
            drained = _drain(app, distinct, stack.stub, timeout=max(120, n))
            result = _reconcile(app, api, wechat, chat, drained, stack.stub, before)
        result.update({"n": n, "c": concurrency, "database": app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0],
                       "distinct_pushes": distinct, "duplicate_pushes": n - distinct,
                       "phases": {p.name: p.figures() for p in (api, wechat, chat)},
                       "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
                       "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"})
        return result
    finally:
        stack.close()


def _order_count(app) -> int:
    from backend.demo import order_count
    from backend.extensions import db
    with app.app_context():
        count = order_count()
        db.session.rollback()
        return count


def _drain(app, distinct: int, stub: str, timeout: float) -> float:
    """Wait for the worker to turn every distinct push into an order and send its reply; seconds taken."""
    from sqlalchemy import func, select
    from backend.extensions import db
    from backend.notifications.models import Notification
    from backend.wechat.models import WechatInbound
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        done = db.session.scalar(select(func.count()).select_from(WechatInbound).where(WechatInbound.status == "done"))
        pending = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.kind == "reply", Notification.status == "pending"))
        db.session.rollback()
        if done >= distinct and pending == 0:
            break
        time.sleep(0.5)
    return time.monotonic() - started


def _reconcile(app, api: Phase, wechat: Phase, chat: Phase, drained: float, stub: str, before: int) -> dict:
    from sqlalchemy import func, select
    from backend.extensions import db, redis
    from backend.orders.models import Order
    from bench.reconcile import misqueued

    def stored(pattern):
        return set(db.session.scalars(select(Order.idempotency_key).where(Order.idempotency_key.like(pattern))))
    api_keys = {k.split(":", 1)[1] for k in stored("%:load-api-%")}
    wechat_keys = {k.rsplit(":", 1)[1] for k in stored("%:wechat:msg:%")}
    chat_keys = {k.split(":chat:", 1)[1] for k in stored("%:chat:load-chat-%")}
    twice = db.session.scalar(select(func.count()).select_from(
        select(Order.idempotency_key).where(Order.idempotency_key.is_not(None))
        .group_by(Order.idempotency_key).having(func.count() > 1).subquery()))
    total = db.session.scalar(select(func.count()).select_from(Order))
    db.session.rollback()
    wrong = misqueued(redis.client)
    replies = [c for c in requests.get(stub + "/_stub/calls", timeout=30).json()
               if c["path"] == "cgi-bin/message/custom/send"]
    requests_total = api.total + wechat.total + chat.total
    seconds = api.seconds + wechat.seconds + chat.seconds
    accepted = len(api.accepted) + len(wechat.accepted) + len(chat.accepted)
    stored_total = len(api_keys) + len(wechat_keys) + len(chat_keys)
    result = {
        "accepted": accepted, "stored": stored_total, "orders_made_by_the_load": total - before,
        "5xx": sum(p.figures()["5xx"] for p in (api, wechat, chat)),
        "transport_errors": sum(len(p.errors) for p in (api, wechat, chat)),
        "duplicates": twice + (len(wechat.accepted) - len(wechat_keys) if len(wechat_keys) > len(wechat.accepted) else 0),
        "lost": {"api": len(api.accepted - api_keys), "wechat": len(wechat.accepted - wechat_keys),
                 "chat": len(chat.accepted - chat_keys)},
        "unasked": {"api": len(api_keys - api.accepted), "wechat": len(wechat_keys - wechat.accepted),
                    "chat": len(chat_keys - chat.accepted)},
        "wechat_replies": len(replies), "misqueued": len(wrong), "misqueued_sample": wrong[:5],
        "requests": requests_total, "seconds": round(seconds, 2),
        "throughput_rps": round(requests_total / seconds, 1), "worker_drain_seconds": round(drained, 2),
    }
    result["zero_loss"] = (result["accepted"] == result["stored"] == total - before and result["5xx"] == 0
                           and result["duplicates"] == 0 and not any(result["lost"].values())
                           and not any(result["unasked"].values()) and result["misqueued"] == 0
                           and result["transport_errors"] == 0 and len(replies) == len(wechat.accepted))
    return result


def write_benchmarks(results_dir: Path) -> None:
    """Replace (or append) the load section of BENCHMARKS.md from the raw results in results_dir
    (the newest run per database and size); make bench keeps the section."""
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8")
    before = text.split(SECTION)[0].rstrip() + "\n\n"
    rest = text.split(SECTION, 1)[1] if SECTION in text else ""
    after = rest.split("\n<!-- ", 1)[1] if "\n<!-- " in rest else ""
    runs = [json.loads(f.read_text(encoding="utf-8")) for f in sorted(results_dir.glob("load_intake-*.json"))]
    runs = [r for r in runs if r["n"] >= 100]  # the test's tiny runs are not figures
    table, streams = [], []
    for r in runs:
        table.append(f"| {r['n']} | {r['c']} | {r['database']} | {r['accepted']} | {r['stored']} | {r['5xx']} | "
                     f"{r['duplicates']} | {sum(r['lost'].values())} | {r['wechat_replies']} of {r['distinct_pushes']} | "
                     f"{'yes' if r['misqueued'] == 0 else 'NO: ' + str(r['misqueued'])} | {r['throughput_rps']} | "
                     f"{r['worker_drain_seconds']} s | {r['when']} |")
        streams += [f"| {r['database']} | {name} | {p['requests']} | {p['accepted']} | {p['5xx']} | "
                    f"{p['requests_per_second']} |" for name, p in r["phases"].items()]
    machine = runs[-1]["machine"] if runs else platform.machine()
    section = f"""{SECTION}

## Load with zero loss (bench/load_intake.py)

N orders through `POST /api/v1/orders` (Idempotency-Key), N signed WeChat pushes of which 10 % are
duplicates, N chat messages with the bot down (fallback orders), at concurrency C, against gunicorn
(2 workers × 4 threads) with the RQ worker and the WeChat stub, loopback only; then reconciled against
the database and Redis. accepted = distinct requests answered 2xx (a duplicate push is acknowledged
but is the same message); stored = orders found under those keys. Throughput (requests/s over the
three streams) is a figure of this {machine} machine shared with other jobs, not a target; "drain" is
how long after the last chat answer the worker had turned every push into an order and sent its reply.

| N | C | database | accepted | stored | 5xx | duplicates | lost | one reply per push | every waiting order in its one queue | requests/s | drain | measured |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(table)}

| database | stream | requests | accepted | 5xx | requests/s |
|---|---|---|---|---|---|
{chr(10).join(streams)}

Raw JSON: `bench/results/`. Run: `.venv/bin/python -m bench.load_intake --n 500 --c 8 --benchmarks`
(add `--database-url postgresql://…` for PostgreSQL: its schema is dropped).
"""
    path.write_text(before + section + ("\n<!-- " + after if after else ""), encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Load with zero loss against a private stack")
    parser.add_argument("--n", type=int, default=300, help="requests per stream (API, WeChat, chat)")
    parser.add_argument("--c", type=int, default=8, help="concurrent clients")
    parser.add_argument("--database-url", default=None, help="PostgreSQL to use (its schema is dropped!)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    parser.add_argument("--benchmarks", action="store_true", help="write the figures into BENCHMARKS.md")
    args = parser.parse_args(argv)
    if not 1 <= args.n <= 100_000 or not 1 <= args.c <= 64:
        parser.error("N must be 1–100000 and C 1–64")
    result = run(args.n, args.c, args.database_url)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    raw = out / f"load_intake-{result['database']}-n{result['n']}-c{result['c']}.json"
    raw.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("n", "c", "accepted", "stored", "5xx", "duplicates", "lost",
                                             "misqueued", "wechat_replies", "throughput_rps", "zero_loss")},
                     ensure_ascii=False))
    if args.benchmarks:
        write_benchmarks(out)
    return 0 if result["zero_loss"] else 1


if __name__ == "__main__":
    sys.exit(main())
