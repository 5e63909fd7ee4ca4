"""What WeChat pushed to us, and which subscribe-message templates each resident granted."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, Index
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import db
from ..types import UTCDateTime

INBOUND_STATUSES = ("pending", "processing", "done", "failed", "ignored")


class WechatInbound(db.Model):
    """One push, stored before it is acknowledged: the unique msg_key is the final dedupe arbiter
    and a pending row is the work item a sweep re-enqueues when Redis was down."""

    __tablename__ = "wechat_inbound"
    __table_args__ = (Index("ix_wechat_inbound_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # MsgId for messages; FromUserName+CreateTime+Event for events (they carry no MsgId).
    msg_key: Mapped[str] = mapped_column(String(128), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    msg_type: Mapped[str] = mapped_column(String(30))
    event: Mapped[str | None] = mapped_column(String(60))
    content: Mapped[str | None] = mapped_column(Text)
    media_id: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    order_number: Mapped[str | None] = mapped_column(String(32))
    attachment_path: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WechatSubscription(db.Model):
    """A resident's answer for one template. Mini-program subscriptions are one-time: every
    'accept' allows one message, so grants are counted and spent."""

    __tablename__ = "wechat_subscriptions"
    __table_args__ = (UniqueConstraint("resident_id", "template_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    template_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(12))  # accept | reject | ban | refused (43101)
    grants: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    @property
    def usable(self) -> bool:
        return self.status == "accept" and self.grants > 0
