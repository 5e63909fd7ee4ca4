"""Admin and worker web console (Jinja). It calls the same services as the API, which check every
action against the staff member's role and scope."""
from flask import abort, flash, g, redirect, render_template, request, url_for

from ..accounts import services as accounts
from ..dispatch import claims, listings
from ..errors import DomainError
from ..grids.scope import grid_workers, grids_in_scope
from ..labels import label
from ..notifications import services as notifications
from ..pages import back_to
from ..categories import taxonomy
from ..orders import duplicates, figures, lifecycle, replies, states, timeline
from ..orders.models import GRADES
from ..ratelimits import login_limits
from ..wechat import transcript
from .auth import csrf_ok, login_required, login_user, logout_user
from .blueprint import bp



# Form fields each action's input comes from (the lifecycle row says which are required).
FORM_FIELDS = ("note", "reason", "result", "category", "grade", "assignee", "grid", "until", "why", "days", "ground",
               "original", "satisfaction", "called_at", "canned_id", "expected", "text")


# The order page's 办理 area in groups by purpose (issue 24: eleven buttons in a grid were one
# wall); the titles are labels.yml's `action_groups`. An action in none of them goes under 其他.
ACTION_GROUPS = (
    ("handle", ("claim", "assign", "progress", "resolve", "release", "reply")),
    ("move", ("escalate", "transfer", "place", "dispatch_property", "return_from_property", "merge", "unmerge")),
    ("time", ("extend", "approve_extension", "refuse_extension", "pause", "approve_pause", "resume", "set_grade")),
    ("follow", ("supervise", "callback", "reopen", "close", "appeal", "approve_appeal", "refuse_appeal")),
    ("record", ("correct_category", "make_private", "make_public")),
)


def action_groups(allowed, actor) -> list[tuple[str, list]]:
    """The order's allowed actions (only those) in ACTION_GROUPS, each with its required inputs."""
    placed = {a for _, names in ACTION_GROUPS for a in names}
    groups = [(key, [a for a in names if a in allowed]) for key, names in ACTION_GROUPS]
    groups.append(("other", [a for a in allowed if a not in placed]))
    return [(key, [(a, lifecycle.ACTIONS[a].required_for(actor)) for a in names]) for key, names in groups if names]


def _form_input() -> dict:
    return {name: (request.form.get(name) or "").strip() or None for name in FORM_FIELDS
            if name in request.form}


@bp.route("/login", methods=["GET", "POST"])
@login_limits(accounts.staff_exists)
def login():
    if request.method == "GET":
        return render_template("console/login.html", failed=False)
    _check_login_form()
    try:
        staff = accounts.authenticate(request.form.get("username", ""), request.form.get("password", ""))
    except DomainError:
        return render_template("console/login.html", failed=True), 401
    login_user(staff)
    return redirect(_after_login(staff, request.args.get("next", "")))


def _check_login_form() -> None:
    if not csrf_ok():  # login CSRF: nobody may sign a browser into an account of theirs
        abort(400, "表单已过期，请刷新页面后重试")
    if not request.args.get("next", "").isprintable():
        # A line break in `next` would go into the Location header (werkzeug refuses it: a 500);
        # no page of ours has one, so it is a made-up link: refused before anyone signs in.
        abort(400, "登录后要打开的页面地址无效")


def _after_login(staff, target: str) -> str:
    # Only our own pages: never bounce a fresh session to another site.
    if not target.startswith("/console/") or target.startswith("//"):
        return url_for(_home_for(staff))
    return target


def _home_for(staff) -> str:
    """Grid workers and leaders signing in on a phone start on the phone pages; everyone else, and
    every desktop, on the dashboard."""
    on_phone = request.user_agent.string and any(
        word in request.user_agent.string for word in ("Mobile", "Android", "iPhone", "MicroMessenger"))
    return "console.phone_home" if on_phone and staff.role in ("grid_worker", "grid_leader", "grid_member") else "console.dashboard"


@bp.post("/logout")
@login_required
def logout():
    logout_user(g.staff)
    return redirect(url_for("console.login"))


@bp.get("/")
@login_required
def dashboard():
    shown = figures.dashboard(g.actor)
    by_channel = [{"channel": label("channels", c["channel"]), "count": c["count"]} for c in shown["by_channel"]]
    return render_template("console/dashboard.html", counts=listings.state_counts(g.actor), states=states.STATES,
                           figures=shown, by_channel=by_channel,
                           supervision=listings.supervision(g.actor), queue=listings.queue(g.actor, limit=50),
                           reminders=listings.reminders(g.actor))


@bp.get("/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id):
    """A reminder opened from the list: marked read, then its order (or back to the list)."""
    number = listings.open_reminder(g.actor, notification_id)
    back = request.args.get("back") == "phone"
    if number:
        return redirect(url_for("console.phone_order" if back else "console.order", number=number))
    return redirect(url_for("console.phone_home" if back else "console.dashboard", _anchor="reminders"))


@bp.post("/notifications/read")
@login_required
def read_notifications():
    notifications.mark_read(g.staff.id)
    return redirect(url_for("console.phone_home" if request.form.get("back") == "phone" else "console.dashboard"))


@bp.get("/orders/<string:number>")
@login_required
def order(number):
    found = duplicates.attach(listings.get(g.actor, number, shown="console"))
    # The buttons are the order's allowed actions for this staff member, each with the inputs its
    # lifecycle row requires.
    return render_template("console/order.html", order=found, groups=action_groups(found.allowed_actions, g.actor),
                           history=timeline.for_staff(g.actor, found), talk=transcript.for_order(found),
                           workers=grid_workers(g.actor, found), grids=grids_in_scope(g.actor),
                           categories=taxonomy.labels(2), grades=GRADES,
                           canned=replies.canned_for(g.actor, found.community_id) if "reply" in found.allowed_actions else [])


@bp.post("/orders/<string:number>/<string:action>")
@login_required
@back_to("console.order")
def act(number, action):
    if action not in lifecycle.REQUESTABLE:
        abort(404)
    claims.act(g.actor, number, action, **_form_input())
    flash(("ok", action))
    return redirect(url_for("console.order", number=number))


@bp.get("/outbox")
@login_required
def outbox():
    """Deliveries that failed or still wait: a failure must be visible, never silent."""
    return render_template("console/outbox.html", rows=listings.outbox(g.actor))
