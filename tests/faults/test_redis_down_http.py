"""Redis killed during intake, at the HTTP level: residents post orders and chat messages at once to
the live server while a redis-server of this test is SIGKILLed and later started again, empty.
Every answer is a 200 or 201, every accepted request is a stored order, and once Redis is back
`rebuild-queues` puts each waiting order in exactly its one queue."""
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import redis as redis_lib
import requests
from sqlalchemy import func, select

from backend.extensions import redis as app_redis
from backend.orders.models import Order
from bench.reconcile import misqueued
from tests.conftest import _free_port
from tests.faults.conftest import wait_until

pytestmark = pytest.mark.slow


class OwnRedis:
    def __init__(self):
        self.port, self.dir = _free_port(), tempfile.mkdtemp(prefix="rm-test-redis-kill-")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self._pings(), 20, "redis-server to start")

    def _pings(self):
        try:
            return redis_lib.Redis(port=self.port).ping()
        except redis_lib.ConnectionError:
            return False

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)

    def destroy(self):
        if self.proc.poll() is None:
            self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def own_redis(app, redis):
    """The app's Redis clients (cache, queues, RQ) on a redis-server this test may kill."""
    server = OwnRedis()
    saved_client, saved_rq = app_redis.client, app.extensions.get("rq_redis")
    app_redis.client = redis_lib.Redis(port=server.port, socket_connect_timeout=0.5, socket_timeout=0.5,
                                       decode_responses=True)
    app.extensions["rq_redis"] = redis_lib.Redis(port=server.port, socket_connect_timeout=0.5, socket_timeout=0.5)
    yield server
    app_redis.client = saved_client
    if saved_rq is None:
        app.extensions.pop("rq_redis", None)
    else:
        app.extensions["rq_redis"] = saved_rq
    server.destroy()


def test_redis_killed_during_concurrent_intake_loses_nothing(app, live_server, own_redis, make, auth, db):
    make.world()
    residents = [make.resident() for _ in range(6)]
    db.session.commit()
    headers = [auth.headers_for(r) for r in residents]
    db.session.rollback()
    answers, errors = [], []
    phase = {"now": "up"}

    def resident(i):
        for n in range(9):
            if n == 3:
                wait_until(lambda: phase["now"] != "up", 60, "redis to be killed")
            if n == 6:
                wait_until(lambda: phase["now"] == "back", 60, "redis to be back")
            key, text = f"rk-{i}-{n}-{uuid.uuid4().hex[:8]}", f"{3 + i % 2 * 5}号楼门口路灯坏了{n}"
            try:
                if n % 2:
                    r = requests.post(f"{live_server}/api/v1/chat", headers=headers[i], timeout=60,
                                      json={"text": f"水晶城小区{text}", "client_id": key})
                else:
                    r = requests.post(f"{live_server}/api/v1/orders", headers={**headers[i], "Idempotency-Key": key},
                                      json={"text": text, "location_text": "水晶城小区3号楼"}, timeout=60)
                answers.append((phase["now"], key, r.status_code, r.json()))
            except (requests.RequestException, ValueError) as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=resident, args=(i,)) for i in range(len(residents))]
    for t in threads:
        t.start()
    wait_until(lambda: len(answers) >= 2 * len(residents), 120, "intake with redis up")
    own_redis.kill()
    phase["now"] = "down"
    wait_until(lambda: sum(p == "down" for p, *_ in list(answers)) >= 2 * len(residents), 120, "intake while down")
    own_redis.start()  # empty, as after a crash without persistence
    phase["now"] = "back"
    for t in threads:
        t.join(300)

    assert not errors and len(answers) == 9 * len(residents)
    assert {status for _, _, status, _ in answers} <= {200, 201}, [a for a in answers if a[2] >= 300][:3]
    assert {p for p, *_ in answers} == {"up", "down", "back"}
    numbers = [body.get("number") or body.get("order_number") for *_, body in answers]
    assert all(numbers) and len(set(numbers)) == len(numbers)
    db.session.rollback()
    stored = set(db.session.scalars(select(Order.number)))
    assert set(numbers) == stored
    for _, key, _, body in answers:
        assert db.session.scalar(select(func.count()).select_from(Order)
                                 .where(Order.idempotency_key.like(f"%:%{key}"))) == 1
    db.session.rollback()
    assert app.test_cli_runner().invoke(args=["rebuild-queues"]).exit_code == 0
    assert misqueued(app_redis.client) == []
