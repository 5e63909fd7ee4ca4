"""Who is on duty for 轮派 (orders/rota.py), and the settings behind it, each change one transaction
with its audit row (`DutyEvent`):

- the worker's own 上班/下班 (`set_duty`): for the rest of that local day it beats the roster;
- the roster (排班, `set_week`, `set_day`): the weekdays a worker is on duty, and dates that differ
  (an extra day, a day off), kept by the grid leader, the community's admin, the street's admin or the
  sysadmin; a date beats the weekday;
- the rule: a community's switch (`set_community_rule`) that every grid of it follows unless the grid
  says otherwise (`set_grid_rule`: on, off, or as the community).

A worker with no roster line at all is on duty exactly when their toggle says so (as before rosters)."""
import logging
from datetime import date

from flask import current_app
from sqlalchemy import delete, or_, select

from .. import clock
from ..accounts.actors import Actor
from ..accounts.models import Staff
from ..errors import Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..types import INT32_MAX
from .models import Community, DutyEvent, DutyRoster, Grid

log = logging.getLogger(__name__)

# Who keeps a grid's roster and rule; who keeps a community's rule.
GRID_KEEPERS = ("grid_leader", "community_admin", "street_admin", "sysadmin")
COMMUNITY_KEEPERS = ("community_admin", "street_admin", "sysadmin")
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
GRID_RULES = {"on": True, "off": False, "community": None}


def today() -> date:
    return clock.local(clock.now(), current_app.config["TIMEZONE"]).date()


def on_duty_ids(grid_id: int, day: date | None = None) -> list[int]:
    """The grid's active grid workers on duty on `day` (today): their toggle of that day, else the
    roster's date line, else its weekday, else — no roster at all — their toggle."""
    day = day or today()
    workers = db.session.execute(select(Staff.id, Staff.on_duty, Staff.duty_set_on).where(
        Staff.grid_id == grid_id, Staff.role == "grid_worker", Staff.active)).all()
    if not workers:
        return []
    lines = db.session.execute(select(DutyRoster.staff_id, DutyRoster.weekday, DutyRoster.on_date, DutyRoster.on_duty)
                               .where(DutyRoster.staff_id.in_([w.id for w in workers]))).all()
    rostered = {line.staff_id for line in lines}
    dated = {line.staff_id: line.on_duty for line in lines if line.on_date == day}
    weekly = {line.staff_id for line in lines if line.weekday == day.weekday() and line.on_duty}
    on = []
    for w in workers:
        if w.duty_set_on == day:
            duty = w.on_duty
        elif w.id in dated:
            duty = dated[w.id]
        elif w.id in rostered:
            duty = w.id in weekly
        else:
            duty = w.on_duty
        if duty:
            on.append(w.id)
    return on


def is_on_duty(staff: Staff) -> bool:
    return staff.grid_id is not None and staff.id in on_duty_ids(staff.grid_id)


def _audit(actor: Actor, action: str, *, staff_id=None, grid_id=None, community_id=None, **data) -> None:
    db.session.add(DutyEvent(action=action, actor_type=actor.kind, actor_id=actor.id, staff_id=staff_id,
                             grid_id=grid_id, community_id=community_id, at=clock.now(), data=data))


def set_duty(actor: Actor, on_duty: bool) -> Staff:
    """A grid worker's own 上班/下班, for today beating the roster; audited in the same transaction."""
    if not actor.is_staff or actor.role != "grid_worker":
        raise Forbidden("只有网格员可以上班/下班", code="not_a_grid_worker")
    staff = db.session.get(Staff, actor.id)
    before = is_on_duty(staff)
    staff.on_duty, staff.duty_set_on = bool(on_duty), today()
    _audit(actor, "duty", staff_id=staff.id, grid_id=staff.grid_id, before=before, after=staff.on_duty)
    db.session.commit()
    log.info("grid worker %s now %s", staff.id, "on duty" if staff.on_duty else "off duty")
    return staff


# --- the roster and the rule, kept on the console ---------------------------------------------

def _grids_kept(actor: Actor):
    """The SQL condition of the grids whose roster and rule the actor keeps."""
    if not actor.is_staff or actor.role not in GRID_KEEPERS:
        raise Forbidden("只有网格长、社区和街道管理员可以排班", code="not_a_roster_keeper")
    if actor.role == "grid_leader":
        return Grid.id == actor.grid_id
    if actor.role == "community_admin":
        return Grid.community_id == actor.community_id
    if actor.role == "street_admin":
        return Grid.community_id.in_(select(Community.id).where(Community.street_id == actor.street_id))
    return Grid.id.is_not(None)


def grids_kept(actor: Actor) -> list[Grid]:
    return list(db.session.scalars(select(Grid).where(_grids_kept(actor)).order_by(Grid.code)))


def _grid(actor: Actor, grid_id: int) -> Grid:
    grid = (db.session.scalar(select(Grid).where(Grid.id == grid_id, _grids_kept(actor)))
            if 1 <= grid_id <= INT32_MAX else None)
    if grid is None:
        raise NotFound("没有这个网格，或不在你的管辖范围内")
    return grid


def _worker(grid: Grid, staff_id: int) -> Staff:
    staff = (db.session.scalar(select(Staff).where(Staff.id == staff_id, Staff.grid_id == grid.id,
                                                   Staff.role == "grid_worker"))
             if 1 <= staff_id <= INT32_MAX else None)
    if staff is None:
        raise NotFound("这个网格没有这位网格员")
    return staff


def roster(actor: Actor, grid_id: int | None = None) -> dict:
    """The roster page of one grid (the first the actor keeps by default): its workers with their
    weekdays and coming dates, who is on duty today, the grid's and its community's rule."""
    grids = grids_kept(actor)
    if not grids:
        raise NotFound("你的管辖范围内没有网格")
    grid = _grid(actor, grid_id) if grid_id is not None else grids[0]
    workers = list(db.session.scalars(select(Staff).where(Staff.grid_id == grid.id, Staff.role == "grid_worker")
                                      .order_by(Staff.active.desc(), Staff.name)))
    day = today()
    lines = db.session.scalars(select(DutyRoster).where(
        DutyRoster.staff_id.in_([w.id for w in workers]),
        or_(DutyRoster.weekday.is_not(None), DutyRoster.on_date >= day))
        .order_by(DutyRoster.on_date)).all()
    weeks = {w.id: sorted(line.weekday for line in lines if line.staff_id == w.id and line.weekday is not None)
             for w in workers}
    dates = [line for line in lines if line.on_date is not None]
    community = db.session.get(Community, grid.community_id)
    return {"grids": grids, "grid": grid, "community": community, "workers": workers, "weeks": weeks,
            "dates": dates, "on_duty": set(on_duty_ids(grid.id, day)), "today": day,
            "may_keep_community": actor.role in COMMUNITY_KEEPERS}


def set_week(actor: Actor, grid_id: int, staff_id: int, weekdays: list[int]) -> None:
    """The worker's weekly days on duty, replacing the ones before."""
    grid = _grid(actor, grid_id)
    staff = _worker(grid, staff_id)
    if any(not 0 <= d <= 6 for d in weekdays):
        raise ValidationFailed("星期无效", fields={"weekdays": ["0–6"]})
    weekdays = sorted(set(weekdays))
    before = sorted(db.session.scalars(select(DutyRoster.weekday).where(
        DutyRoster.staff_id == staff.id, DutyRoster.weekday.is_not(None))))
    db.session.execute(delete(DutyRoster).where(DutyRoster.staff_id == staff.id, DutyRoster.weekday.is_not(None)))
    db.session.add_all([DutyRoster(staff_id=staff.id, weekday=d, on_duty=True) for d in weekdays])
    _audit(actor, "roster_week", staff_id=staff.id, grid_id=grid.id, before=before, after=weekdays)
    db.session.commit()


def set_day(actor: Actor, grid_id: int, staff_id: int, on_date: date, on_duty: bool | None) -> None:
    """A date that differs from the week: on duty (True), off (False), or as the week again (None)."""
    grid = _grid(actor, grid_id)
    staff = _worker(grid, staff_id)
    if on_date < today():
        raise ValidationFailed("不能给过去的日期排班", fields={"on_date": ["not in the past"]})
    line = db.session.scalar(select(DutyRoster).where(DutyRoster.staff_id == staff.id, DutyRoster.on_date == on_date))
    before = None if line is None else line.on_duty
    if on_duty is None:
        if line is not None:
            db.session.delete(line)
    elif line is None:
        db.session.add(DutyRoster(staff_id=staff.id, on_date=on_date, on_duty=on_duty))
    else:
        line.on_duty = on_duty
    _audit(actor, "roster_day", staff_id=staff.id, grid_id=grid.id, on_date=on_date.isoformat(),
           before=before, after=on_duty)
    db.session.commit()


def set_grid_rule(actor: Actor, grid_id: int, rule: str) -> Grid:
    """A grid's 轮派: "on", "off", or "community" (as its community says). The routing snapshot
    follows at the commit."""
    if rule not in GRID_RULES:
        raise ValidationFailed("轮派规则无效", fields={"rule": ["on, off or community"]})
    grid = _grid(actor, grid_id)
    before, grid.auto_assign = grid.auto_assign, GRID_RULES[rule]
    _audit(actor, "grid_rule", grid_id=grid.id, community_id=grid.community_id, before=before, after=grid.auto_assign)
    db.session.commit()
    return grid


def set_community_rule(actor: Actor, community_id: int, on: bool) -> Community:
    """A community's 轮派 switch, followed by every grid of it that does not say otherwise."""
    if actor.kind != "system" and (not actor.is_staff or actor.role not in COMMUNITY_KEEPERS):
        raise Forbidden("只有社区、街道管理员可以设置社区的轮派规则", code="not_a_community_keeper")
    community = db.session.get(Community, community_id) if 1 <= community_id <= INT32_MAX else None
    if community is None or not _keeps_community(actor, community):
        raise NotFound("没有这个社区，或不在你的管辖范围内")
    before, community.auto_assign = community.auto_assign, bool(on)
    _audit(actor, "community_rule", community_id=community.id, before=before, after=community.auto_assign)
    db.session.commit()
    return community


def _keeps_community(actor: Actor, community: Community) -> bool:
    if actor.kind == "system" or actor.role == "sysadmin":
        return True
    if actor.role == "community_admin":
        return community.id == actor.community_id
    return actor.role == "street_admin" and community.street_id == actor.street_id


def set_grid_rule_by_code(code: str, rule: str) -> Grid:
    """The command line's `flask grid-auto-assign` (an operator: the system actor)."""
    from ..accounts.actors import SYSTEM
    grid = db.session.scalar(select(Grid).where(Grid.code == code))
    if grid is None:
        raise NotFound(f"没有编号为 {code} 的网格")
    before, grid.auto_assign = grid.auto_assign, GRID_RULES[rule]
    _audit(SYSTEM, "grid_rule", grid_id=grid.id, community_id=grid.community_id, before=before, after=grid.auto_assign)
    db.session.commit()
    return grid


def set_community_rule_by_name(name: str, on: bool) -> Community:
    """The command line's `flask community-auto-assign`."""
    from ..accounts.actors import SYSTEM
    community = db.session.scalar(select(Community).where(Community.name == name))
    if community is None:
        raise NotFound(f"没有名为 {name} 的社区")
    return set_community_rule(SYSTEM, community.id, on)
