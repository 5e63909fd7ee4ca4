"""Wishes, their audit trail, the 双报到 registry (partner units, registered members), the
community's and units' lists (需求/资源/项目清单) and volunteers' hours."""
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from ..lifecycle import EventColumns
from ..types import UTCDateTime
from . import states

MEMBER_KINDS = ("party_member", "volunteer", "unit_contact")  # 在职党员, 志愿者, 共建单位联系人
LIST_KINDS = ("need", "resource", "project")  # 需求清单, 资源清单, 项目清单


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PartnerUnit(db.Model):
    """A 结对共建单位 (a bank branch, a school, a company) paired with a community."""
    __tablename__ = "partner_units"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # Given by the community to the unit: its contact people register with it on the H5 pages, so
    # nobody can speak for a unit they were not sent by.
    join_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    community = relationship("Community")


class Member(db.Model):
    """A resident's 双报到 registration with a community: a party member, a volunteer, or a partner
    unit's contact person. Members claim wishes; their hours are counted per registration."""
    __tablename__ = "wish_members"
    __table_args__ = (
        Index("uq_wish_members_resident_community", "resident_id", "community_id", unique=True),
        CheckConstraint(_in("kind", MEMBER_KINDS), name="kind"),
        CheckConstraint("(kind = 'unit_contact') = (unit_id IS NOT NULL)", name="unit_contact"),
        CheckConstraint("hours_available >= 0 AND hours_available <= 168", name="hours_available"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("partner_units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(40))
    workplace: Mapped[str | None] = mapped_column(String(80))  # a party member's own unit (在职单位)
    skills: Mapped[list] = mapped_column(JSON, default=list)
    hours_available: Mapped[int] = mapped_column(default=0)  # per week
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    unit = relationship("PartnerUnit")
    resident = relationship("Resident")
    community = relationship("Community")


WISH_CHECKS = {
    "state": _in("state", states.STATES),
    # one claimant exactly while it is held: the board's "one at a time", kept by the database
    "claimant_held": f"(claimant_id IS NOT NULL) = ({_in('state', states.HELD)})",
    "claim_due": f"(claim_due_at IS NOT NULL) = (state = '{states.CLAIMED}')",
    "fulfilled_evidence": f"NOT {_in('state', (states.FULFILLED, states.CONFIRMED))} OR evidence IS NOT NULL",
    "rejected_reason": f"state <> '{states.REJECTED}' OR reason IS NOT NULL",
    "hours": "hours IS NULL OR (hours > 0 AND hours <= 100)",
}


class Wish(db.Model):
    __tablename__ = "wishes"
    __table_args__ = (
        Index("ix_wishes_community_state", "community_id", "state"),
        Index("uq_wishes_idempotency_key", "idempotency_key", unique=True),
        *(CheckConstraint(sql, name=name) for name, sql in WISH_CHECKS.items()),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20), default="h5")
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"), index=True)
    text: Mapped[str] = mapped_column(Text)                         # what
    beneficiary: Mapped[str | None] = mapped_column(String(80))     # for whom
    wanted_by: Mapped[date | None] = mapped_column(Date)            # by when
    photos: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(20), default=states.SUBMITTED, index=True)
    reason: Mapped[str | None] = mapped_column(Text)                # why the community refused it
    claimant_id: Mapped[int | None] = mapped_column(ForeignKey("wish_members.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("partner_units.id"), index=True)  # the claimant's unit
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evidence: Mapped[str | None] = mapped_column(Text)
    evidence_photos: Mapped[list] = mapped_column(JSON, default=list)
    hours: Mapped[float | None] = mapped_column(Numeric(5, 1))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # escalated to the partner units
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Optimistic lock: of two claims read from the same published wish, the second UPDATE matches
    # no row (its version is gone) and is refused — the race has one winner on every database.
    version: Mapped[int] = mapped_column(default=1)

    events: Mapped[list["WishEvent"]] = relationship(
        back_populates="wish", order_by="WishEvent.id", cascade="all, delete-orphan")
    claimant = relationship("Member", foreign_keys=[claimant_id])
    unit = relationship("PartnerUnit", foreign_keys=[unit_id])
    resident = relationship("Resident")
    community = relationship("Community")

    __mapper_args__ = {"version_id_col": version}
    allowed_actions = ()  # set per answer by services.present, for whoever asked


class WishEvent(EventColumns, db.Model):
    """Append-only, like order_events."""
    __tablename__ = "wish_events"
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("wish_members.id"))
    wish: Mapped[Wish] = relationship(back_populates="events")


class VolunteerHours(db.Model):
    """Hours a member gave: for a confirmed wish (recorded by the confirmation) or for a volunteer
    task the community records (a patrol, an event)."""
    __tablename__ = "volunteer_hours"
    __table_args__ = (
        CheckConstraint("hours > 0 AND hours <= 24", name="hours"),
        CheckConstraint("wish_id IS NOT NULL OR task IS NOT NULL", name="what"),
        # A wish's hours are recorded once per person, however often the confirmation is retried.
        Index("uq_volunteer_hours_wish_member", "wish_id", "member_id", unique=True,
              sqlite_where=text("wish_id IS NOT NULL"), postgresql_where=text("wish_id IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("wish_members.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    wish_id: Mapped[int | None] = mapped_column(ForeignKey("wishes.id"))
    task: Mapped[str | None] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Numeric(4, 1))
    recorded_by: Mapped[str] = mapped_column(String(40))  # "staff:<id>" or "resident:<id>"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    member = relationship("Member")


class ListItem(db.Model):
    """One line of 三清单: a community's needs, a unit's resources, a joint project. Each side
    claims the other's (双认领): a unit takes up a community need, the community a unit's resource."""
    __tablename__ = "wish_list_items"
    __table_args__ = (
        CheckConstraint(_in("kind", LIST_KINDS), name="kind"),
        # the community lists needs, a unit lists resources; a project is either's
        CheckConstraint("kind <> 'need' OR unit_id IS NULL", name="need_is_community"),
        CheckConstraint("kind <> 'resource' OR unit_id IS NOT NULL", name="resource_is_unit"),
        CheckConstraint("NOT (claimed_by_unit_id IS NOT NULL AND claimed_by_community)", name="one_claimer"),
        CheckConstraint("(claimed_at IS NOT NULL) = (claimed_by_unit_id IS NOT NULL OR claimed_by_community)",
                        name="claimed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("partner_units.id"))  # None: the community's
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    detail: Mapped[str | None] = mapped_column(Text)
    claimed_by_unit_id: Mapped[int | None] = mapped_column(ForeignKey("partner_units.id"))
    claimed_by_community: Mapped[bool] = mapped_column(default=False)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    unit = relationship("PartnerUnit", foreign_keys=[unit_id])
    claimed_by_unit = relationship("PartnerUnit", foreign_keys=[claimed_by_unit_id])
