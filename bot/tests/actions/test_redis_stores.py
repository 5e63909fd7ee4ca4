"""bot/redis_stores.py: Rasa's Redis tracker and lock stores keep working across a Redis that is
away for a moment (a failover behind the TCP front), where Rasa's own fail at once. A real
redis-server on a free loopback port is killed and started again on the same port while the
stores are used."""
import asyncio
import shutil
import socket
import subprocess
import threading
import time

import pytest
import redis
from rasa.core.lock_store import RedisLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

import redis_stores

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="scripts/setup.sh installs redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp_path):
        self.port, self.dir, self.proc = _free_port(), tmp_path, None

    def start(self):
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)], stdout=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self):
        self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    s.start()
    yield s
    if s.proc.poll() is None:
        s.kill()


def _config(server, **extra):
    return EndpointConfig(url="127.0.0.1", port=str(server.port), db="3", password="", key_prefix="drill", **extra)


def _back_after(server, seconds):
    thread = threading.Thread(target=lambda: (time.sleep(seconds), server.start()))
    thread.start()
    return thread


def test_the_stores_are_built_from_endpoints_yml_and_keep_a_turn(server):
    config = _config(server, record_exp=60)
    store = redis_stores.FailoverRedisTrackerStore(Domain.empty(), host=config.url, **config.kwargs)
    locks = redis_stores.FailoverRedisLockStore(endpoint_config=_config(server))
    tracker = DialogueStateTracker("r1-abc", slots=[])
    tracker.update(UserUttered("你好", metadata={"idempotency_key": "chat:m1"}))
    asyncio.run(store.save(tracker))
    again = asyncio.run(store.retrieve("r1-abc"))
    assert [e.metadata.get("idempotency_key") for e in again.events if isinstance(e, UserUttered)] == ["chat:m1"]
    locks.save_lock(locks.create_lock("r1-abc"))
    assert locks.get_lock("r1-abc") is not None
    assert redis.Redis(port=server.port, db=3).exists("drill:lock:r1-abc")


def test_a_redis_away_for_a_moment_delays_the_stores_instead_of_failing_them(server):
    config = _config(server)
    store = redis_stores.FailoverRedisTrackerStore(Domain.empty(), host=config.url, **config.kwargs)
    locks = redis_stores.FailoverRedisLockStore(endpoint_config=_config(server))
    tracker = DialogueStateTracker("r2-abc", slots=[])
    tracker.update(UserUttered("楼道灯坏了", metadata={"idempotency_key": "chat:m2"}))
    asyncio.run(store.save(tracker))  # connected before the outage

    server.kill()
    back = _back_after(server, 1.5)
    asyncio.run(store.save(tracker))  # waits for the server instead of raising
    back.join()
    assert asyncio.run(store.retrieve("r2-abc")) is not None

    server.kill()
    back = _back_after(server, 1.5)
    locks.save_lock(locks.create_lock("r2-abc"))
    back.join()
    assert locks.get_lock("r2-abc") is not None


def test_rasas_own_lock_store_fails_at_once_in_the_same_outage(server):
    plain = RedisLockStore(host="127.0.0.1", port=server.port, db=3, key_prefix="drill")
    plain.save_lock(plain.create_lock("r3-abc"))
    server.kill()
    back = _back_after(server, 1.5)
    with pytest.raises(redis.ConnectionError):
        plain.get_lock("r3-abc")
    back.join()
