"""Python HTTP clients for benchmarks whose requests differ one from the next (a fresh resident per
chat message, a signed push with its own MsgId), which wrk's fixed body cannot send.

closed_loop: C connections, each sending its next request when the answer came (throughput).
open_loop:   requests at a fixed rate whether or not answers came (WeChat pushes at 200/s), latency
             counted from when each request was DUE, so a stalled server shows as latency instead of
             as fewer requests (no coordinated omission)."""
import http.client
import queue
import threading
import time
from urllib.parse import urlsplit


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def _send(conn, method, path, body, headers):
    conn.request(method, path, body, headers)
    response = conn.getresponse()
    response.read()
    return response.status


def _attempt(conn, url: str, request) -> tuple:
    """Send one (method, path, body, headers); a broken connection is replaced and counts as a failure."""
    method, path, body, headers = request
    try:
        return conn, 200 <= _send(conn, method, path, body, headers) < 300
    except (OSError, http.client.HTTPException):
        conn.close()
        return _connection(url), False


def _record(ok: bool, since: float, latencies: list, errors: list) -> None:
    """Under the caller's lock: a success's latency from `since`, or one more error."""
    if ok:
        latencies.append((time.perf_counter() - since) * 1000)
    else:
        errors[0] += 1


def percentiles(latencies_ms: list[float]) -> dict:
    ordered = sorted(latencies_ms)
    if not ordered:
        return {"p50_ms": float("nan"), "p90_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}

    def pct(p):
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]
    return {"p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": ordered[-1]}


def closed_loop(url: str, make_request, connections: int, seconds: float) -> dict:
    """make_request(i) → (method, path, body bytes, headers); throughput and latency of 2xx answers."""
    latencies, errors, counter, lock = [], [0], [0], threading.Lock()
    deadline = time.perf_counter() + seconds

    def client():
        conn = _connection(url)
        while time.perf_counter() < deadline:
            with lock:
                counter[0] += 1
                i = counter[0]
            request = make_request(i)  # built before the clock starts: the latency is the server's
            start = time.perf_counter()
            conn, ok = _attempt(conn, url, request)
            with lock:
                _record(ok, start, latencies, errors)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"requests": len(latencies) + errors[0], "rps": len(latencies) / elapsed, "errors": errors[0],
            **percentiles(latencies)}


def open_loop(url: str, make_request, rate: float, seconds: float, pool: int = 32) -> dict:
    """`rate` requests per second for `seconds`; latency from each request's due time to its answer."""
    due: queue.Queue = queue.Queue()
    latencies, errors, lock = [], [0], threading.Lock()

    def sender():
        conn = _connection(url)
        while True:
            item = due.get()
            if item is None:
                break
            i, at = item
            conn, ok = _attempt(conn, url, make_request(i))
            with lock:
                _record(ok, at, latencies, errors)
        conn.close()

    threads = [threading.Thread(target=sender) for _ in range(pool)]
    for t in threads:
        t.start()
    total = int(rate * seconds)
    start = time.perf_counter()
    for i in range(total):
        at = start + i / rate
        pause = at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        due.put((i, at))
    for _ in threads:
        due.put(None)
    for t in threads:
        t.join()
    return {"requests": total, "rate": rate, "answered": len(latencies), "errors": errors[0],
            "achieved_rps": len(latencies) / (time.perf_counter() - start), **percentiles(latencies)}
