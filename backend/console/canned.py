"""常用语 (canned replies) on the console: each community's admins, and the street's above them, keep
the ready-made replies staff send residents (`reply` on an order), with {居民称呼} {工单号} {网格员}
{预计时间} filled in when one is sent."""
from flask import flash, g, redirect, render_template, url_for

from ..orders import replies
from ..pages import back_to, load
from . import forms
from .auth import login_required
from .blueprint import bp


@bp.get("/canned-replies")
@login_required
def canned_replies():
    return render_template("console/canned_replies.html", groups=replies.manageable(g.actor),
                           variables=replies.VARIABLES)


@bp.post("/canned-replies")
@login_required
@back_to("console.canned_replies", pages=(403, 404))
def canned_reply_save():
    data = load(forms.CannedReplyForm())
    replies.save_canned(g.actor, community_id=data["community"], title=data["title"], text=data["text"])
    flash(("ok_text", "常用语已保存"))
    return redirect(url_for("console.canned_replies"))


@bp.post("/canned-replies/<int:canned_id>/retire")
@login_required
@back_to("console.canned_replies", pages=(403, 404))
def canned_reply_retire(canned_id):
    replies.retire_canned(g.actor, canned_id)
    flash(("ok_text", "常用语已停用"))
    return redirect(url_for("console.canned_replies"))
