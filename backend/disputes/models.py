"""Disputes (矛盾纠纷) settled in five steps, 定、商、决、办、馈: the dispute, its parties, its
deliberation meetings, the orders that carry the decision out, and its append-only audit trail."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from ..lifecycle import EventColumns
from ..types import UTCDateTime

# The steps as states: 定 registered, 商 deliberating, (决 is the act that ends 商) 办 carrying_out,
# 馈 feedback; closed once the parties have been told.
STATES = ("registered", "deliberating", "carrying_out", "feedback", "closed")
OPEN_STATES = STATES[:-1]
DECIDED_STATES = ("carrying_out", "feedback", "closed")
# Who holds the dispute: the grid's party branch and workers, the community (its 四方 deliberation of
# 网格员, 业委会, 物业 and residents), then the sub-district's 矛盾纠纷多元化解调解中心, staffed by the
# street's admins (the street_admin rung: the centre is the street's, not a department with a category).
LEVELS = ("grid", "community", "street")
TOPICS = ("lift", "parking", "property_service", "neighbour", "other")
PARTY_KINDS = ("resident", "unit", "property", "committee", "other")
METHODS = ("agreement", "vote", "mediation")
CONSENTS = ("agreed", "declined")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


DISPUTE_CHECKS = {
    "state": _in("state", STATES),
    "level": _in("level", LEVELS),
    "topic": _in("topic", TOPICS),
    "method": f"decision_method IS NULL OR {_in('decision_method', METHODS)}",
    # a vote has its counts, and only a vote has them
    "vote_counts": "(decision_method = 'vote' AND votes_for IS NOT NULL AND votes_against IS NOT NULL "
                   "AND votes_abstain IS NOT NULL) OR (COALESCE(decision_method, '') <> 'vote' "
                   "AND votes_for IS NULL AND votes_against IS NULL AND votes_abstain IS NULL)",
    "votes_non_negative": "votes_for IS NULL OR (votes_for >= 0 AND votes_against >= 0 AND votes_abstain >= 0)",
    "decided": f"NOT {_in('state', DECIDED_STATES)} OR (decision IS NOT NULL AND decision_method IS NOT NULL)",
    "closed_feedback": "state <> 'closed' OR feedback IS NOT NULL",
    "published_text": "published_at IS NULL OR public_text IS NOT NULL",
    "due_open": f"(due_at IS NOT NULL) = ({_in('state', OPEN_STATES)})",
}


class Dispute(db.Model):
    __tablename__ = "disputes"
    __table_args__ = (
        Index("ix_disputes_due", "due_at"),
        # One dispute per order it started from.
        Index("uq_disputes_source_order_id", "source_order_id", unique=True),
        *(CheckConstraint(sql, name=name) for name, sql in DISPUTE_CHECKS.items()),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(Text)  # what is in dispute
    state: Mapped[str] = mapped_column(String(20), default="registered")
    level: Mapped[str] = mapped_column(String(20), default="grid")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    source_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    decision: Mapped[str | None] = mapped_column(Text)
    decision_method: Mapped[str | None] = mapped_column(String(20))
    votes_for: Mapped[int | None]
    votes_against: Mapped[int | None]
    votes_abstain: Mapped[int | None]
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    work_result: Mapped[str | None] = mapped_column(Text)
    feedback: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    public_text: Mapped[str | None] = mapped_column(Text)  # masked when published
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The current step's time limit; `overdue` once it passed at the top level (nobody above).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    parties: Mapped[list["DisputeParty"]] = relationship(
        back_populates="dispute", order_by="DisputeParty.id", cascade="all, delete-orphan")
    meetings: Mapped[list["DisputeMeeting"]] = relationship(
        back_populates="dispute", order_by="DisputeMeeting.held_at", cascade="all, delete-orphan")
    tasks: Mapped[list["DisputeTask"]] = relationship(
        back_populates="dispute", order_by="DisputeTask.id", cascade="all, delete-orphan")
    events: Mapped[list["DisputeEvent"]] = relationship(
        back_populates="dispute", order_by="DisputeEvent.id", cascade="all, delete-orphan")
    grid = relationship("Grid")
    community = relationship("Community")
    source_order = relationship("Order")

    __mapper_args__ = {"version_id_col": version}
    # Scope is one column per role (accounts.actors): no department holds a dispute.
    department_id = None
    resident_id = None
    allowed_actions = ()  # set per answer by services.present

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class DisputeParty(db.Model):
    __tablename__ = "dispute_parties"
    __table_args__ = (CheckConstraint(_in("kind", PARTY_KINDS), name="kind"),
                      CheckConstraint(f"consent IS NULL OR {_in('consent', CONSENTS)}", name="consent"),
                      CheckConstraint("(consent IS NULL) = (consent_at IS NULL)", name="consent_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    # Whether the party agrees to the outcome being published (公示); publication needs every one.
    consent: Mapped[str | None] = mapped_column(String(20))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispute: Mapped[Dispute] = relationship(back_populates="parties")


class DisputeMeeting(db.Model):
    """One deliberation (商) meeting: who came, what each side said, the minutes, photos."""
    __tablename__ = "dispute_meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[list] = mapped_column(JSON, default=list)
    positions: Mapped[str | None] = mapped_column(Text)
    minutes: Mapped[str] = mapped_column(Text)
    photos: Mapped[list] = mapped_column(JSON, default=list)
    dispute: Mapped[Dispute] = relationship(back_populates="meetings")


class DisputeTask(db.Model):
    """An order that carries part of the decision out (办): routed and time-limited like any other."""
    __tablename__ = "dispute_tasks"
    __table_args__ = (Index("uq_dispute_tasks_order_id", "order_id", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    dispute: Mapped[Dispute] = relationship(back_populates="tasks")
    order = relationship("Order")


class DisputeEvent(EventColumns, db.Model):
    """Append-only: one row per change, written in the change's transaction."""
    __tablename__ = "dispute_events"
    __table_args__ = (Index("uq_dispute_events_register", "dispute_id", unique=True,
                            sqlite_where=text("action = 'register'"),
                            postgresql_where=text("action = 'register'")),)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    level: Mapped[str] = mapped_column(String(20))
    dispute: Mapped[Dispute] = relationship(back_populates="events")
