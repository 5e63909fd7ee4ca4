"""The figures the articles report: claims and fulfilled wishes per partner unit and per member,
and hours given — one grouped query each."""
from sqlalchemy import func, select

from ..extensions import db
from . import states
from .models import Member, PartnerUnit, VolunteerHours, Wish, WishEvent

_DONE = (states.FULFILLED, states.CONFIRMED)


def totals(community_ids: list[int]) -> dict:
    counts = dict(db.session.execute(select(Wish.state, func.count()).where(
        Wish.community_id.in_(community_ids)).group_by(Wish.state)).all())
    return {"wishes": sum(counts.values()), "by_state": counts,
            "fulfilled": sum(counts.get(s, 0) for s in _DONE), "confirmed": counts.get(states.CONFIRMED, 0)}


def _claims_by(column, community_ids):
    """Claims ever made (a claim that lapsed or was given back still counts as a claim)."""
    return dict(db.session.execute(
        select(column, func.count()).select_from(WishEvent).join(Member, Member.id == WishEvent.member_id)
        .where(WishEvent.action == "claim", Member.community_id.in_(community_ids)).group_by(column)).all())


def _done_by(column, community_ids):
    return dict(db.session.execute(
        select(column, func.count()).select_from(Wish).join(Member, Member.id == Wish.claimant_id)
        .where(Wish.state.in_(_DONE), Wish.community_id.in_(community_ids)).group_by(column)).all())


def _hours_by(column, community_ids):
    return {k: float(v or 0) for k, v in db.session.execute(
        select(column, func.sum(VolunteerHours.hours)).select_from(VolunteerHours)
        .join(Member, Member.id == VolunteerHours.member_id)
        .where(VolunteerHours.community_id.in_(community_ids)).group_by(column)).all()}


def per_unit(community_ids: list[int]) -> list[dict]:
    claims, done, hours = (f(Member.unit_id, community_ids) for f in (_claims_by, _done_by, _hours_by))
    units = db.session.scalars(select(PartnerUnit).where(PartnerUnit.community_id.in_(community_ids))
                               .order_by(PartnerUnit.id))
    return [{"id": u.id, "name": u.name, "claims": claims.get(u.id, 0), "fulfilled": done.get(u.id, 0),
             "hours": hours.get(u.id, 0.0)} for u in units]


def per_member(community_ids: list[int]) -> list[dict]:
    claims, done, hours = (f(Member.id, community_ids) for f in (_claims_by, _done_by, _hours_by))
    members = db.session.scalars(select(Member).where(Member.community_id.in_(community_ids)).order_by(Member.id))
    return [{"id": m.id, "name": m.name, "kind": m.kind, "unit": m.unit.name if m.unit else None,
             "claims": claims.get(m.id, 0), "fulfilled": done.get(m.id, 0), "hours": hours.get(m.id, 0.0)}
            for m in members]
