"""The privacy audit: one append-only row per handling of a resident's personal data that is not
an order change (those are the orders' own events): a staff read of an unmasked contact number, an
export, a deletion."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import db
from ..types import UTCDateTime

ACTIONS = ("read_contact", "export", "delete")


class PrivacyEvent(db.Model):
    __tablename__ = "privacy_events"
    __table_args__ = (Index("ix_privacy_events_resident_at", "resident_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    action: Mapped[str] = mapped_column(String(20))
    actor_type: Mapped[str] = mapped_column(String(20))  # staff | system (a CLI run by an operator)
    actor_id: Mapped[int | None]
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    # Where it happened (api, console, cli) and what was involved; never the personal data itself.
    data: Mapped[dict] = mapped_column(JSON, default=dict)
