"""What grid staff enter on their rounds, from the phone pages (/console/m/):
- 巡查上报 (`/m/report`): an event a worker or part-time member found — photo, place (a building
  of their grid or free text), category, what was done; "当场解决" records it resolved in the same
  step (小事不出格), otherwise it joins the grid's queue like a resident's order;
- 走访 (`/m/visit`): what a resident told a walking volunteer (行走的红色信箱).
Both go through `orders.intake.record` like every staff entry, so routing, scope and time limits
are the same; a per-form id makes a resubmitted form one order."""
import uuid

from flask import flash, g, redirect, render_template, request, url_for

from ..categories import taxonomy
from ..grids.scope import buildings_of_own_grid
from ..orders import intake, lifecycle
from ..pages import back_to, load, uploads
from ..orders.models import GRADES, KINDS
from . import forms
from .auth import login_required
from .blueprint import bp

PAGES = {"report": ("console/phone/report.html", forms.PatrolForm, "patrol"),
         "visit": ("console/phone/visit.html", forms.VisitForm, "visit")}


def _page(which: str, error=None, status=200):
    template = PAGES[which][0]
    return render_template(template, error=error, form=request.form, client_id=uuid.uuid4().hex,
                           buildings=buildings_of_own_grid(g.actor), categories=taxonomy.labels(2),
                           grades=GRADES, kinds=KINDS,
                           # The box shows only to those the `settle` row lets settle (not part-timers).
                           may_settle=g.actor.role in lifecycle.ACTIONS["settle"].roles), status


def _submit(which: str):
    _, schema, channel = PAGES[which]
    data = load(schema())
    order = intake.record_with_photos(g.actor, uploads(), channel=channel,
                                      idempotency_key=data.pop("client_id", None), **data)
    flash(("ok", "settle" if order.state == "resolved" else "submit"))
    return redirect(url_for("console.phone_order", number=order.number))


@bp.get("/m/report")
@login_required
def patrol_form():
    return _page("report")


@bp.post("/m/report")
@login_required
@back_to(lambda refused: _page("report", refused.message, refused.status))
def patrol_submit():
    return _submit("report")


@bp.get("/m/visit")
@login_required
def visit_form():
    return _page("visit")


@bp.post("/m/visit")
@login_required
@back_to(lambda refused: _page("visit", refused.message, refused.status))
def visit_submit():
    return _submit("visit")
