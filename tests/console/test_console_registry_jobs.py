"""A large registry import handed to the worker: the console shows its progress, then its report
once; without a live worker (or Redis) it runs in the request as before."""
import re

from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from backend.grids import registry_jobs
from backend.grids.models import Building
from tests.console.test_console import _csrf, _login
from tests.console.test_console_registry import _upload
from tests.grids.test_registry import SHEETS, workbook


def _run_the_worker(app):
    connection = Redis.from_url(app.config["REDIS_URL"])
    SimpleWorker([Queue(registry_jobs.QUEUE, connection=connection)], connection=connection).work(burst=True)


def _big():
    rows = [["小区", "楼号", "单元数", "网格编码", "别名"]]
    rows += [[f"大区{n // 200}号小区", n % 200 + 1, 2, "yg-01", ""] for n in range(2000)]
    return workbook({**SHEETS, "楼栋": rows})


def test_with_a_worker_the_page_shows_progress_then_the_report_once(app, client, make, db, monkeypatch):
    monkeypatch.setattr(registry_jobs, "_worker_alive", lambda: True)
    _login(client, make.staff("sysadmin"))
    token = _csrf(client.get("/console/registry").data)
    assert _upload(client, token, _big()).status_code == 200
    handed = client.post("/console/registry/import", data={"csrf": token})
    assert handed.status_code == 302 and "/console/registry/jobs/" in handed.location
    waiting = client.get(handed.location)
    assert waiting.status_code == 200 and 'id="registry-progress"' in waiting.data.decode()
    assert client.get(handed.location + ".json").json == {"state": "queued", "done": 0, "total": 0}
    assert db.session.scalar(select(func.count()).select_from(Building)) == 0

    _run_the_worker(app)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Building)) == 2000
    status = client.get(handed.location + ".json").json
    assert status["state"] == "done" and status["done"] == status["total"] > 2000
    shown = client.get(handed.location)
    page = shown.data.decode()
    assert shown.status_code == 200 and "导入完成" in page and shown.headers["Cache-Control"] == "no-store"
    assert re.search(r"<td>liwei</td><td><code>[^<]+</code>", page)  # first passwords, this once
    again = client.get(handed.location)
    assert again.status_code == 404 and "liwei" not in again.data.decode()


def test_progress_is_written_as_rows_are_applied(app, db, redis):
    seen = []
    job_id = "progress-1"
    real_save = registry_jobs._save
    registry_jobs._save = lambda job, **record: (seen.append(record), real_save(job, **record))
    try:
        registry_jobs.run(job_id, [("big.xlsx", _big())])
    finally:
        registry_jobs._save = real_save
    running = [r for r in seen if r["state"] == "running"]
    assert len(running) >= 4 and [r["done"] for r in running] == sorted(r["done"] for r in running)
    assert seen[-1]["state"] == "done" and not seen[-1]["report"]["problems"]


def test_a_failed_job_says_so(app, client, make, db, redis, monkeypatch):
    monkeypatch.setattr(registry_jobs.registry, "import_registry",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk full")))
    registry_jobs.run("broken-1", [("x.xlsx", b"")])
    _login(client, make.staff("sysadmin"))
    page = client.get("/console/registry/jobs/broken-1")
    assert page.status_code == 500 and "导入失败" in page.data.decode()


def test_without_a_worker_the_import_runs_in_the_request(client, make, db):
    _login(client, make.staff("sysadmin"))  # no worker is running in the tests
    token = _csrf(client.get("/console/registry").data)
    _upload(client, token, workbook())
    done = client.post("/console/registry/import", data={"csrf": token})
    assert done.status_code == 200 and "导入完成" in done.data.decode()
    assert db.session.scalar(select(func.count()).select_from(Building)) == 3
