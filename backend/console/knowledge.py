"""知识库 on the console (issue 23): community admins and above add, edit, retire and search the
entries the bot answers from, import and export them as XLSX, see the questions the bot could not
answer grouped by similarity, and turn a group — or an answered 咨询 order — into an entry in one
step (the form comes prefilled; a person saves it)."""
from urllib.parse import quote

from flask import Response, flash, g, redirect, render_template, request, url_for

from .. import clock
from ..knowledge import services, transfer
from ..pages import back_to, load
from . import forms
from .auth import login_required
from .blueprint import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/knowledge")
@login_required
def knowledge():
    query = load(forms.KnowledgeQuery(), request.args)
    return render_template("console/knowledge.html", q=query.get("q", ""),
                           rows=services.search(g.actor, query.get("q"), include_retired=True))


@bp.get("/knowledge/new")
@login_required
def knowledge_new():
    query = load(forms.KnowledgeQuery(), request.args)
    draft = services.draft_for(g.actor, order=query.get("order"), questions=query.get("questions"))
    return render_template("console/knowledge_entry.html", entry=None, draft=draft, events=[],
                           targets=services.targets(g.actor))


@bp.post("/knowledge/new")
@login_required
@back_to("console.knowledge_new", pages=(403, 404))
def knowledge_add():
    data = load(forms.KnowledgeForm())
    entry = services.add_entry(g.actor, data["target"], data, question_ids=data["questions"],
                               order_number=data["order"])
    flash(("ok_text", "知识已保存，机器人马上就能回答"))
    return redirect(url_for("console.knowledge_entry", entry_id=entry.id))


@bp.get("/knowledge/<int:entry_id>")
@login_required
def knowledge_entry(entry_id):
    entry = services.get_entry(g.actor, entry_id)
    return render_template("console/knowledge_entry.html", entry=entry, draft=services.draft_of(entry),
                           events=services.history(entry), targets=services.targets(g.actor),
                           keeps=services.may_keep(g.actor, entry))


@bp.post("/knowledge/<int:entry_id>")
@login_required
@back_to("console.knowledge_entry", pages=(403, 404))
def knowledge_edit(entry_id):
    data = load(forms.KnowledgeForm())
    services.edit_entry(g.actor, entry_id, data["target"], data)
    flash(("ok_text", "知识已修改"))
    return redirect(url_for("console.knowledge_entry", entry_id=entry_id))


@bp.post("/knowledge/<int:entry_id>/<any(retire,restore):action>")
@login_required
@back_to("console.knowledge_entry", pages=(403, 404))
def knowledge_retire(entry_id, action):
    services.set_active(g.actor, entry_id, action == "restore")
    flash(("ok_text", "已停用，机器人不再回答这条" if action == "retire" else "已恢复"))
    return redirect(url_for("console.knowledge_entry", entry_id=entry_id))


@bp.get("/knowledge/unanswered")
@login_required
def knowledge_unanswered():
    return render_template("console/knowledge_unanswered.html", groups=services.unanswered(g.actor))


@bp.get("/knowledge/export.xlsx")
@login_required
def knowledge_export():
    response = Response(transfer.export_xlsx(g.actor), mimetype=XLSX)
    name = f"知识库_{clock.now().strftime('%Y%m%d')}.xlsx"
    response.headers["Content-Disposition"] = f"attachment; filename=\"knowledge.xlsx\"; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/knowledge/import")
@login_required
@back_to("console.knowledge", pages=(403,))
def knowledge_import():
    counts = transfer.import_upload(g.actor, request.files.get("file"))
    flash(("ok_text", "导入完成：新增{added}条，修改{changed}条，未变{unchanged}条，上级维护的{skipped}条未动".format(**counts)))
    return redirect(url_for("console.knowledge"))
