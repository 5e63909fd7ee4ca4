"""HTTP load for the server benchmarks: wrk when installed (C, a few % of one core at these rates, so
the servers keep the CPU), else a small threaded client in Python (slower; its figures say so).

Each request is a POST of the same JSON body with a bearer token (rotating over several residents)
and a fresh Idempotency-Key, as a client retrying safely would send."""
import http.client
import json
import shutil
import subprocess
import tempfile
import threading
import time
import uuid

_LUA = r"""
local tokens = {%(tokens)s}
local body = %(body)s
local path = %(path)s
local prefix = %(prefix)s
local counter = 0
local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = %(auth_prefix)s .. tokens[(counter %% #tokens) + 1]
  headers["Idempotency-Key"] = prefix .. "-" .. tid .. "-" .. counter
  return wrk.format("POST", path, headers, body)
end
function done(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d,' ..
    '"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
"""


def _lua_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid Lua string literal here


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "python-threads"


def run(url: str, path: str, body: dict, tokens: list[str], connections: int, seconds: float,
        auth_prefix: str = "Bearer ") -> dict:
    """Closed-loop load for `seconds`: throughput, latency percentiles (ms), errors."""
    if generator() == "wrk":
        return _wrk(url, path, body, tokens, connections, seconds, auth_prefix)
    return _threads(url, path, body, tokens, connections, seconds, auth_prefix)


def _wrk(url, path, body, tokens, connections, seconds, auth_prefix) -> dict:
    script = _LUA % {"tokens": ", ".join(_lua_str(t) for t in tokens), "body": _lua_str(json.dumps(body)),
                     "path": _lua_str(path), "prefix": _lua_str(uuid.uuid4().hex[:12]),
                     "auth_prefix": _lua_str(auth_prefix)}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    threads = min(2, connections)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                          "--timeout", "10s", "-s", f.name, url], capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {out.stdout} {out.stderr}")
    raw = json.loads(line[len("WRKJSON "):])
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return {"requests": raw["requests"], "rps": (raw["requests"] - raw["status"]) / (raw["duration_us"] / 1e6),
            "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
            "max_ms": raw["max_us"] / 1000, "errors": errors, "non_2xx": raw["status"]}


def _threads(url, path, body, tokens, connections, seconds, auth_prefix) -> dict:
    host, port = url.split("//", 1)[1].split(":")
    payload = json.dumps(body).encode()
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.perf_counter() + seconds
    prefix = uuid.uuid4().hex[:12]

    def client(n):
        conn = http.client.HTTPConnection(host, int(port.strip("/")), timeout=10)
        i = 0
        while time.perf_counter() < deadline:
            i += 1
            headers = {"Content-Type": "application/json", "Authorization": auth_prefix + tokens[i % len(tokens)],
                       "Idempotency-Key": f"{prefix}-{n}-{i}"}
            start = time.perf_counter()
            try:
                conn.request("POST", path, payload, headers)
                response = conn.getresponse()
                response.read()
                ok = 200 <= response.status < 300
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, int(port.strip("/")), timeout=10)
                ok = False
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed) if ok else None
                errors[0] += 0 if ok else 1
        conn.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000 if latencies else float("nan")
    return {"requests": len(latencies) + errors[0], "rps": len(latencies) / elapsed, "p50_ms": pct(50),
            "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
            "errors": errors[0], "non_2xx": errors[0]}
