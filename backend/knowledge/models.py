"""知识库 rows: entries (one question, the ways residents ask it, the answer), their audit trail, and
the questions residents asked that the bot answered, offered or declined."""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from ..types import UTCDateTime

# The nearer one wins: a community's entry before its street's, a street's before the district's.
SCOPES = ("district", "street", "community")
OUTCOMES = ("answered", "offered", "declined")


class KnowledgeEntry(db.Model):
    __tablename__ = "knowledge_entries"
    __table_args__ = (
        CheckConstraint("scope IN ('district', 'street', 'community')", name="ck_knowledge_entries_scope"),
        CheckConstraint("(scope = 'district' AND street_id IS NULL AND community_id IS NULL)"
                        " OR (scope = 'street' AND street_id IS NOT NULL AND community_id IS NULL)"
                        " OR (scope = 'community' AND community_id IS NOT NULL)",
                        name="ck_knowledge_entries_scope_ids"),
        Index("ix_knowledge_entries_scope", "scope", "street_id", "community_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    question: Mapped[str] = mapped_column(String(200))
    variants: Mapped[list] = mapped_column(JSON, default=list)  # other ways residents ask it
    answer: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(40))
    place: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(40))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The seed's key (the bot's former FAQ answer it came from), or None for staff's own entries.
    seed_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    source_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    editor = relationship("Staff")
    community = relationship("Community")
    street = relationship("Street")

    def valid_on(self, day: date) -> bool:
        return self.active and (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until)

    @property
    def scope_name(self) -> str:
        if self.scope == "community" and self.community is not None:
            return self.community.name
        if self.scope == "street" and self.street is not None:
            return self.street.name
        return "全区"


class KnowledgeEvent(db.Model):
    """Who changed an entry, when, and what it was before (the audit trail)."""
    __tablename__ = "knowledge_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("knowledge_entries.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # add, edit, retire, restore, import, seed, adopt
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field → [before, after]
    actor = relationship("Staff")
    entry = relationship(KnowledgeEntry)


class KnowledgeQuestion(db.Model):
    """A resident's question and what the bot did with it; the declined and offered ones are the
    console's 待补充 list, grouped by similarity."""
    __tablename__ = "knowledge_questions"
    __table_args__ = (
        CheckConstraint("outcome IN ('answered', 'offered', 'declined')", name="ck_knowledge_questions_outcome"),
        Index("ix_knowledge_questions_outcome_at", "outcome", "asked_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(500))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"))
    outcome: Mapped[str] = mapped_column(String(10))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_entries.id"))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Set when staff answered it with an entry (the group leaves the list).
    resolved_entry_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_entries.id"))
