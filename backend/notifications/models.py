"""Notifications and the outbox: durable rows written in the same transaction as the change that
caused them, delivered later by a worker job (with retries), never silently lost."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, Index
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import db
from ..types import UTCDateTime

STATUSES = ("pending", "sent", "failed", "skipped")


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    recipient_type: Mapped[str] = mapped_column(String(20))  # resident | staff
    recipient_id: Mapped[int]
    # console | wechat_cs (customer-service message) | wechat_subscribe | …
    channel: Mapped[str] = mapped_column(String(30))
    kind: Mapped[str] = mapped_column(String(30))  # claimed, escalated, resolved, reopened, reply, supervise …
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
