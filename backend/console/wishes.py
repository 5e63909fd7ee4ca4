"""Console pages of 微心愿 and 双报到: the community's check of new wishes (approve / reject), each
wish with the members matching suggests, the registry (partner units with their codes, registered
members), 三清单 with 双认领, the figures per unit and member, and volunteers' hours (CSV)."""
from flask import Response, flash, g, redirect, render_template, request, send_file, url_for

from ..errors import DomainError
from ..extensions import db
from ..labels import label
from ..wishes import figures, hours, lifecycle, matching, registry, schemas, services, states
from .auth import login_required
from .blueprint import bp

_FORMS = {"approve": schemas.NoteForm, "reject": schemas.ReasonForm}


def _refused(error: DomainError, form: bool = False) -> None:
    """A refused action: its message on the page it came from. On the registry's forms a role that
    may not keep the registry, or a community out of scope, is the error page's 403 / 404 instead."""
    db.session.rollback()
    if form and error.status in (403, 404):
        raise error
    details = "；".join(f"{m}" for messages in (error.fields or {}).values()
                       for m in (messages if isinstance(messages, list) else [messages]))
    flash(("error", f"{error.message}（{details}）" if details else error.message))


@bp.get("/wishes")
@login_required
def wishes():
    state = request.args.get("state") if request.args.get("state") in states.STATES else None
    return render_template("console/wishes.html", wishes=services.for_staff(g.actor, state), state=state,
                           states=states.STATES)


@bp.get("/wishes/<int:wish_id>")
@login_required
def wish(wish_id):
    found = services.get_wish(g.actor, wish_id)
    return render_template("console/wish.html", wish=found, suggestions=matching.suggest(found),
                           rows=lifecycle.ACTIONS)


@bp.get("/wishes/<int:wish_id>/photos/<int:index>")
@login_required
def wish_photo(wish_id, index):
    path, content_type = services.photo_file(g.actor, wish_id, index)
    return send_file(path, mimetype=content_type)


@bp.post("/wishes/<int:wish_id>/<any(approve,reject):action>")
@login_required
def wish_action(wish_id, action):
    try:
        found = services.get_wish(g.actor, wish_id)
        services.perform(g.actor, found, action, **schemas.load(_FORMS[action](), request.form))
        flash(("ok_text", label("wish_actions", action)))
    except DomainError as error:
        _refused(error)
    return redirect(url_for("console.wish", wish_id=wish_id))


@bp.get("/volunteers")
@login_required
def volunteers():
    communities = registry.communities_of(g.actor)
    ids = [c.id for c in communities]
    per_unit = figures.per_unit(ids)
    return render_template("console/volunteers.html", communities=communities, units=registry.units(ids),
                           members=registry.members(ids), items=registry.items(ids),
                           totals=figures.totals(ids), per_unit=per_unit, per_member=figures.per_member(ids),
                           chart=[{"name": u["name"], "claims": u["claims"], "fulfilled": u["fulfilled"]} for u in per_unit])


def _back():
    return redirect(url_for("console.volunteers"))


@bp.post("/volunteers/units")
@login_required
def unit_new():
    try:
        data = schemas.load(schemas.UnitForm(), request.form)
        unit = registry.add_unit(g.actor, community_id=data["community"], name=data["name"])
        flash(("ok_text", f"已添加共建单位：{unit.name}，报到码 {unit.join_code}"))
    except DomainError as error:
        _refused(error, form=True)
    return _back()


@bp.post("/volunteers/members/<int:member_id>/<any(deactivate,reactivate):action>")
@login_required
def member_active(member_id, action):
    try:
        registry.set_active(g.actor, member_id, action == "reactivate")
        flash(("ok_text", "已停用" if action == "deactivate" else "已恢复"))
    except DomainError as error:
        _refused(error, form=True)
    return _back()


@bp.post("/volunteers/items")
@login_required
def item_new():
    try:
        data = schemas.load(schemas.ItemForm(), request.form)
        registry.add_item(g.actor, community_id=data["community"], kind=data["kind"], title=data["title"],
                          detail=data.get("detail"), unit_id=data.get("unit"))
        flash(("ok_text", "已加入清单"))
    except DomainError as error:
        _refused(error, form=True)
    return _back()


@bp.post("/volunteers/items/<int:item_id>/claim")
@login_required
def item_claim(item_id):
    try:
        data = schemas.load(schemas.ItemClaimForm(), request.form)
        registry.claim_item(g.actor, item_id, data.get("unit"))
        flash(("ok_text", "已认领"))
    except DomainError as error:
        _refused(error, form=True)
    return _back()


@bp.post("/volunteers/hours")
@login_required
def hours_new():
    try:
        data = schemas.load(schemas.HoursForm(), request.form)
        hours.record_task(g.actor, member_id=data["member"], task=data["task"], hours=data["hours"], day=data["day"])
        flash(("ok_text", "已记录服务时长"))
    except DomainError as error:
        _refused(error, form=True)
    return _back()


@bp.get("/volunteers/hours.csv")
@login_required
def hours_export():
    ids = [c.id for c in registry.communities_of(g.actor)]
    body = hours.export_csv(ids, lambda kind: label("member_kinds", kind))
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=volunteer-hours.csv",
                             "Cache-Control": "no-store"})
