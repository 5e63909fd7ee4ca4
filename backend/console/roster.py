"""排班 and the 轮派 rule (`/console/duty`): the grid leader, the community's and the street's admins
and the sysadmin keep, per grid they hold, the weekdays each grid worker is on duty, dates that
differ, the grid's rule (on, off, as the community) and — admins — the community's rule. The same
services (`grids/duty.py`) audit every change; the worker's own 上班/下班 of the day beats the roster."""
from flask import g, redirect, render_template, request, url_for

from ..grids import duty
from ..pages import back_to, load
from .auth import login_required
from .blueprint import bp
from .forms import CommunityRuleForm, GridRuleForm, RosterDayForm, RosterWeekForm

_DAY = {"on": True, "off": False, "week": None}


@bp.get("/duty")
@login_required
def roster_page():
    grid = request.args.get("grid", type=int)
    return render_template("console/roster.html", weekdays=duty.WEEKDAYS, **duty.roster(g.actor, grid))


@bp.post("/duty/week")
@login_required
@back_to("console.roster_page")
def roster_week():
    data = load(RosterWeekForm(), {**request.form, "weekdays": request.form.getlist("weekdays")})
    duty.set_week(g.actor, data["grid"], data["staff"], data["weekdays"])
    return redirect(url_for("console.roster_page", grid=data["grid"]))


@bp.post("/duty/day")
@login_required
@back_to("console.roster_page")
def roster_day():
    data = load(RosterDayForm())
    duty.set_day(g.actor, data["grid"], data["staff"], data["on_date"], _DAY[data["duty"]])
    return redirect(url_for("console.roster_page", grid=data["grid"]))


@bp.post("/duty/rule")
@login_required
@back_to("console.roster_page")
def roster_rule():
    data = load(GridRuleForm())
    duty.set_grid_rule(g.actor, data["grid"], data["rule"])
    return redirect(url_for("console.roster_page", grid=data["grid"]))


@bp.post("/duty/community-rule")
@login_required
@back_to("console.roster_page")
def roster_community_rule():
    data = load(CommunityRuleForm())
    duty.set_community_rule(g.actor, data["community"], data["enabled"])
    return redirect(url_for("console.roster_page", grid=data["grid"]))
