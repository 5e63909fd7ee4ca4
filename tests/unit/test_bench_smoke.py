"""The bench harness's pieces at tiny sizes, so `make bench` cannot rot between runs. No figure is
judged here: speed is the bench's business (BENCHMARKS.md), never a timed assertion in a test."""
import os
import threading

import pytest
from werkzeug.serving import make_server

from bench import load, report, servers
from bench.ceiling_app import create_app as ceiling_app, create_table


@pytest.fixture
def ceiling(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'ceiling.sqlite3'}"
    create_table(url)
    monkeypatch.setenv("DATABASE_URL", url)
    server = make_server("127.0.0.1", 0, ceiling_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.parametrize("generator", ["python-threads", "wrk"])
def test_load_generators_drive_the_ceiling(ceiling, generator, monkeypatch):
    if generator == "wrk" and load.generator() != "wrk":
        pytest.skip("wrk is not installed")
    monkeypatch.setattr(load, "generator", lambda: generator)
    result = load.run(ceiling, "/api/v1/orders", {"text": "楼道灯坏了", "location_text": "3号楼"}, ["t1", "t2"],
                      connections=2, seconds=1 if generator == "wrk" else 0.3)
    assert result["requests"] > 0 and result["errors"] == 0 and result["rps"] > 0
    assert result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]


def test_resident_memory_is_read_from_proc():
    assert servers.rss_mb(os.getpid()) > 1
    with servers.RssSampler(lambda: {"me": [os.getpid()]}) as sampler:
        pass
    assert sampler.peak["me"] > 1


def _intake_result():
    run = {"requests": 10, "rps": 50.0, "p50_ms": 5, "p90_ms": 8, "p99_ms": 20, "max_ms": 30, "errors": 0}
    summary = lambda *v: {"median": v[0], "min": min(v), "max": max(v), "rounds": list(v)}  # noqa: E731
    return {"generator": "wrk", "database": "postgresql", "seconds_per_run": 1, "rounds": 2, "gunicorn": "--workers 2",
            "rate_limits": "RATE_LIMITS_ENABLED=0",
            "memory_mb": {"idle after warm-up": {"web worker": 100, "rq worker": 90},
                          "peak under load": {"web worker": 120, "rq worker": 95, "ceiling worker": 40}},
            "concurrency": {64: {"ratio": summary(0.7, 0.65), "app_rps": summary(70, 65), "ceiling_rps": summary(100, 100),
                                 "app_p99_ms": summary(90, 95), "ceiling_p99_ms": summary(30, 31),
                                 "app_errors": 0, "ceiling_errors": 0, "runs": {"app": [run], "ceiling": [run]}}}}


def test_a_run_becomes_a_dated_section_with_every_target_judged(tmp_path):
    run = {"date": "2026-12-01T00:00:00+00:00", "commit": "abc1234", "machine": "x86_64, 2 cores",
           "versions": {"python": "3.10"}, "quick": True, "label": "", "elapsed_s": 60,
           "results": {"intake": _intake_result(), "peer": {"error": "not installed"},
                       "claims/sqlite": {"racers": 8, "orders": 40, "ratio": 0.8}}}
    text = report.section(run)
    assert "commit abc1234" in text and "2026-12-01" in text
    assert "| intake c64 | " in text and "0.70 (0.65–0.70)" in text and "| ≥ 0.6 | met |" in text
    assert "| memory web worker |" in text and "| peer |" in text and "MISSED" in text
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nkept by hand\n", encoding="utf-8")
    report.append(path, text)
    report.append(path, text)
    assert path.read_text(encoding="utf-8").startswith("# Benchmarks\n\nkept by hand") and \
        path.read_text(encoding="utf-8").count("## Run ") == 2
