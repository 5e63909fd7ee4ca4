"""Hotline calls, walk-ins and photo reports entered by staff (代登记): the form, then
`orders.intake.record` — routed and timed like any order, only for addresses in the staff
member's scope — then the new order's page."""
import uuid

from flask import current_app, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from ..categories import taxonomy
from ..errors import DomainError
from ..extensions import db
from ..orders import intake
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
def intake_submit():
    try:
        data = forms.load_form(forms.IntakeForm(), request.form)
    except ValidationError as invalid:
        return _page(forms.message(invalid), 400)
    try:
        upload = request.files.get("photo")
        # One byte past the limit is enough to know it is too large.
        body = upload.read(int(current_app.config["PHOTO_MAX_BYTES"]) + 1) if upload and upload.filename else b""
        order = intake.record_with_photos(g.actor, [body] if body else [],
                                          idempotency_key=data.pop("client_id", None), **data)
    except DomainError as refused:
        db.session.rollback()
        return _page(refused.message, refused.status if 400 <= refused.status < 500 else 400)
    flash(("ok", "submit"))
    return redirect(url_for("console.order", number=order.number))
