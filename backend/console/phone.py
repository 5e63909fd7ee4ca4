"""The grid worker's phone pages (/console/m/): my orders and the grid's queue by due time with
countdowns, and one order with big buttons for what a worker does on the street — claim, a
progress note with a photo from the camera, resolve with the result and an after photo, escalate
with a reason. Separate pages rather than the desk made responsive: the desk is a wide table of
filters for an office screen, a worker needs the few things at hand and one thumb's reach.

They call the same services as the desk and the API; a photo goes through `photos.act_with_photos`
(type sniffed from its bytes, size-limited, no file left behind by a refused step)."""
from flask import abort, flash, g, redirect, render_template, request, url_for

from .. import clock
from ..dispatch import claims, listings
from ..grids import duty
from ..orders import lifecycle, photos, rota, timeline
from ..pages import back_to, upload
from .auth import login_required
from .blueprint import bp

# What the phone offers; every other action of the order is on the full order page.
PHONE_ACTIONS = ("claim", "progress", "resolve", "escalate")
FIELDS = ("note", "reason", "result")


@bp.get("/m/")
@login_required
def phone_home():
    only = request.args.get("f", "")
    shown = listings.phone_queue(g.actor, request.args.get("q", "")[:50], only if only in listings.PHONE_FILTERS else "")
    return render_template("console/phone/home.html", **shown, filters=listings.PHONE_FILTERS,
                           q=request.args.get("q", "")[:50], only=only, now=clock.now(),
                           on_duty=g.staff.role == "grid_worker" and duty.is_on_duty(g.staff))


@bp.post("/m/duty")
@login_required
@back_to("console.phone_home")
def phone_duty():
    """上班/下班 (轮派 gives new orders only to grid workers on duty)."""
    rota.set_duty(g.actor, request.form.get("on_duty") == "1")
    return redirect(url_for("console.phone_home"))


@bp.get("/m/orders/<string:number>")
@login_required
def phone_order(number):
    found = listings.get(g.actor, number)
    actions = [a for a in PHONE_ACTIONS if a in found.allowed_actions]
    others = [a for a in found.allowed_actions if a not in PHONE_ACTIONS]
    return render_template("console/phone/order.html", order=found, actions=actions, others=others,
                           marks=listings.marks(g.actor, [found])[found.id], history=timeline.for_staff(g.actor, found),
                           now=clock.now())


@bp.post("/m/orders/<string:number>/<string:action>")
@login_required
@back_to("console.phone_order")
def phone_act(number, action):
    if action not in PHONE_ACTIONS or action not in lifecycle.REQUESTABLE:
        abort(404)
    given = {name: (request.form.get(name) or "").strip() or None for name in FIELDS if name in request.form}
    body = upload()
    if body:
        photos.act_with_photos(g.actor, listings.get(g.actor, number), action, [body], **given)
    else:
        claims.act(g.actor, number, action, **given)
    flash(("ok", action))
    return redirect(url_for("console.phone_order", number=number))
