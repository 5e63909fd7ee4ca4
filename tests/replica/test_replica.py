"""backend/replica.py with its bind pointed at the test database itself (a real streaming replica:
tests/faults/test_read_replica.py): which services read it, that nothing writes through it, and
that a replica that does not answer or fails mid-read leaves every page answering from the primary."""
import csv
import io
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import OperationalError

from backend import replica
from backend.extensions import db as _db
from tests.conftest import _free_port
from tests.console.test_console import _login


def _app_with(app, url, **settings):
    from backend import create_app
    from backend.config import TestConfig

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        REDIS_URL = app.config["REDIS_URL"]
        UPLOAD_DIR = app.config["UPLOAD_DIR"]
        DATABASE_REPLICA_URL = url
        REPLICA_CHECK_SECONDS = 0.0
    for name, value in settings.items():
        setattr(Config, name, value)
    return create_app(Config)


@pytest.fixture(scope="module")
def on_replica(app):
    """An app whose replica is the test database itself (a second engine, the bind `replica`)."""
    made = _app_with(app, app.config["SQLALCHEMY_DATABASE_URI"])
    yield made
    with made.app_context():
        for engine in _db.engines.values():
            engine.dispose()


@pytest.fixture(scope="module")
def replica_down(app):
    """An app whose replica nobody listens for."""
    made = _app_with(app, f"postgresql://postgres@127.0.0.1:{_free_port()}/nowhere")
    yield made
    with made.app_context():
        for engine in _db.engines.values():
            engine.dispose()


@pytest.fixture
def served(on_replica):
    found = on_replica.extensions["replica"].served
    found.clear()
    return found


def _who(staff):
    """What the login form needs of a staff member, kept past the test's session."""
    return SimpleNamespace(username=staff.username)


@replica.reads("dashboard")
def _where_am_i():
    return "replica" if _db.session.info.get("replica") else "primary"


def test_the_bind_is_configured_only_with_a_replica_url(app, on_replica):
    assert "replica" not in app.config.get("SQLALCHEMY_BINDS", {})
    assert on_replica.config["SQLALCHEMY_BINDS"]["replica"]["url"] == app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        assert _where_am_i() == "primary" and replica.state().state == "off"
    with on_replica.app_context():
        assert _where_am_i() == "replica" and replica.state().state == "ok"


def test_only_the_named_services_read_it(app, db):
    limited = _app_with(app, app.config["SQLALCHEMY_DATABASE_URI"], REPLICA_READS="public")
    with limited.app_context():
        assert _where_am_i() == "primary"
        assert replica.reads("public")(_where_am_i.__wrapped__)() == "replica"
        for engine in _db.engines.values():
            engine.dispose()
    with pytest.raises(ValueError):
        replica.reads("orders")


def test_nothing_writes_through_it(on_replica, db, make):
    from backend.grids.models import Street
    street_id = make.world()["street"].id
    db.session.close()  # SQLite: the test's own transaction holds the write lock

    @replica.reads("dashboard")
    def add_a_street():
        _db.session.add(Street(name="不该写入的街道"))
        _db.session.flush()

    @replica.reads("dashboard")
    def insert_a_street():
        _db.session.execute(insert(Street).values(name="也不该写入"))

    with on_replica.app_context():
        for attempt in (add_a_street, insert_a_street):
            with pytest.raises(RuntimeError, match="read-only"):
                attempt()
        # A request with changes of its own not yet committed reads them on the primary.
        _db.session.get(Street, street_id).name = "改了名的街道"
        assert _where_am_i() == "primary"
        _db.session.rollback()
        assert _where_am_i() == "replica"
        # The caller's session is its own again after the reads.
        assert not _db.session.info.get("replica")


def test_a_read_failing_on_the_replica_is_read_again_on_the_primary(on_replica, db, served):
    calls = []

    @replica.reads("public")
    def flaky():
        on = "replica" if _db.session.info.get("replica") else "primary"
        calls.append(on)
        if on == "replica":
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return _db.session.scalar(text("select 1"))

    with on_replica.app_context():
        assert flaky() == 1
        assert calls == ["replica", "primary"]
        assert served[("public", "replica")] == 1 and served[("public", "primary")] == 1
        # marked down until measured again (REPLICA_CHECK_SECONDS × 5: 0 here)
        on_replica.extensions["replica"].forget("test")
        assert on_replica.extensions["replica"]._state.state == "down"


def test_an_export_failing_midway_goes_on_from_the_primary(on_replica, db, served):
    @replica.reads("export")
    def rows():
        on_replica_now = _db.session.info.get("replica")
        for n in range(5):
            if on_replica_now and n == 3:
                raise OperationalError("FETCH", {}, Exception("terminating connection due to conflict with recovery"))
            yield n, "replica" if _db.session.info.get("replica") else "primary"

    with on_replica.app_context():
        given = list(rows())
    assert [n for n, _ in given] == [0, 1, 2, 3, 4]  # none twice, none lost
    assert [where for _, where in given] == ["replica"] * 3 + ["primary"] * 2
    assert served[("export", "replica")] == 1 and served[("export", "primary")] == 1


def test_the_heavy_pages_read_the_replica_and_the_export_is_audited_on_the_primary(on_replica, db, make, served):
    from backend.privacy.models import PrivacyEvent
    world = make.world()
    order = make.order(world["resident"], text="楼道灯坏了", contact="13912345678")
    order_id, number, community_id, worker_id = order.id, order.number, world["community"].id, world["workers"][0].id
    admin, worker_login = _who(world["community_admin"]), _who(world["workers"][0])
    db.session.close()  # SQLite: the test's own transaction holds the write lock
    client = on_replica.test_client()
    _login(client, admin)
    assert client.get("/console/").status_code == 200
    assert client.get("/console/assessment").status_code == 200
    assert client.get("/console/export/assessment.xlsx").status_code == 200
    assert client.get("/public/").status_code == 200
    assert client.get(f"/public/communities/{community_id}").status_code == 200
    assert client.get("/public/assessment").status_code == 200
    # A single order (its reader may have just changed it) is read on the primary.
    assert client.get(f"/console/orders/{number}").status_code == 200
    assert served[("dashboard", "replica")] == 1
    assert served[("assessment", "replica")] == 2
    assert served[("public", "replica")] == 3
    assert not any(where == "primary" for _, where in served)

    worker = on_replica.test_client()
    _login(worker, worker_login)  # the grid's own worker sees the number unmasked
    exported = worker.get("/console/export/orders.csv")
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [number] and "13912345678" in rows[1]
    assert served[("export", "replica")] == 1
    audited = db.session.scalars(select(PrivacyEvent).where(PrivacyEvent.action == "read_contact")).all()
    assert [(e.order_id, e.actor_id) for e in audited if e.data["surface"] == "export"] == \
        [(order_id, worker_id)]


def test_a_replica_nobody_answers_leaves_every_page_on_the_primary(replica_down, db, make):
    world = make.world()
    make.order(world["resident"], text="小区门口路灯不亮")
    admin = _who(world["community_admin"])
    db.session.close()  # SQLite: the test's own transaction holds the write lock
    served = replica_down.extensions["replica"].served
    served.clear()
    client = replica_down.test_client()
    _login(client, admin)
    for path in ("/console/", "/console/assessment", "/public/", "/public/assessment", "/console/export/orders.csv"):
        page = client.get(path)
        assert page.status_code == 200 and page.data, path  # .data: a streamed export runs to its end
    assert set(served) == {(p, "primary") for p in ("dashboard", "assessment", "public", "export")}
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json["replica"]["state"] == "down" and health.json["db"] == "ok"


def test_healthz_says_off_without_a_replica(client):
    body = client.get("/healthz").json
    assert body["replica"]["state"] == "off" and body["replica"]["shown"] == "off"


def test_lsn_positions_compare_as_numbers():
    assert replica.lsn("0/0") == 0
    assert replica.lsn("16/B374D848") == (0x16 << 32) + 0xB374D848
    assert replica.lsn("1/0") > replica.lsn("0/FFFFFFFF")
    assert replica.lsn(None) is None


def test_a_measurement_that_breaks_in_any_way_leaves_the_reads_on_the_primary(on_replica, monkeypatch):
    chooser = on_replica.extensions["replica"]

    def broken():
        raise TimeoutError("stuck")
    monkeypatch.setattr(chooser, "_measure", broken)
    monkeypatch.setattr(chooser, "_state", None)
    with on_replica.app_context():
        assert _where_am_i() == "primary"
        assert replica.state().state == "down" and replica.state().shown() == "down: TimeoutError"
