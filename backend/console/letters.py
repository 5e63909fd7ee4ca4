"""The paper mailbox (红色信箱, opened once a day by the community's working groups): the day's
letters entered one after another. The form keeps the opening date and comes back empty after each
letter, so a stack of letters is typed in a row; each is one order through `orders.intake.record`
(channel `letter`, the opening date on its submit event)."""
import uuid

from flask import flash, g, redirect, render_template, request, url_for

from .. import clock
from ..orders import intake
from ..pages import back_to, load
from ..orders.models import KINDS
from . import forms
from .auth import login_required
from .blueprint import bp


def _page(error=None, status=200, form=None):
    from flask import current_app
    today = clock.local(clock.now(), current_app.config["TIMEZONE"]).date().isoformat()
    form = form if form is not None else request.form
    opened = form.get("opened_on") or request.args.get("opened") or today
    return render_template("console/letters.html", error=error, form=form, opened=opened, today=today,
                           kinds=KINDS, client_id=uuid.uuid4().hex, entered=request.args.getlist("n")), status


@bp.get("/letters")
@login_required
def letters_form():
    return _page(form={})


@bp.post("/letters")
@login_required
@back_to(lambda refused: _page(refused.message, refused.status))
def letters_submit():
    data = load(forms.LetterForm())
    order = intake.record(g.actor, channel="letter", idempotency_key=data.pop("client_id", None), **data)
    flash(("ok", "submit"))
    # Back to an empty form for the next letter, with the same opening date and the numbers so far.
    entered = [n for n in request.args.getlist("n") if len(n) <= 32][-50:] + [order.number]
    return redirect(url_for("console.letters_form", opened=data["opened_on"].isoformat(), n=entered))
