"""Processes the server benchmarks start and stop themselves: a private redis-server, gunicorn with
the Procfile's web settings, an RQ worker; and their resident memory, read from /proc."""
import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# The Procfile's `web` line, as `make run` starts it: the app made and warmed up once (--preload) before
# 2 workers × 4 threads (gunicorn's gthread worker) fork from it.
GUNICORN_ARGS = ["--preload", "--workers", "2", "--threads", os.environ.get("BENCH_WEB_THREADS", "4"), "--access-logfile", "-"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s")


@contextmanager
def redis_server():
    import redis as redis_lib
    port = free_port()
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"rm-bench-redis-{port}"
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                redis_lib.Redis(port=port).ping()
                break
            except redis_lib.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def process(argv: list[str], env: dict, port: int | None = None, log: Path | None = None, cwd: Path = ROOT,
            timeout: float = 60):
    out = open(log, "ab") if log else subprocess.DEVNULL
    proc = subprocess.Popen(argv, env={**os.environ, **env}, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        if port:
            wait_for_port(port, proc, timeout)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if log:
            out.close()


def gunicorn(app: str, env: dict, log: Path | None = None, python_bin: Path = VENV_BIN, extra=()):
    port = free_port()
    argv = [str(python_bin / "gunicorn"), *GUNICORN_ARGS, *extra, "--bind", f"127.0.0.1:{port}", app]
    return port, process(argv, env, port=port, log=log)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def descendants(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        found += [child, *descendants(child)]
    return found


def wait_for_http(url: str, timeout: float = 60) -> None:
    import urllib.error
    import urllib.request
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status < 500:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f}s")


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RssSampler:
    """Peak RSS of each of some processes while a block runs, sampled every 0.25 s in a thread."""

    def __init__(self, pids_of):
        self.pids_of, self.peak = pids_of, {}

    def __enter__(self):
        import threading
        self._stop = threading.Event()

        def loop():
            while not self._stop.wait(0.25):
                self.sample()
        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def sample(self):
        for name, pids in self.pids_of().items():
            self.peak[name] = max(self.peak.get(name, 0.0), max((rss_mb(p) for p in pids), default=0.0))

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample()
