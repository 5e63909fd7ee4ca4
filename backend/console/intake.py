"""Hotline calls, walk-ins and photo reports entered by staff (代登记): the form, then
`orders.intake.record` — routed and timed like any order, only for addresses in the staff
member's scope — then the new order's page."""
import uuid

from flask import flash, g, redirect, render_template, request, url_for

from ..categories import taxonomy
from ..orders import intake
from ..pages import back_to, load, uploads
from ..orders.models import GRADES, KINDS
from . import forms
from .auth import login_required
from .blueprint import bp


def _page(error=None, status=200):
    return render_template("console/intake.html", error=error, channels=intake.DESK_CHANNELS, kinds=KINDS,
                           grades=GRADES, categories=taxonomy.labels(2), client_id=uuid.uuid4().hex,
                           form=request.form), status


@bp.get("/intake")
@login_required
def intake_form():
    return _page()


@bp.post("/intake")
@login_required
@back_to(lambda refused: _page(refused.message, refused.status))
def intake_submit():
    data = load(forms.IntakeForm())
    order = intake.record_with_photos(g.actor, uploads(), idempotency_key=data.pop("client_id", None), **data)
    flash(("ok", "submit"))
    return redirect(url_for("console.order", number=order.number))
