"""后台任务: the failed background jobs, for the system administrator to retry or discard."""
from flask import flash, g, redirect, render_template, url_for

from .. import failures
from ..pages import back_to
from .auth import login_required
from .blueprint import bp


@bp.get("/jobs")
@login_required
def failed_jobs():
    return render_template("console/jobs.html", jobs=failures.failed(g.actor))


@bp.post("/jobs/<string:queue>/<string:job_id>/retry")
@login_required
@back_to("console.failed_jobs", pages=(403, 404))
def failed_job_retry(queue, job_id):
    failures.retry(g.actor, queue, job_id)
    flash(("ok_text", "已重新排队"))
    return redirect(url_for("console.failed_jobs"))


@bp.post("/jobs/<string:queue>/<string:job_id>/discard")
@login_required
@back_to("console.failed_jobs", pages=(403, 404))
def failed_job_discard(queue, job_id):
    failures.discard(g.actor, queue, job_id)
    flash(("ok_text", "已丢弃"))
    return redirect(url_for("console.failed_jobs"))
