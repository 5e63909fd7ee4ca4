"""Fixtures: a real Redis (private redis-server unless TEST_REDIS_URL is set), the database
(TEST_DATABASE_URL → PostgreSQL in CI, else a SQLite file), the app built by the factory with the
schema created by the Alembic migrations, a client, and auth helpers."""
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from backend.accounts.actors import Actor
import redis as redis_lib
import requests

from backend import clock
from tests.factories import Factory

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.exit("redis-server is not installed (scripts/setup.sh installs it)", returncode=3)
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="rm-test-redis-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", workdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis_lib.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis_lib.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(5)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def app(redis_url, tmp_path_factory):
    os.environ["TEST_REDIS_URL"] = redis_url
    if not os.environ.get("TEST_DATABASE_URL"):
        db_file = tmp_path_factory.mktemp("db") / "test.sqlite3"
        os.environ["TEST_DATABASE_URL"] = f"sqlite:///{db_file}"
    from backend import create_app
    from backend.config import TestConfig

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = os.environ["TEST_DATABASE_URL"]
        REDIS_URL = redis_url
        UPLOAD_DIR = str(tmp_path_factory.mktemp("uploads"))  # photos the tests upload stay out of var/

    app = create_app(Config)
    with app.app_context():
        _fresh_schema(app)
    yield app


def _fresh_schema(app):
    """Drop everything, then build the schema with the real Alembic migrations."""
    from flask_migrate import upgrade
    from sqlalchemy import text
    from backend.extensions import db

    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    if db.engine.dialect.name == "sqlite":
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(directory=str(ROOT / "migrations"))


@pytest.fixture
def db(app):
    from backend.extensions import db as _db
    with app.app_context():
        yield _db
        _db.session.remove()
        # Children before parents; faster than recreating the schema per test.
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())
        from backend.grids import routing
        routing.registry_changed()  # rows went behind the ORM's back: routing's snapshot is stale
        from backend.accounts import versions
        versions.forget_all()  # and residents' session versions in Redis (SQLite reuses their ids)


@pytest.fixture
def redis(app, db):
    from backend.extensions import redis as _redis
    _redis.flushdb()
    yield _redis
    _redis.flushdb()


@pytest.fixture
def client(app, db, redis):
    return app.test_client()


@pytest.fixture(autouse=True)
def _reset_clock():
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def make(db):
    """Factories for models (tests/factories.py)."""
    return Factory(db)


@pytest.fixture
def world(make):
    """The standard small world of Factory.world(): a street, a community, two grids, their staff."""
    return make.world()


class Auth:
    def __init__(self, app):
        self.app = app

    def headers_for(self, who) -> dict:
        from backend.accounts import tokens
        from backend.accounts.models import Staff
        with self.app.test_request_context():
            kind = "staff" if isinstance(who, Staff) else "resident"
            token = tokens.issue(kind, who.id, getattr(who, "role", None), who.session_version or 0)["token"]
        return {"Authorization": f"Bearer {token}"}

    def bot(self) -> dict:
        return {"Authorization": f"Bearer {self.app.config['BOT_SERVICE_TOKEN']}"}

    def sender(self, resident) -> str:
        """The resident's conversation id with the bot, as the backend gives it to Rasa."""
        from backend.chat import gateway
        with self.app.app_context():
            return gateway.sender_id(getattr(resident, "id", resident))


@pytest.fixture
def auth(app):
    return Auth(app)


@pytest.fixture(scope="session")
def live_server(app):
    """The test app served over real HTTP (for the Rasa action server and the browser)."""
    import threading
    from werkzeug.serving import make_server

    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


def wait_for_http(url: str, timeout: float, proc=None, ok: int | None = None) -> None:
    """Until `url` answers (with status `ok` when given, else anything below 500)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            status = requests.get(url, timeout=2).status_code
            if status == ok if ok is not None else status < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not come up in {timeout:.0f}s")


# How a resident would answer each of the bot's questions (matched on words in the question).
# The read-back comes first: it repeats the resident's own words, which may contain "小区".
ANSWERS = [("核对", "对"), ("哪儿", "水晶城小区3号楼2单元"), ("小区", "水晶城小区3号楼2单元"), ("照片", "没有"),
           ("手机号", "不用"), ("电话", "不用"), ("登记", "好")]


def answer_to(question: str) -> str | None:
    return next((a for key, a in ANSWERS if key in question), None)


class RasaStack(dict):
    """The processes by name ("rasa", "actions"), and where each listens."""

    def __init__(self, rasa_url: str, actions_url: str):
        super().__init__()
        self.rasa_url, self.actions_url = rasa_url, actions_url

    def alive(self) -> bool:
        return all(proc.poll() is None for proc in self.values())


# What Rasa sends the action server in tests (bot/endpoints.yml): the action server wants it.
ACTIONS_SECRET = "test-actions-secret"
BOT_REDIS_DB = 3  # the bot's tracker and lock store (REDIS_BOT_DB)


@pytest.fixture(scope="session")
def shared_rasa(app, live_server, redis_url, tmp_path_factory):
    """The real Rasa server and action server, the actions calling the test backend over HTTP:
    started once, by the first test that asks for `rasa_stack`, and shared by every module that only
    talks to it (loading the model took 16-25 s per module here, on a loaded machine). Nobody may stop
    these processes: a test that kills or restarts one starts a stack of its own with `running_rasa`
    (tests/faults/test_bot_and_worker_killed.py does)."""
    with running_rasa(app, live_server, redis_url, tmp_path_factory) as stack:
        yield stack


@pytest.fixture
def rasa_stack(app, shared_rasa, redis_url, monkeypatch):
    """The shared stack for one test: the app points at it for this test only, and no conversation
    is left from an earlier test."""
    if not shared_rasa.alive():
        pytest.fail("the shared Rasa stack is down: a test before this one stopped it (use running_rasa)")
    use_rasa(monkeypatch, app, shared_rasa, redis_url)
    yield shared_rasa
    if not shared_rasa.alive():
        pytest.fail("this test stopped the shared Rasa stack: a test that kills a process uses running_rasa")


def use_rasa(monkeypatch, app, stack: RasaStack, redis_url: str) -> None:
    """Point the app at `stack` until `monkeypatch` undoes it, and forget every conversation: the
    tracker store is the bot's Redis database, shared by the stacks of a run, and on SQLite resident
    ids (so conversation ids) restart with the emptied tables."""
    redis_lib.Redis.from_url(redis_url, db=BOT_REDIS_DB).flushdb()
    monkeypatch.setitem(app.config, "RASA_URL", stack.rasa_url)
    monkeypatch.setitem(app.config, "BOT_TIMEOUT_SECONDS", 30)


@contextmanager
def running_rasa(app, backend_url, redis_url, tmp_path_factory):
    """Start Rasa and its action server (the actions reaching the backend at `backend_url`) and
    give the stack when both answer; stop them afterwards. The app's configuration is left alone:
    `use_rasa` points it at a stack for one test."""
    if not (ROOT / "bot" / "models" / "current.tar.gz").exists():
        pytest.fail("no trained bot model: scripts/bot-train.sh (run by make test) trains it")
    # The category model is ready before the bot's first order, as `make run` warms it at start-up:
    # the bot's order create must not wait for it on a loaded machine.
    from backend.categories import classifier
    from backend.kinds import predict_kind
    with app.app_context():
        classifier.classify("楼道灯坏了")
    predict_kind("楼道灯坏了")  # and the kind model
    logs = tmp_path_factory.mktemp("rasa-logs")
    rasa_port, actions_port = _free_port(), _free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "REDIS_BOT_DB": str(BOT_REDIS_DB), "RASA_PORT": str(rasa_port),
           "ACTIONS_PORT": str(actions_port), "ACTIONS_URL": f"http://127.0.0.1:{actions_port}",
           "BACKEND_URL": backend_url, "BOT_SERVICE_TOKEN": app.config["BOT_SERVICE_TOKEN"],
           "RASA_AUTH_TOKEN": app.config["RASA_AUTH_TOKEN"], "ACTIONS_SECRET": ACTIONS_SECRET}
    stack = RasaStack(rasa_url=f"http://127.0.0.1:{rasa_port}", actions_url=env["ACTIONS_URL"])
    stack["actions"] = subprocess.Popen([str(ROOT / "scripts/bot-actions.sh")], env=env,
                                        stdout=open(logs / "actions.log", "w"), stderr=subprocess.STDOUT)
    stack["rasa"] = subprocess.Popen([str(ROOT / "scripts/bot-serve.sh")], env=env,
                                     stdout=open(logs / "rasa.log", "w"), stderr=subprocess.STDOUT)
    try:
        try:
            wait_for_http(f"{stack.actions_url}/health", 120, stack["actions"])
            # /status answers 200 only once the model is loaded, and only with the token.
            wait_for_http(f"{stack.rasa_url}/status?token={app.config['RASA_AUTH_TOKEN']}", 300,
                          stack["rasa"], ok=200)
        except Exception:
            for name in stack:
                print(f"--- {name} log ---\n" + Path(logs / f"{name}.log").read_text()[-4000:])
            raise
        yield stack
    finally:
        for proc in stack.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(30)


@pytest.fixture
def redis_stopped(app, redis, monkeypatch):
    """Every Redis client of the app pointed at a port nobody listens on (connection refused)."""
    from backend.extensions import redis as app_redis
    dead = redis_lib.Redis(port=_free_port(), socket_connect_timeout=0.5, socket_timeout=0.5,
                           decode_responses=True)
    monkeypatch.setattr(app_redis, "client", dead)
    monkeypatch.setitem(app.extensions, "rq_redis", redis_lib.Redis(
        port=dead.connection_pool.connection_kwargs["port"], socket_connect_timeout=0.5))


@pytest.fixture(scope="session")
def wechat_stub():
    """WeChat's API as the local stub (stubs/wechat_api.py), served over real HTTP."""
    import threading
    from werkzeug.serving import make_server
    from stubs import wechat_api
    server = make_server("127.0.0.1", 0, wechat_api.create_app(), threaded=True,
                         request_handler=wechat_api.QuietQueryHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Stub(f"http://127.0.0.1:{server.server_port}")
    server.shutdown()


@pytest.fixture(scope="session")
def s3_server():
    """An S3-compatible object storage server (moto's, from its own venv .venv-s3) on 127.0.0.1,
    as several web nodes would share one for photos."""
    binary = ROOT / ".venv-s3" / "bin" / "moto_server"
    assert binary.exists(), "the object storage server is installed by scripts/setup.sh (.venv-s3)"
    port = _free_port()
    proc = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url + "/", timeout=1)
            break
        except requests.RequestException:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the object storage server did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def s3_storage(app, s3_server, monkeypatch):
    """Photos on a fresh bucket of the object storage server: STORAGE_URL=s3://<bucket>/uploads."""
    import uuid
    import boto3
    bucket = f"red-mailbox-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    monkeypatch.setitem(app.config, "STORAGE_URL", f"s3://{bucket}/uploads")
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", s3_server)
    monkeypatch.setitem(app.config, "S3_REGION", "us-east-1")
    app.extensions.pop("file_store", None)
    yield client, bucket
    app.extensions.pop("file_store", None)


class Stub:
    def __init__(self, url):
        self.url = url

    def reset(self):
        requests.post(self.url + "/_stub/reset", timeout=5).raise_for_status()

    def config(self, **settings):
        requests.post(self.url + "/_stub/config", json=settings, timeout=5).raise_for_status()

    def calls(self, path=None):
        calls = requests.get(self.url + "/_stub/calls", timeout=5).json()
        return [c for c in calls if path is None or c["path"] == path]


@pytest.fixture
def stub(app, wechat_stub, redis, tmp_path, monkeypatch):
    wechat_stub.reset()
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", wechat_stub.url + "/")
    monkeypatch.setitem(app.config, "WECHAT_OAUTH_BASE", wechat_stub.url + "/connect/")
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    return wechat_stub


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (no browser download: these machines cannot)."""
    from playwright.sync_api import sync_playwright
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is required (scripts/setup.sh installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """tests/artifacts/: screenshots of browser tests for people to look at (git-ignored)."""
    folder = ROOT / "tests" / "artifacts"
    folder.mkdir(exist_ok=True)
    return folder

@pytest.fixture
def city(make):
    """make.world() plus a grid leader for the second grid, a department for 城乡建设 and its liaison."""
    world = make.world()
    world["leader2"] = make.staff("grid_leader", grid=world["grids"][1])
    world["department"] = make.department(world["street"], categories=["城乡建设", "国土资源"])
    world["other_department"] = make.department(world["street"], categories=["卫生计生"])
    world["liaison"] = make.staff("department_liaison", department=world["department"])
    return world


def actor(staff) -> Actor:
    return Actor.for_staff(staff)
