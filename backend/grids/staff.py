"""Staff as the console lists and manages them: whom a staff member may see (their own scope, the
same one column as orders), and the registry's small writes — deactivate, reactivate, move to
another grid, reset the password. Each write is one transaction. There is no audit table for
staff (order events audit orders only), so each write is logged with who did it."""
import logging
import secrets

from sqlalchemy import or_, select

from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..types import INT32_MAX
from ..accounts.models import TEAM_OF_ROLE, Staff
from .models import Community, Grid
from .registry import WHOLE, Scope
from ..accounts.actors import Actor

log = logging.getLogger(__name__)

MANAGERS = ("community_admin", "street_admin", "sysadmin")
# The members of a grid's team: its leader, full-time workers and part-time members (TEAM_ROLES).
GRID_ROLES = ("grid_worker", "grid_leader", "grid_member")


def _scope(actor: Actor):
    """The SQL condition of the staff an actor's scope holds."""
    grids_of = lambda where: select(Grid.id).join(Community).where(where)  # noqa: E731
    if actor.role == "sysadmin":
        return Staff.id.is_not(None)
    if actor.role == "grid_member":
        return Staff.id == actor.id  # a part-time member is told no colleague's phone
    if actor.role in GRID_ROLES:
        return Staff.grid_id == actor.grid_id
    if actor.role == "community_admin":
        return or_(Staff.community_id == actor.community_id,
                   Staff.grid_id.in_(grids_of(Community.id == actor.community_id)))
    if actor.role == "street_admin":
        return or_(Staff.street_id == actor.street_id,
                   Staff.community_id.in_(select(Community.id).where(Community.street_id == actor.street_id)),
                   Staff.grid_id.in_(grids_of(Community.street_id == actor.street_id)))
    if actor.role == "department_liaison":
        return Staff.department_id == actor.department_id
    if actor.role == "property_staff":
        return Staff.property_company_id == actor.property_company_id
    return Staff.id.is_(None)


def visible(actor: Actor, limit: int = 1000) -> list[Staff]:
    """Staff in the actor's scope, by role and name (the desk's 接单人 filter, the staff list)."""
    if not actor.is_staff:
        raise Forbidden("只有工作人员可以查看人员")
    return list(db.session.scalars(select(Staff).where(_scope(actor)).order_by(Staff.role, Staff.name).limit(limit)))


def may_manage(actor: Actor) -> bool:
    return actor.is_staff and actor.role in MANAGERS


def require_manager(actor: Actor) -> None:
    if not may_manage(actor):
        raise Forbidden("只有社区、街道管理员和系统管理员可以管理人员")


def _managed(actor: Actor, staff_id: int) -> Staff:
    require_manager(actor)
    # An id past the column's range is nobody (and past 64 bits SQLite's driver would overflow).
    staff = (db.session.scalar(select(Staff).where(Staff.id == staff_id, _scope(actor)))
             if 1 <= staff_id <= INT32_MAX else None)
    if staff is None:
        raise NotFound("没有这个人员，或不在你的管辖范围内")
    if staff.id == actor.id:
        raise Forbidden("不能修改自己的账号状态，请联系上级管理员")
    return staff


def _done(actor: Actor, staff: Staff, what: str) -> Staff:
    db.session.commit()
    log.info("staff %s (%s) %s by staff %s", staff.id, staff.username, what, actor.id)
    return staff


def set_active(actor: Actor, staff_id: int, active: bool) -> Staff:
    """停用 / 启用: a deactivated account cannot log in; its history stays."""
    staff = _managed(actor, staff_id)
    staff.active = active
    return _done(actor, staff, "reactivated" if active else "deactivated")


def move(actor: Actor, staff_id: int, grid_id: int) -> Staff:
    """调整网格: a member of a grid's team to another grid the manager's scope holds."""
    staff = _managed(actor, staff_id)
    if staff.role not in GRID_ROLES:
        raise ValidationFailed("只有网格员、网格长和兼职网格员属于网格", fields={"grid": ["not a grid role"]})
    grid = db.session.get(Grid, grid_id)
    if grid is None or not _grid_in_scope(actor, grid):
        raise NotFound("目标网格不存在，或不在你的管辖范围内")
    before = staff.grid_id
    staff.grid_id = grid.id
    return _done(actor, staff, f"moved from grid {before} to grid {grid.id}")


def create(actor: Actor, *, username: str, name: str, role: str, grid_id: int,
           phone: str | None = None, team_role: str | None = None) -> tuple[Staff, str]:
    """新增网格员/网格长/兼职网格员 in a grid of the manager's scope, with a random first password
    returned once. (Admins and liaisons come from the registry import: their place is a community,
    a street or a department, which is the registry's to name.)"""
    require_manager(actor)
    if role not in GRID_ROLES:
        raise ValidationFailed("这里只能新增网格员、网格长或兼职网格员", fields={"role": ["a grid role"]})
    teams = TEAM_OF_ROLE[role]
    if team_role is not None and team_role not in teams:
        raise ValidationFailed("队伍角色与角色不符", fields={"team_role": [f"one of {', '.join(teams)}"]})
    grid = db.session.get(Grid, grid_id)
    if grid is None or not _grid_in_scope(actor, grid):
        raise NotFound("目标网格不存在，或不在你的管辖范围内")
    if db.session.scalar(select(Staff.id).where(Staff.username == username)) is not None:
        raise Conflict(f"账号「{username}」已被使用，请换一个", code="username_taken")
    password = secrets.token_urlsafe(9)
    staff = Staff(username=username, name=name, role=role, team_role=team_role or teams[0], phone=phone,
                  grid_id=grid.id, active=True)
    staff.set_password(password)
    db.session.add(staff)
    db.session.flush()
    return _done(actor, staff, f"created in grid {grid.id}"), password


def _grid_in_scope(actor: Actor, grid: Grid) -> bool:
    return (actor.role == "sysadmin" or (actor.role == "community_admin" and grid.community_id == actor.community_id)
            or (actor.role == "street_admin" and grid.community.street_id == actor.street_id))


def reset_password(actor: Actor, staff_id: int) -> tuple[Staff, str]:
    """A new random password, returned once to be handed over (only its hash is stored)."""
    staff = _managed(actor, staff_id)
    password = secrets.token_urlsafe(9)
    staff.set_password(password)
    return _done(actor, staff, "password reset"), password


def require_registry_admin(actor: Actor):
    """Whose registry the actor keeps (issue 24): a community admin their community's, a street
    admin their street's, the sysadmin all of it (`registry.Scope`); anyone else is refused."""
    if actor.is_staff and actor.role == "sysadmin":
        return WHOLE
    if actor.is_staff and actor.role == "community_admin" and actor.community_id:
        return Scope(community_id=actor.community_id)
    if actor.is_staff and actor.role == "street_admin" and actor.street_id:
        return Scope(street_id=actor.street_id)
    raise Forbidden("只有社区、街道管理员和系统管理员可以导入或导出台账")
