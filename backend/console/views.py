"""Admin and worker web console (Jinja). It calls the same services as the API, which check every
action against the staff member's role and scope."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ..accounts import services as accounts
from ..dispatch import services as dispatch
from ..errors import DomainError
from ..extensions import db
from ..labels import label
from ..notifications.models import Notification
from ..orders import states
from ..orders.models import Order
from .auth import csrf_token, login_required, login_user, logout_user

bp = Blueprint("console", __name__, url_prefix="/console")


def _note():
    return (request.form.get("note") or "").strip()


# Buttons on an order page → the dispatch service each one calls.
ACTIONS = {
    "claim": lambda actor, number: dispatch.claim(actor, number),
    "progress": lambda actor, number: dispatch.progress(actor, number, _note()),
    "resolve": lambda actor, number: dispatch.resolve(actor, number, _note()),
    "escalate": lambda actor, number: dispatch.escalate(actor, number, _note()),
    "release": lambda actor, number: dispatch.release(actor, number, _note() or None),
    "supervise": lambda actor, number: dispatch.supervise(actor, number, _note()),
}
# Actions that need a written note (a result, a reason).
NOTE_REQUIRED = {"progress", "resolve", "escalate", "supervise"}


@bp.record_once
def _template_globals(state):
    # Globals (not a context processor) so imported macros see them too.
    state.app.jinja_env.globals.update(csrf_token=csrf_token, label=label)


@bp.route("/login", methods=["GET", "POST"])
def login():
    failed = False
    if request.method == "POST":
        try:
            staff = accounts.authenticate(request.form.get("username", ""), request.form.get("password", ""))
        except DomainError:
            failed = True
        else:
            login_user(staff)
            target = request.args.get("next", "")
            # Only our own pages: never bounce a fresh session to another site.
            if not target.startswith("/console/") or target.startswith("//"):
                target = url_for("console.dashboard")
            return redirect(target)
    return render_template("console/login.html", failed=failed), 401 if failed else 200


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("console.login"))


@bp.get("/")
@login_required
def dashboard():
    counts = dict(db.session.execute(
        select(Order.state, func.count()).where(dispatch.scope_filter(g.actor)).group_by(Order.state)).all())
    by_grid = db.session.execute(
        select(Order.grid_id, func.count()).where(dispatch.scope_filter(g.actor), Order.state.in_(states.OPEN_STATES))
        .group_by(Order.grid_id)).all()
    return render_template("console/dashboard.html", counts=counts, states=states.STATES,
                           by_grid=by_grid, supervision=dispatch.supervision(g.actor),
                           queue=dispatch.queue(g.actor, limit=50))


@bp.get("/orders/<string:number>")
@login_required
def order(number):
    found = dispatch.get(g.actor, number)
    offered = [a for a in ACTIONS if a == "supervise" and found.is_open or states.can(found.state, a)]
    return render_template("console/order.html", order=found, actions=offered, note_required=NOTE_REQUIRED)


@bp.post("/orders/<string:number>/<string:action>")
@login_required
def act(number, action):
    if action not in ACTIONS:
        return redirect(url_for("console.order", number=number))
    try:
        ACTIONS[action](g.actor, number)
        flash(("ok", action))
    except DomainError as error:
        db.session.rollback()
        flash(("error", error.message))
    return redirect(url_for("console.order", number=number))


@bp.get("/outbox")
@login_required
def outbox():
    """Deliveries that failed or still wait: a failure must be visible, never silent."""
    query = (select(Notification).where(Notification.status.in_(("failed", "pending")))
             .order_by(Notification.id.desc()).limit(200))
    if g.actor.role != "sysadmin":
        query = query.join(Order, Order.id == Notification.order_id).where(dispatch.scope_filter(g.actor))
    return render_template("console/outbox.html", rows=db.session.scalars(query).all())
