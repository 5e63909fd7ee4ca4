"""Fault-test kit: real processes of our own (the RQ worker, gunicorn, a private PostgreSQL, a
private redis-server) started, killed and restarted by the tests, and a TCP proxy that can hold
an answer back, so a test can stop a process at an exact point of a turn."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, _free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def wait_until(condition, timeout: float, what: str, every: float = 0.2):
    """Poll until condition() is truthy; a bound, not a timing assertion (a hang fails, slow passes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up waiting for {what() if callable(what) else what} after {timeout:.0f}s")


def backend_env(app, **extra) -> dict:
    """The environment a backend process (worker, gunicorn, flask CLI) needs to join this test run."""
    cfg = app.config
    env = {**os.environ, "DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": cfg["REDIS_URL"],
           "SECRET_KEY": cfg["SECRET_KEY"], "BOT_SERVICE_TOKEN": cfg["BOT_SERVICE_TOKEN"],
           "RASA_AUTH_TOKEN": cfg["RASA_AUTH_TOKEN"],
           "WECHAT_API_BASE": cfg["WECHAT_API_BASE"], "WECHAT_OAUTH_BASE": cfg["WECHAT_OAUTH_BASE"],
           "RASA_URL": cfg["RASA_URL"], "BOT_TIMEOUT_SECONDS": str(cfg["BOT_TIMEOUT_SECONDS"]),
           "UPLOAD_DIR": cfg["UPLOAD_DIR"], "RATE_LIMITS_ENABLED": "0", "RED_MAILBOX_ENV": "development",
           "PYTHONUNBUFFERED": "1"}
    env.pop("FLASK_APP", None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Proc:
    """A child process with its log; kill() is SIGKILL: no cleanup runs in it, as in a crash."""

    def __init__(self, argv, env, log: Path):
        self.log = log
        self.proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=open(log, "a"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, n=3000) -> str:
        return self.log.read_text(errors="replace")[-n:]


@pytest.fixture
def spawn(tmp_path):
    """spawn(name, argv, env) → Proc; every process still running at the end is killed."""
    started = []

    def start(name, argv, env):
        proc = Proc(argv, env, tmp_path / f"{name}.log")
        started.append(proc)
        return proc
    yield start
    for proc in started:
        proc.kill()


def worker_argv() -> list[str]:
    return [str(ROOT / ".venv/bin/flask"), "--app", "backend:create_app", "run-worker"]


class TcpProxy:
    """Forwards 127.0.0.1:port to a target. hold(prefix): answers to requests starting with prefix
    are kept back until release(); cut(): every connection dropped and new ones refused until mend()."""

    def __init__(self, target_port: int, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url_host = f"127.0.0.1:{self.port}"
        self._prefix = None
        self._released = threading.Event()
        self._released.set()
        self.holding = threading.Event()  # an answer is being kept back now
        self._cut = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self, prefix: bytes):
        self._prefix, self._released = prefix, threading.Event()
        self.holding.clear()

    def release(self):
        self._prefix = None
        self._released.set()

    def cut(self):
        self._cut = True
        with self._lock:
            for s in self._sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self._sockets.clear()

    def mend(self):
        self._cut = False

    def close(self):
        self.release()
        self.cut()
        self.listener.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self._cut:
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        try:
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()
            return
        with self._lock:
            self._sockets += [client, upstream]
        first = client.recv(65536)
        held = self._prefix is not None and first.startswith(self._prefix)
        released = self._released
        upstream.sendall(first)
        threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
        self._pump(upstream, client, released if held else None)

    def _pump(self, source, sink, released):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if released is not None and not released.is_set():
                    self.holding.set()
                    released.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class PrivatePostgres:
    """A PostgreSQL server of this test alone (initdb in a temp dir, a free port), so the test may
    stop and start it without touching the machine's shared server."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="rm-test-pg-"))
        # Unix socket only, in our own directory: no TCP port another process could take while the
        # server is down (the port number only names the socket file).
        self.port = _free_port()
        self.url = f"postgresql://postgres@/postgres?host={self.dir}&port={self.port}"
        self._as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
        if self._as:
            shutil.chown(self.dir, "postgres")
        self._run(PG_BIN / "initdb", "-D", self.dir / "data", "-A", "trust", "-U", "postgres", "--no-sync",
                  "-E", "UTF8", "--locale", "C.UTF-8")
        self.start()

    def _run(self, *argv):
        subprocess.run([*self._as, *map(str, argv)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.STDOUT, timeout=60)

    def start(self):
        self._run(PG_BIN / "pg_ctl", "-D", self.dir / "data", "-l", self.dir / "log", "-w", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses='' -c fsync=off", "start")

    def stop(self, mode="immediate"):
        """immediate: the server dies without a checkpoint, as a crash or an OOM kill leaves it."""
        self._run(PG_BIN / "pg_ctl", "-D", self.dir / "data", "-m", mode, "-w", "stop")

    def destroy(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class StreamingPair:
    """A private PostgreSQL primary and its streaming replica (pg_basebackup -R: a hot standby), as
    bench/cluster.py runs them, both on Unix sockets in one temp dir: the shared server is never
    touched, and the test may pause, kill and restart the replica."""

    def __init__(self):
        self.primary = PrivatePostgres()
        self.dir = self.primary.dir
        self.replica_port = _free_port()
        self.replica_url = f"postgresql://postgres@/postgres?host={self.dir}&port={self.replica_port}"
        self.primary._run(PG_BIN / "pg_basebackup", "-h", self.dir, "-p", self.primary.port, "-U", "postgres",
                          "-D", self.dir / "replica", "-R", "-X", "stream")
        self.start_replica()

    @property
    def url(self) -> str:
        return self.primary.url

    def start_replica(self):
        self.primary._run(PG_BIN / "pg_ctl", "-D", self.dir / "replica", "-l", self.dir / "replica.log", "-w", "-o",
                          f"-p {self.replica_port} -k {self.dir} -c listen_addresses='' -c fsync=off "
                          "-c hot_standby=on", "start")

    def kill_replica(self):
        """The replica dies as in a crash (no checkpoint)."""
        self.primary._run(PG_BIN / "pg_ctl", "-D", self.dir / "replica", "-m", "immediate", "-w", "stop")

    def destroy(self):
        try:
            self.kill_replica()
        except subprocess.CalledProcessError:
            pass
        self.primary.destroy()


@pytest.fixture(scope="session")
def streaming_pair():
    pair = StreamingPair()
    yield pair
    pair.destroy()


def pg_available() -> bool:
    return (PG_BIN / "initdb").exists()
