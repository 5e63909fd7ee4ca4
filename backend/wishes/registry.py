"""The 双报到 registry: partner units paired with a community, the residents who register with it
(party members, volunteers, units' contact people), and 三清单 (needs, resources, projects) with
their 双认领 — a unit takes up a community need, the community a unit's resource."""
import secrets

from sqlalchemy import select, true, update

from .. import clock
from ..accounts.actors import Actor
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..grids.managers import managed_communities
from ..grids.models import Community
from ..types import get_by_id
from .models import LIST_KINDS, MEMBER_KINDS, ListItem, Member, PartnerUnit

def communities_of(actor: Actor) -> list[Community]:
    """The communities whose registry a staff member keeps."""
    return managed_communities(actor, "只有社区、街道管理员可以管理报到登记")


def _community(actor: Actor, community_id: int) -> Community:
    found = next((c for c in communities_of(actor) if c.id == community_id), None)
    if found is None:
        raise NotFound("没有这个社区")
    return found


def add_unit(actor: Actor, *, community_id: int, name: str) -> PartnerUnit:
    community = _community(actor, community_id)
    unit = PartnerUnit(community_id=community.id, name=name.strip(), join_code=secrets.token_hex(4).upper(),
                       created_at=clock.now())
    db.session.add(unit)
    db.session.commit()
    return unit


def units(community_ids: list[int]) -> list[PartnerUnit]:
    return list(db.session.scalars(select(PartnerUnit).where(PartnerUnit.community_id.in_(community_ids))
                                   .order_by(PartnerUnit.id)))


def members(community_ids: list[int]) -> list[Member]:
    return list(db.session.scalars(select(Member).where(Member.community_id.in_(community_ids))
                                   .order_by(Member.id)))


def open_communities() -> list[Community]:
    return list(db.session.scalars(select(Community).order_by(Community.id)))


def register(actor: Actor, *, community_id: int, kind: str, name: str, skills: list[str],
             hours_available: int, workplace: str | None = None, join_code: str | None = None) -> Member:
    """双报到: a resident registers with a community. A unit's contact person names the unit by the
    code the community gave it; party members and volunteers need none (the community sees the
    list and may deactivate a registration)."""
    if not actor.is_resident:
        raise Forbidden("报到登记需要居民本人在手机上填写")
    community = get_by_id(Community, community_id)
    if community is None:
        raise ValidationFailed("没有这个社区", fields={"community": ["没有这个社区"]})
    if kind not in MEMBER_KINDS:
        raise ValidationFailed("请选择报到身份", fields={"kind": ["请选择报到身份"]})
    unit = None
    if kind == "unit_contact":
        unit = db.session.scalar(select(PartnerUnit).where(
            PartnerUnit.join_code == (join_code or "").strip().upper(), PartnerUnit.community_id == community.id))
        if unit is None:
            raise ValidationFailed("单位报到码不对", fields={"join_code": ["单位报到码不对，请向社区索取"]})
    existing = db.session.scalar(select(Member).where(Member.resident_id == actor.id,
                                                      Member.community_id == community.id))
    member = existing or Member(resident_id=actor.id, community_id=community.id, created_at=clock.now())
    member.kind, member.unit_id, member.name = kind, unit.id if unit else None, name.strip()
    member.workplace, member.skills, member.hours_available = workplace, skills, hours_available
    member.active = True
    db.session.add(member)
    db.session.commit()
    return member


def set_active(actor: Actor, member_id: int, active: bool) -> Member:
    member = get_by_id(Member, member_id)
    if member is None or member.community_id not in {c.id for c in communities_of(actor)}:
        raise NotFound("没有这位报到人员")
    member.active = active
    db.session.commit()
    return member


def add_item(actor: Actor, *, community_id: int, kind: str, title: str, detail: str | None = None,
             unit_id: int | None = None) -> ListItem:
    """A line on a list, entered by the community's staff for itself or for one of its units."""
    community = _community(actor, community_id)
    if kind not in LIST_KINDS:
        raise ValidationFailed("请选择清单类别", fields={"kind": ["请选择清单类别"]})
    unit = _unit_of(community, unit_id) if unit_id else None
    if (kind == "resource") != (unit is not None) and kind != "project":
        raise ValidationFailed("需求清单是社区的，资源清单是单位的", fields={"unit": ["需求清单不选单位，资源清单要选单位"]})
    item = ListItem(community_id=community.id, unit_id=unit.id if unit else None, kind=kind,
                    title=title.strip(), detail=detail, created_at=clock.now())
    db.session.add(item)
    db.session.commit()
    return item


def _unit_of(community: Community, unit_id: int) -> PartnerUnit:
    unit = get_by_id(PartnerUnit, unit_id)
    if unit is None or unit.community_id != community.id:
        raise ValidationFailed("没有这个共建单位", fields={"unit": ["没有这个共建单位"]})
    return unit


def claim_item(actor: Actor, item_id: int, unit_id: int | None) -> ListItem:
    """双认领: a unit claims the community's need (or a project), the community a unit's resource.
    One claimer: the conditional UPDATE takes it only while nobody has."""
    item = get_by_id(ListItem, item_id)
    if item is None:
        raise NotFound("没有这条清单")
    community = _community(actor, item.community_id)
    values = {"claimed_at": clock.now()}
    if item.kind == "resource":
        values["claimed_by_community"] = True
    else:
        values["claimed_by_unit_id"] = _unit_of(community, unit_id or 0).id
    done = db.session.execute(update(ListItem).where(
        ListItem.id == item.id, ListItem.claimed_at.is_(None)).values(**values)).rowcount
    if not done:
        db.session.rollback()
        raise Conflict("这条清单已被认领", code="already_claimed")
    db.session.commit()
    db.session.refresh(item)
    return item


def items(community_ids: list[int]) -> list[ListItem]:
    return list(db.session.scalars(select(ListItem).where(ListItem.community_id.in_(community_ids))
                                   .order_by(ListItem.kind, ListItem.id)))


def active_members(community_id: int) -> list[Member]:
    return list(db.session.scalars(select(Member).where(Member.community_id == community_id,
                                                        Member.active == true()).order_by(Member.id)))

