"""Orders (诉求/工单), their append-only audit trail, attachments and the number sequence."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from ..types import UTCDateTime
from . import states

CHANNELS = ("wechat", "h5", "hotline", "walk_in", "photo_report")
KINDS = ("complaint", "repair", "suggestion", "consultation", "wish", "dispute")
GRADES = ("urgent", "normal")
# The escalation ladder, bottom to top ("网格吹哨、部门报到").
RUNGS = ("grid_worker", "grid_leader", "community", "street", "department")


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_state_grid", "state", "grid_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(80))  # taxonomy path "城乡建设/物业管理"
    category_confidence: Mapped[float | None]
    grade: Mapped[str] = mapped_column(String(10), default="normal")
    text: Mapped[str] = mapped_column(Text)
    location_text: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default=states.SUBMITTED, index=True)
    rung: Mapped[str] = mapped_column(String(20), default="grid_worker")
    # Routing: building → grid → community. An unplaced order has only a community (the pool).
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    # Flags a person should look at: unplaced, bot_unavailable, unclassified, content_flagged …
    flags: Mapped[list] = mapped_column(JSON, default=list)
    claim_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ack_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(Text)
    rating_score: Mapped[int | None]
    rating_comment: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic lock: a concurrent change to the same order loses instead of overwriting.
    version: Mapped[int] = mapped_column(default=1)

    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan")
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="order", order_by="Attachment.id", cascade="all, delete-orphan")
    resident = relationship("Resident")
    assignee = relationship("Staff")
    grid = relationship("Grid")
    building = relationship("Building")
    community = relationship("Community")
    department = relationship("Department")

    __mapper_args__ = {"version_id_col": version}

    def add_flag(self, flag: str) -> None:
        if flag not in (self.flags or []):
            self.flags = [*(self.flags or []), flag]

    def drop_flag(self, flag: str) -> None:
        self.flags = [f for f in (self.flags or []) if f != flag]

    @property
    def is_open(self) -> bool:
        return self.state in states.OPEN_STATES


class OrderEvent(db.Model):
    """Append-only: rows are inserted with the change they describe and never edited."""

    __tablename__ = "order_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    actor_type: Mapped[str] = mapped_column(String(20))  # resident, staff, system, bot
    actor_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    order: Mapped[Order] = relationship(back_populates="events")


class Attachment(db.Model):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("order_events.id"))
    kind: Mapped[str] = mapped_column(String(20), default="photo")
    url: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str | None] = mapped_column(String(80))
    size: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    order: Mapped[Order] = relationship(back_populates="attachments")
    event: Mapped[OrderEvent | None] = relationship()


class OrderSequence(db.Model):
    """Per-day counter behind human-readable numbers (HX20261122-0007)."""

    __tablename__ = "order_sequences"
    __table_args__ = (UniqueConstraint("prefix", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(8))
    day: Mapped[str] = mapped_column(String(8))
    last: Mapped[int] = mapped_column(default=0)
