"""Console pages of 微心愿 and 双报到: the community's check of new wishes (approve / reject), each
wish with the members matching suggests, the registry (partner units with their codes, registered
members), 三清单 with 双认领, the figures per unit and member, and volunteers' hours (CSV)."""
from flask import Response, flash, g, redirect, render_template, request, url_for

from .. import storage

from ..labels import label
from ..pages import back_to, load
from ..wishes import figures, hours, lifecycle, matching, registry, schemas, services, states
from .auth import login_required
from .blueprint import bp

_FORMS = {"approve": schemas.NoteForm, "reject": schemas.ReasonForm}


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
    key, content_type = services.photo_file(g.actor, wish_id, index)
    return storage.store().send(key, content_type)


@bp.post("/wishes/<int:wish_id>/<any(approve,reject):action>")
@login_required
@back_to("console.wish")
def wish_action(wish_id, action):
    found = services.get_wish(g.actor, wish_id)
    services.perform(g.actor, found, action, **load(_FORMS[action](), request.form))
    flash(("ok_text", label("wish_actions", action)))
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
@back_to("console.volunteers", pages=(403, 404))
def unit_new():
    data = load(schemas.UnitForm(), request.form)
    unit = registry.add_unit(g.actor, community_id=data["community"], name=data["name"])
    flash(("ok_text", f"已添加共建单位：{unit.name}，报到码 {unit.join_code}"))
    return _back()


@bp.post("/volunteers/members/<int:member_id>/<any(deactivate,reactivate):action>")
@login_required
@back_to("console.volunteers", pages=(403, 404))
def member_active(member_id, action):
    registry.set_active(g.actor, member_id, action == "reactivate")
    flash(("ok_text", "已停用" if action == "deactivate" else "已恢复"))
    return _back()


@bp.post("/volunteers/items")
@login_required
@back_to("console.volunteers", pages=(403, 404))
def item_new():
    data = load(schemas.ItemForm(), request.form)
    registry.add_item(g.actor, community_id=data["community"], kind=data["kind"], title=data["title"],
                      detail=data.get("detail"), unit_id=data.get("unit"))
    flash(("ok_text", "已加入清单"))
    return _back()


@bp.post("/volunteers/items/<int:item_id>/claim")
@login_required
@back_to("console.volunteers", pages=(403, 404))
def item_claim(item_id):
    data = load(schemas.ItemClaimForm(), request.form)
    registry.claim_item(g.actor, item_id, data.get("unit"))
    flash(("ok_text", "已认领"))
    return _back()


@bp.post("/volunteers/hours")
@login_required
@back_to("console.volunteers", pages=(403, 404))
def hours_new():
    data = load(schemas.HoursForm(), request.form)
    hours.record_task(g.actor, member_id=data["member"], task=data["task"], hours=data["hours"], day=data["day"])
    flash(("ok_text", "已记录服务时长"))
    return _back()


@bp.get("/volunteers/hours.csv")
@login_required
def hours_export():
    ids = [c.id for c in registry.communities_of(g.actor)]
    body = hours.export_csv(ids, lambda kind: label("member_kinds", kind))
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=volunteer-hours.csv",
                             "Cache-Control": "no-store"})
