"""The read replica for real: a private PostgreSQL primary and its streaming hot standby
(tests/faults/conftest.py StreamingPair, the way bench/cluster.py starts them). The dashboard's
figures, 公示, 考核 and the exports read the standby; a standby whose replay is paused past
REPLICA_MAX_LAG_SECONDS, or killed, leaves every page answering from the primary (and /healthz
saying so with a 200), and a standby that comes back is read again by itself.

Where a read went is shown by what it read: with replay paused the standby lacks the order the
test just made, so the dashboard counts it only when the primary answered."""
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

from backend import replica
from backend.accounts.actors import Actor
from backend.extensions import db
from tests.console.test_console import _login
from tests.factories import Factory
from tests.faults.conftest import pg_available, wait_until

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not pg_available(), reason="PostgreSQL 15 binaries are not installed")]


@pytest.fixture(scope="module")
def pair_app(streaming_pair, redis_url):
    """The app on the private primary, its bind `replica` on the standby; nothing cached (every
    page is computed where the chooser sends it); the state measured on every read."""
    from backend import create_app
    from backend.config import TestConfig
    from tests.conftest import _fresh_schema

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = streaming_pair.url
        DATABASE_REPLICA_URL = streaming_pair.replica_url
        REDIS_URL = redis_url.rsplit("/", 1)[0] + "/8"
        REPLICA_CHECK_SECONDS = 0.0
        REPLICA_MAX_LAG_SECONDS = 3600.0  # each test sets its own bound
        PUBLIC_CACHE_SECONDS = 0
        ASSESSMENT_CACHE_SECONDS = 0

    from backend.extensions import redis as app_redis
    # One Redis client per process (FlaskRedis): a second app takes it over; the suite's app gets
    # it back after this module, or its queue listings would read db 8 while RQ writes db 0.
    suites_client = app_redis.client
    app = create_app(Config)
    with app.app_context():
        _fresh_schema(app)
        make = Factory(db)
        world = make.world()
        for n in range(3):
            make.order(world["resident"], text=f"楼道灯坏了第{n}次", contact="13912345678")
        people = SimpleNamespace(admin=SimpleNamespace(username=world["community_admin"].username),
                                 worker=SimpleNamespace(username=world["workers"][0].username),
                                 admin_id=world["community_admin"].id, resident_id=world["resident"].id)
        db.session.remove()
    yield app, people
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    if suites_client is not None:
        app_redis.client = suites_client


def _on_standby(pair, sql: str):
    engine = create_engine(pair.replica_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


@pytest.fixture
def pair(pair_app, streaming_pair):
    app, people = pair_app
    chooser = app.extensions["replica"]
    chooser.served.clear()
    chooser.max_lag = 3600.0
    with app.app_context():
        yield app, people, chooser, streaming_pair
        db.session.remove()


def _received(app, people) -> int:
    """This month's 受理 on the community admin's dashboard, as figures.dashboard computes it."""
    from backend.accounts.models import Staff
    from backend.orders import figures
    staff = db.session.get(Staff, people.admin_id)
    found = figures.dashboard(Actor.for_staff(staff))["month"]["received"]
    db.session.remove()
    return found


def _new_order(people, text_):
    from backend.accounts.models import Resident
    make = Factory(db)
    make.order(db.session.get(Resident, people.resident_id), text=text_)
    db.session.remove()


def test_the_heavy_reads_go_to_the_standby(pair):
    app, people, chooser, standby = pair
    wait_until(lambda: replica.state().state == "ok", 30, lambda: f"the standby: {replica.state().shown()}")

    @replica.reads("dashboard")
    def in_recovery():
        return db.session.scalar(text("SELECT pg_is_in_recovery()"))
    assert in_recovery() is True  # the chosen session is the standby's
    assert db.session.scalar(text("SELECT pg_is_in_recovery()")) is False  # the request's own: the primary
    chooser.served.clear()

    client = app.test_client()
    _login(client, people.admin)
    for path in ("/console/", "/console/assessment", "/console/export/assessment.xlsx", "/public/",
                 "/public/assessment", "/console/export/orders.csv", "/console/export/orders.xlsx"):
        page = client.get(path)
        assert page.status_code == 200 and page.data, path  # .data: a streamed export runs to its end
    assert dict(chooser.served) == {("dashboard", "replica"): 1, ("assessment", "replica"): 2,
                                    ("public", "replica"): 2, ("export", "replica"): 2}
    health = client.get("/healthz").json
    assert health["replica"]["state"] == "ok" and health["replica"]["reads"]["dashboard:replica"] == 1


def test_a_standby_whose_replay_is_paused_is_left_once_it_lags_past_the_bound(pair):
    app, people, chooser, standby = pair
    wait_until(lambda: replica.state().state == "ok", 30, "the standby to catch up")
    before = _received(app, people)
    _on_standby(standby, "SELECT pg_wal_replay_pause()")
    try:
        wait_until(lambda: _on_standby(standby, "SELECT pg_get_wal_replay_pause_state()") == "paused", 30, "replay paused")
        _new_order(people, "小区门口路灯不亮了")  # on the primary only
        # Within a loose bound the standby is read, stale: proof that the figures came from it.
        assert _received(app, people) == before
        assert chooser.served[("dashboard", "replica")] == 2  # the two readings so far
        # Within a bound of 1 s, once the last replayed transaction is older than that, the
        # primary answers: the new order is counted, and no page fails.
        chooser.max_lag = 1.0
        wait_until(lambda: replica.state().state == "lagging", 30, lambda: f"lagging: {replica.state().shown()}")
        assert "replay paused" in replica.state().detail
        assert _received(app, people) == before + 1
        assert chooser.served[("dashboard", "primary")] == 1
        client = app.test_client()
        _login(client, people.admin)
        assert client.get("/console/").status_code == 200 and client.get("/public/").status_code == 200
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json["replica"]["state"] == "lagging"
        assert health.json["status"] != "down"
    finally:
        _on_standby(standby, "SELECT pg_wal_replay_resume()")
    # Replay resumed: caught up, the standby is read again, and it has the order now.
    wait_until(lambda: replica.state().state == "ok" and replica.state().lag_seconds == 0.0, 30,
               lambda: f"caught up: {replica.state().shown()}")
    assert _received(app, people) == before + 1
    assert chooser.served[("dashboard", "replica")] == 3


def test_a_killed_standby_leaves_every_page_on_the_primary_and_is_read_again_when_back(pair):
    app, people, chooser, standby = pair
    wait_until(lambda: replica.state().state == "ok", 30, "the standby")
    client = app.test_client()
    _login(client, people.admin)
    assert client.get("/console/").status_code == 200  # a pooled connection to the standby now exists
    assert chooser.served[("dashboard", "replica")] == 1
    standby.kill_replica()
    try:
        worker = app.test_client()
        _login(worker, people.worker)
        for who, path in ((client, "/console/"), (client, "/console/assessment"), (client, "/public/"),
                          (client, "/public/assessment"), (worker, "/console/export/orders.csv")):
            page = who.get(path)
            assert page.status_code == 200 and page.data, path
        assert "楼道灯坏了第0次".encode() in worker.get("/console/export/orders.csv").data
        assert dict(chooser.served) == {("dashboard", "replica"): 1, ("dashboard", "primary"): 1,
                                        ("assessment", "primary"): 1, ("public", "primary"): 2,
                                        ("export", "primary"): 2}
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json["db"] == "ok"
        assert health.json["replica"]["state"] == "down"
    finally:
        standby.start_replica()
    wait_until(lambda: replica.state().state == "ok", 60, lambda: f"the standby back: {replica.state().shown()}")
    assert client.get("/console/").status_code == 200
    assert chooser.served[("dashboard", "replica")] == 2
