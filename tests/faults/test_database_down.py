"""PostgreSQL dies under load and comes back: the app under gunicorn answers 503 in the error
contract while it is down (never a 500 or a traceback), no order is half written, and service resumes
by itself — the same gunicorn, no restart. A WeChat push meeting the outage is not acknowledged (so
WeChat retries it) and its retry is stored once. The server is a private PostgreSQL of this test
(initdb in a temp dir, reached by its own Unix socket): the machine's shared server is never touched."""
import json
import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, _free_port, wait_for_http
from tests.faults.conftest import PrivatePostgres, pg_available, wait_until
from tests.wechat.conftest import sha1_signature, text_xml

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not pg_available(), reason="PostgreSQL 15 binaries are not installed")]

THREADS = 4
WECHAT_TOKEN = "pg-down-wechat-token"


@pytest.fixture(scope="module")
def private_pg():
    pg = PrivatePostgres()
    # A connection attempt never hangs (e.g. on a half-started server): it fails, and that is a 503.
    pg.url += "&connect_timeout=5"
    yield pg
    pg.destroy()


@pytest.fixture(scope="module")
def served(private_pg, redis_url, tmp_path_factory):
    """gunicorn (2 workers) on the private PostgreSQL, and resident tokens for it."""
    import os
    logs = tmp_path_factory.mktemp("pg-down")
    env = {**os.environ, "DATABASE_URL": private_pg.url, "REDIS_URL": redis_url.rsplit("/", 1)[0] + "/9",
           "SECRET_KEY": "pg-down-secret", "RATE_LIMITS_ENABLED": "0", "RASA_URL": "http://127.0.0.1:1",
           "BOT_TIMEOUT_SECONDS": "1", "RED_MAILBOX_ENV": "development", "WECHAT_TOKEN": WECHAT_TOKEN}
    world = json.loads(subprocess.run([sys.executable, "-m", "bench.load_world", "--residents", str(THREADS)],
                                      env=env, cwd=ROOT, check=True, capture_output=True, timeout=300).stdout)
    port = _free_port()
    proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "--workers", "2", "--threads", "4", "--bind",
                             f"127.0.0.1:{port}", "--timeout", "60", "backend:create_app()"],
                            env=env, cwd=ROOT, stdout=open(logs / "gunicorn.log", "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(url + "/healthz", 120, proc)
    yield url, world["tokens"], logs / "gunicorn.log"
    proc.terminate()
    proc.wait(30)


def _push(url, msg_id):
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    query = {"signature": sha1_signature(WECHAT_TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
             "openid": "o-pg-down"}
    return requests.post(f"{url}/wechat/callback", params=query, timeout=30,
                         data=text_xml("o-pg-down", "楼道灯坏了", msg_id=msg_id).encode(),
                         headers={"Content-Type": "text/xml"})


def test_postgres_down_under_load_answers_503_and_resumes_by_itself(private_pg, served):
    url, tokens, log = served
    answers, problems = [], []
    lock = threading.Lock()
    # Residents keep reporting until the outage is over and orders flow again: a fixed number of
    # orders could all be in before the database is stopped, and then nothing meets the outage.
    finished = threading.Event()

    def resident(token):
        headers = {"Authorization": f"Bearer {token}"}
        n = 0
        while not finished.is_set():
            n += 1
            key = f"pgdown-{uuid.uuid4()}"  # a client retries an unanswered order with the same key
            for _attempt in range(600):
                try:
                    r = requests.post(f"{url}/api/v1/orders", headers={**headers, "Idempotency-Key": key},
                                      json={"text": f"小区门口路灯不亮了{n}", "location_text": "水晶城小区3号楼"},
                                      timeout=60)
                except requests.ReadTimeout:
                    # A slow answer on a loaded machine: a client retries with the same key, which
                    # is what the key is for. Anything else on the wire is a fault of ours.
                    continue
                except requests.RequestException as exc:
                    with lock:
                        problems.append(repr(exc))
                    return
                with lock:
                    answers.append((key, r.status_code, r.headers.get("Content-Type"), r.text))
                if r.status_code in (200, 201):
                    break
                if r.status_code != 503:
                    with lock:
                        problems.append(r.text)
                    return
                time.sleep(0.1)

    threads = [threading.Thread(target=resident, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    accepted = lambda: {k for k, s, _, _ in list(answers) if s in (200, 201)}  # noqa: E731
    refused = lambda: [a for a in list(answers) if a[1] == 503]  # noqa: E731
    wait_until(lambda: len(accepted()) >= THREADS, 120, "the first orders")
    private_pg.stop("immediate")  # as a crash leaves it: no checkpoint, connections cut
    wait_until(lambda: len(refused()) >= 2 * THREADS, 120, "requests refused while the database is down")
    health = requests.get(url + "/healthz", timeout=10)
    push_down = _push(url, msg_id=424242)  # WeChat's push meets the outage …
    private_pg.start()
    before_restart = len(accepted())
    wait_until(lambda: problems or len(accepted()) >= before_restart + 2 * THREADS, 300,
               "orders accepted again once the database is back")
    finished.set()
    for t in threads:
        t.join(300)
    push_back = _push(url, msg_id=424242)  # … and its retry finds the database back

    assert not problems, (problems[:3], log.read_text(errors="replace")[-3000:])
    # Not acknowledged while nothing could be stored (so WeChat retries), stored once after.
    assert push_down.status_code == 503 and push_down.json()["error"]["code"] == "database_unavailable"
    assert push_back.status_code == 200 and push_back.text == "success"
    assert health.status_code == 503 and health.json()["db"].startswith("down")
    statuses = {s for _, s, _, _ in answers}
    assert statuses <= {200, 201, 503} and 503 in statuses
    for _, status, content_type, body in refused():
        assert content_type.startswith("application/json")
        assert json.loads(body)["error"]["code"] == "database_unavailable" and "Traceback" not in body
    keys = accepted()
    assert not any(t.is_alive() for t in threads)
    # Every order a resident sent got in: each thread's last order was retried until accepted.
    assert {k for k, _, _, _ in answers} == keys

    engine = create_engine(private_pg.url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT idempotency_key FROM orders WHERE idempotency_key LIKE :ours"),
                              {"ours": "%:pgdown-%"}).scalars().all()
        # No half-written order: each has its submit event and its deadline.
        broken = conn.execute(text(
            "SELECT count(*) FROM orders o WHERE o.idempotency_key LIKE :ours AND (o.due_at IS NULL OR "
            "(SELECT count(*) FROM order_events e WHERE e.order_id = o.id AND e.action = 'submit') != 1)"),
            {"ours": "%:pgdown-%"}).scalar()
        pushes = conn.execute(text("SELECT count(*) FROM wechat_inbound WHERE msg_key = 'msg:424242'")).scalar()
    engine.dispose()
    assert pushes == 1
    assert sorted(k.split(":", 1)[1] for k in stored) == sorted(keys)
    assert broken == 0
    assert "unhandled error" not in log.read_text(errors="replace")  # no request fell through to a 500
