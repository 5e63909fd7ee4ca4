"""Registry pages: upload a CSV/XLSX registry, check it (a dry run: the validation report as a
table of 表, 行, 列, 问题), then import it; download the blank template and the current registry;
the staff list with deactivate / reactivate, move to another grid and reset password.

The checked upload waits for its import in a private temporary folder named by a random token
kept in the uploader's session (not in a hidden form field: a 20,000-row file is larger than a
form field may be). The import checks every row again, all-or-nothing."""
import json
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from flask import Response, flash, g, redirect, render_template, request, session, url_for

from .. import clock
from ..errors import NotFound, ValidationFailed
from ..text import clean
from ..grids import registry, registry_jobs, staff as staff_service
from ..grids.scope import grids_in_scope

from . import forms
from .auth import login_required
from ..pages import back_to, load
from .blueprint import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PENDING_SECONDS = 3600  # a checked file waits this long for its import
KINDS = {"communities": "社区", "grids": "网格", "buildings": "楼栋", "departments": "部门", "staff": "人员"}


def _pending_root() -> Path:
    root = Path(tempfile.gettempdir()) / "red-mailbox-registry"
    root.mkdir(mode=0o700, exist_ok=True)
    for old in root.iterdir():  # forget checked files nobody imported
        if old.is_dir() and time.time() - old.stat().st_mtime > PENDING_SECONDS:
            shutil.rmtree(old, ignore_errors=True)
    return root


def _uploads() -> list[tuple[str, bytes]]:
    files = [(Path(clean(f.filename)).name[:200], f.read()) for f in request.files.getlist("file") if f and f.filename]
    if not files:
        raise ValidationFailed("请选择要导入的 XLSX 或 CSV 文件", fields={"file": ["missing"]})
    return files


def _keep(files) -> str:
    token = secrets.token_urlsafe(16)
    folder = _pending_root() / token
    folder.mkdir(mode=0o700)
    # Files by number, their names (which say their kind: 社区.csv …) in a list beside them: a
    # name is the sender's, never a path here.
    for number, (_, content) in enumerate(files):
        (folder / str(number)).write_bytes(content)
    (folder / "names.json").write_text(json.dumps([name for name, _ in files]), encoding="utf-8")
    session["registry_pending"] = token
    return token


def _kept() -> list[tuple[str, bytes]] | None:
    token = session.get("registry_pending") or ""
    folder = _pending_root() / token
    if not token or not token.replace("-", "").replace("_", "").isalnum() or not folder.is_dir():
        return None
    names = json.loads((folder / "names.json").read_text(encoding="utf-8"))
    return [(name, (folder / str(number)).read_bytes()) for number, name in enumerate(names)]


def _forget() -> None:
    token = session.pop("registry_pending", None)
    if token:
        shutil.rmtree(_pending_root() / token, ignore_errors=True)


def _page(report=None, error=None, status=200, pending=None):
    return render_template("console/registry.html", report=report, error=error, kinds=KINDS,
                           pending=pending), status


@bp.get("/registry")
@login_required
def registry_page():
    staff_service.require_registry_admin(g.actor)
    return _page()


def _refused_file(refused):
    return _page(error=refused.message, status=400)


@bp.post("/registry/check")
@login_required
@back_to(_refused_file, pages=(403, 404))
def registry_check():
    """试导入: every row checked, nothing written; a clean file waits for 正式导入."""
    scope = staff_service.require_registry_admin(g.actor)
    _forget()
    files = _uploads()
    report = registry.import_registry(files, dry_run=True, scope=scope)
    if not report.ok:
        return _page(report=report, status=422)
    _keep(files)
    return _page(report=report, pending=[name for name, _ in files])


@bp.post("/registry/import")
@login_required
@back_to(_refused_file, pages=(403, 404))
def registry_import():
    scope = staff_service.require_registry_admin(g.actor)
    files = _kept()
    if files is None:
        return _page(error="没有待导入的文件（或已超过一小时），请重新选择文件并试导入", status=400)
    job_id, report = registry_jobs.start(files, scope, by=g.staff.id)
    if job_id:  # a worker imports it; the next page shows how far it has got
        _forget()
        return redirect(url_for("console.registry_job", job_id=job_id))
    return _result(report)


def _result(report: dict):
    ok = not report["problems"]
    if ok:
        _forget()
    html, status = _page(report=report, status=200 if ok else 422)
    return html, status, {"Cache-Control": "no-store"}  # the new accounts' first passwords


def _job_id(job_id: str) -> str:
    if not (0 < len(job_id) <= 32 and job_id.replace("-", "").replace("_", "").isalnum()):
        raise NotFound("没有这个导入任务")
    return job_id


@bp.get("/registry/jobs/<string:job_id>")
@login_required
def registry_job(job_id):
    """A worker's import: its progress until it is done, then its report (shown once)."""
    staff_service.require_registry_admin(g.actor)
    record = registry_jobs.status(_job_id(job_id), consume=True, by=g.staff.id)
    if record is None:
        return _page(error="没有这个导入任务（或结果已显示过、已过期）", status=404)
    if record["state"] == "failed":
        return _page(error=record.get("error") or "导入失败", status=500)
    if record["state"] == "done":
        return _result(record["report"])
    return render_template("console/registry_job.html", job_id=job_id, record=record), 200, {"Cache-Control": "no-store"}


@bp.get("/registry/jobs/<string:job_id>.json")
@login_required
def registry_job_status(job_id):
    staff_service.require_registry_admin(g.actor)
    record = registry_jobs.status(_job_id(job_id), by=g.staff.id)
    if record is None:
        raise NotFound("没有这个导入任务")
    return {"state": record["state"], "done": record.get("done", 0), "total": record.get("total", 0)}


@bp.get("/registry/<any(template,current):which>.xlsx")
@login_required
def registry_download(which):
    scope = staff_service.require_registry_admin(g.actor)
    content = registry.export_registry(template=which == "template", scope=scope)
    name = "台账模板.xlsx" if which == "template" else f"台账_{clock.now().strftime('%Y%m%d')}.xlsx"
    response = Response(content, mimetype=XLSX)
    response.headers["Content-Disposition"] = f"attachment; filename=\"registry.xlsx\"; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- staff --------------------------------------------------------------------------------------

@bp.get("/staff")
@login_required
def staff_list():
    staff_service.require_manager(g.actor)
    return _staff_page()


@bp.post("/staff/new")
@login_required
@back_to("console.staff_list", pages=(403, 404))
def staff_new():
    data = load(forms.NewStaffForm())
    person, password = staff_service.create(g.actor, grid_id=data.pop("grid"), **data)
    # The first password: shown once, on this page only.
    return _staff_page(password=(person, password)), 200, {"Cache-Control": "no-store"}


def _staff_page(password=None):
    return render_template("console/staff.html", people=staff_service.visible(g.actor),
                           grids=grids_in_scope(g.actor), password=password)


@bp.post("/staff/<int:staff_id>/<any(deactivate,reactivate,move,password):action>")
@login_required
@back_to("console.staff_list", pages=(403, 404, 409))  # a bad input flashed; anything else its page
def staff_act(staff_id, action):
    if action == "password":
        person, password = staff_service.reset_password(g.actor, staff_id)
        # Shown once, on this page only: never in a redirect, a flash or a log.
        return _staff_page(password=(person, password)), 200, {"Cache-Control": "no-store"}
    if action == "move":
        grid = request.form.get("grid", "")
        if not grid.isdigit() or len(grid) > 9:
            raise ValidationFailed("请选择目标网格", fields={"grid": ["missing"]})
        person = staff_service.move(g.actor, staff_id, int(grid))
    else:
        person = staff_service.set_active(g.actor, staff_id, action == "reactivate")
    flash(("ok_text", f"{person.name}：{STAFF_DONE[action]}"))
    return redirect(url_for("console.staff_list"))


STAFF_DONE = {"deactivate": "已停用", "reactivate": "已启用", "move": "已调整网格"}
