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


def _echo_request(i):
    return "POST", "/api/v1/orders", b'{"text": "\\u697c\\u9053\\u706f\\u574f\\u4e86"}', {
        "Content-Type": "application/json", "Authorization": f"Bearer t{i % 2}"}


def test_the_python_clients_drive_the_ceiling_closed_and_open_loop(ceiling):
    from bench import clients
    closed = clients.closed_loop(ceiling, _echo_request, connections=2, seconds=0.3)
    assert closed["requests"] > 0 and closed["errors"] == 0 and closed["p50_ms"] <= closed["p99_ms"]
    opened = clients.open_loop(ceiling, _echo_request, rate=40, seconds=0.5, pool=4)
    assert opened["requests"] == 20 and opened["answered"] == 20 and opened["errors"] == 0
    assert opened["p50_ms"] <= opened["p99_ms"] <= opened["max_ms"]


def test_the_claim_gate_and_raw_round_trips_run_on_the_apps_redis(app, redis):
    from bench import bench_race
    from backend.extensions import redis as app_redis
    with app.app_context():
        assert bench_race.raw_round_trips(app_redis, [f"rm:test:raw:{i}" for i in range(20)], threads=4) > 0
        assert bench_race.gate_round_trips([f"T{i}" for i in range(20)], threads=4) > 0
        assert all(app_redis.exists(f"rm:claim:T{i}") for i in range(20))


def _bot_and_scale_results():
    s = lambda *v: {"median": v[0], "min": min(v), "max": max(v), "rounds": list(v)}  # noqa: E731
    later = {"rps": 5.0, "p99_ms": 400}
    page = {"p50_ms": 10, "p95_ms": 20, "runs": 3}
    return {
        "bot": {"chat": {"ratio": s(0.5), "p99_ratio": s(1.5), "app_rps": s(10), "rasa_rps": s(20),
                         "app_p99_ms": s(300), "rasa_p99_ms": s(200)},
                "long": {"app": {"first": later, "later": later}, "rasa": {"first": later, "later": later}, "ratio": 1.0},
                "wechat": {"rate": 200, "p99_ratio": s(2.0), "app_p99_ms": s(40), "ceiling_p99_ms": s(20)},
                "memory_mb": {"after start": {"rasa": 900, "actions": 40}, "peak under load": {"rasa": 1100, "actions": 45}}},
        "race": {"threads": 50, "orders": 100, "gate_per_s": 900, "raw_per_s": 1000, "gate_ratio": 0.9,
                 "claims_per_s": 50, "claims_ratio": 0.05, "refused": 3, "claim_events_twice": 0, "never_claimed": 0,
                 "told_but_not_holder": 0, "zero_double_claims": True},
        "scale": {"sizes": [10, 100], "district": "1 street", "repeat": 3, "generation_s": {"10": 1, "100": 2},
                  "stages": {"10": {"pages": {"dashboard (street)": page, "queue": page}},
                             "100": {"pages": {"dashboard (street)": page, "queue": {**page, "p95_ms": 60}}}},
                  "growth": {"dashboard (street)": 1.0, "queue": 3.0}},
    }


def test_bot_claims_and_scale_figures_are_judged_against_their_targets():
    rows = {r[0]: r for r in report.rows(_bot_and_scale_results())}
    assert rows["chat turn c4"][2:] == ("0.50", "≥ 0.8", "MISSED")
    assert rows["chat turn c4 p99"][4] == "MISSED" and rows["wechat ack"][2:] == ("40", "≤ 50 ms", "met")
    assert rows["memory rasa"][2:] == ("900 / 1100", "≤ 1 GB", "MISSED")
    assert rows["claims c50 gate"][2:] == ("0.90", "≥ 0.8", "met") and rows["claims c50 doubles"][4] == "met"
    assert rows["scale dashboard (street)"][4] == "met" and rows["scale queue"][2:] == ("60", "≤ 50 ms", "MISSED")
    table = "\n".join(report.scale_table(_bot_and_scale_results()["scale"]))
    assert "| queue | 10 / 20 | 10 / 60 | 3.00× |" in table
    assert report.rows({"bot": {"error": "no model"}})[0][4] == "MISSED"


def test_the_knowledge_evaluation_scores_every_question_on_every_path():
    """bench/knowledge_eval.py (issue 23's figures): each question of the set counted once per path,
    at the config's thresholds, with the bot's own model read from the stored parse."""
    from bench import knowledge_eval
    result = knowledge_eval.run()
    assert result["questions"] >= 300 and result["questions_matching_none"] > 0
    for path in ("kb", "before", "bot"):
        counts = result["all"][path]
        assert counts["correct"] + counts["wrong"] + counts["declined"] == result["questions"], path
        parts = [result[name][path] for name in ("seed_questions", "local_questions", "matching_none")]
        assert sum(p["correct"] + p["wrong"] + p["declined"] for p in parts) == result["questions"], path
    assert result["at_config"]["bot"] == result["all"]["bot"]


def test_the_served_split_reads_each_process_cpu_per_request():
    """bench.served_split: CPU from /proc per process, a process started between the two reads
    counted from zero, one gone counts nothing more, per request in ms."""
    import os
    from bench import served_split
    assert served_split.cpu_seconds(os.getpid()) > 0 and served_split.cpu_seconds(2 ** 22 + 7) == 0.0
    comm = open(f"/proc/{os.getpid()}/comm").read().strip()
    assert os.getpid() in served_split.pids_named(comm)
    before = {"web": {1: 2.0, 2: 1.0}, "rq": {3: 0.5}}
    after = {"web": {1: 2.5, 2: 1.25, 9: 0.25}, "rq": {}}
    assert served_split.split(before, after, 100) == {"web": 10.0, "rq": 0.0}
