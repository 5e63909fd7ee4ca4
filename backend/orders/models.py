"""Orders (诉求/工单), their append-only audit trail, attachments and the number sequence."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, FetchedValue, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from ..lifecycle import EventColumns
from ..masking import mask
from ..types import UTCDateTime
from . import states

CHANNELS = ("wechat", "miniprogram", "h5", "hotline", "walk_in", "photo_report", "open311", "patrol", "letter", "visit")
# Channels a resident (or the bot for them) may name: WeChat's customer-service chat (wechat, the
# message push), the mini-program's own pages (miniprogram: its chat, 随手拍 and 附议) and the H5
# pages (h5). The others are entered by staff: hotline calls, walk-ins, photo reports, what grid
# staff find on their rounds (patrol), letters from the paper mailbox (letter) and what residents
# tell the walking volunteers (visit).
RESIDENT_CHANNELS = ("wechat", "miniprogram", "h5")
# What staff found themselves, as against what residents reported (the dashboard counts both).
FOUND_CHANNELS = ("patrol",)
# 投诉, 报修, 建议, 咨询, 微心愿, 矛盾纠纷 (a conflict between people only), 求助. Unless a person chose it,
# an order's kind is predicted from its text (backend/kinds).
KINDS = ("complaint", "repair", "suggestion", "consultation", "wish", "dispute", "help")
GRADES = ("urgent", "normal")
# The escalation ladder, bottom to top ("网格吹哨、部门报到").
LADDER = ("grid_worker", "grid_leader", "community", "street", "department")
# Beside the ladder: the compound's property company (小区吹哨、物业报到); a miss sends it back up
# to the community, never further along.
RUNGS = (*LADDER, "property")
# 回访评价 on the 12345 hotline's scale: 满意, 基本满意, 不满意.
SATISFACTIONS = ("satisfied", "basically_satisfied", "unsatisfied")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# What the database itself guarantees about an order's lifecycle fields (the lifecycle table keeps
# them so; a bug that would break one fails the transaction instead of storing a wrong order).
ORDER_CHECKS = {
    "state": _in("state", states.STATES),
    "rung": _in("rung", RUNGS),
    "grade": _in("grade", GRADES),
    "channel": _in("channel", CHANNELS),
    "kind": _in("kind", KINDS),
    # an assignee exactly while the order is claimed or in progress
    "assignee_claimed": f"(assignee_id IS NOT NULL) = ({_in('state', states.CLAIMED_STATES)})",
    # a current deadline exactly while someone owes the resident work
    "due_open": f"(due_at IS NOT NULL) = ({_in('state', states.OPEN_STATES)})",
    "rating_source": "rating_source IS NULL OR rating_source IN ('resident', 'callback')",
    "satisfaction": f"satisfaction IS NULL OR {_in('satisfaction', SATISFACTIONS)}",
    "rated_satisfied": f"state <> 'rated' OR {_in('satisfaction', SATISFACTIONS[:2])}",
    "resolved_result": f"NOT {_in('state', ('resolved', 'rated'))} OR (result IS NOT NULL AND resolved_at IS NOT NULL)",
    "department_rung": "rung <> 'department' OR department_id IS NOT NULL",
    "property_rung": "rung <> 'property' OR property_company_id IS NOT NULL",
    "reopen_count": "reopen_count >= 0",
    # merged into another order exactly while in the merged state, never into itself
    "merged_into": f"(merged_into_id IS NOT NULL) = (state = '{states.MERGED}') AND merged_into_id <> id",
}


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_state_grid", "state", "grid_id"),
        # "Touched since" (figures.rows_since) ORs these three with the open states: each an index,
        # so the period's orders are found without reading the history behind them.
        Index("ix_orders_created_at", "created_at"),
        Index("ix_orders_resolved_at", "resolved_at"),
        Index("ix_orders_rated_at", "rated_at"),
        # Touched in a month (every change sets updated_at): the orders the month's 考核 reads
        # (orders/assessment.py), however long the history behind them.
        Index("ix_orders_updated_at", "updated_at"),
        # Every staff scope is one of these columns (accounts.actors): the scope's orders of a period,
        # and its newest first (the desk), read without the rest of the district's history.
        Index("ix_orders_street_created", "street_id", "created_at"),
        Index("ix_orders_community_created", "community_id", "created_at"),
        Index("ix_orders_grid_created", "grid_id", "created_at"),
        # The other arms of "touched since" (figures._touched_since) within a street or community
        # (migration a8c0e2f4b6d1): with only the table-wide ones above, a city's database (10M
        # orders) made the planner read a community's whole history for the month's figures.
        Index("ix_orders_street_resolved", "street_id", "resolved_at"),
        Index("ix_orders_street_rated", "street_id", "rated_at"),
        Index("ix_orders_street_state", "street_id", "state"),
        Index("ix_orders_community_resolved", "community_id", "resolved_at"),
        Index("ix_orders_community_rated", "community_id", "rated_at"),
        Index("ix_orders_community_state", "community_id", "state"),
        # One order per intake: a retry carrying the same key finds the first (services.create_order).
        Index("uq_orders_idempotency_key", "idempotency_key", unique=True),
        *(CheckConstraint(sql, name=name) for name, sql in ORDER_CHECKS.items()),  # ck_orders_<name>
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # FetchedValue: the database may set it (next_order_number in the INSERT); RETURNING reads it back.
    number: Mapped[str] = mapped_column(String(32), unique=True, server_default=FetchedValue())
    # "<resident id>:<source key>": an Idempotency-Key header, a WeChat MsgId, a chat client id, or
    # a key derived for one bot turn. NULL for orders taken down without one (staff entries).
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(80))  # taxonomy path "L1/L2[/L3]", e.g. "城乡建设/住房保障与房地产/物业服务"
    category_confidence: Mapped[float | None]
    grade: Mapped[str] = mapped_column(String(10), default="normal")
    text: Mapped[str] = mapped_column(Text)
    location_text: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(40))  # a phone number to call back
    caller_name: Mapped[str | None] = mapped_column(String(40))  # who called or came in (staff-entered)
    state: Mapped[str] = mapped_column(String(20), default=states.SUBMITTED, index=True)
    rung: Mapped[str] = mapped_column(String(20), default="grid_worker")
    # Routing: building → grid → community. An unplaced order has only a community (the pool).
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    # The community's street, kept on the order so every role's scope is one column (accounts.actors).
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # The property company the order was given to (at creation or by 派给物业). It stays after the
    # order goes back to the community: the property's figures count what it was given.
    property_company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    # The staff member who entered it (a patrol report, a letter, a call); a part-time grid member's
    # whole scope (accounts.actors).
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    resolver_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # Flags a person should look at: unplaced, bot_unavailable, unclassified, content_flagged …
    flags: Mapped[list] = mapped_column(JSON, default=list)
    claim_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ack_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The deadline that matters now (claim, acknowledge or resolve), kept by the lifecycle; every
    # list, queue score and the SLA tick read it. None once nobody owes work.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    result: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str | None] = mapped_column(String(20))
    rating_score: Mapped[int | None]  # the 1–5 score when the resident gave one
    rating_comment: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 合并: the original this duplicate was closed into (state merged); its reporter is a co-reporter there.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    # Whose rating `satisfaction` is: "resident" (rated it themselves) or "callback" (staff recorded
    # the answer on the phone, 回访); the figures count 回访满意率 apart. None before any rating.
    rating_source: Mapped[str | None] = mapped_column(String(10))
    # Optimistic lock: a concurrent change to the same order loses instead of overwriting.
    version: Mapped[int] = mapped_column(default=1)

    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan")
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="order", order_by="Attachment.id", cascade="all, delete-orphan")
    resident = relationship("Resident")
    assignee = relationship("Staff", foreign_keys=[assignee_id])
    resolver = relationship("Staff", foreign_keys=[resolver_id])
    reporter = relationship("Staff", foreign_keys=[reporter_id])
    grid = relationship("Grid")
    building = relationship("Building")
    community = relationship("Community")
    department = relationship("Department")
    property_company = relationship("PropertyCompany")
    merged_into = relationship("Order", remote_side=[id], foreign_keys=[merged_into_id])
    co_reporters: Mapped[list["CoReporter"]] = relationship(
        back_populates="order", order_by="CoReporter.id", foreign_keys="CoReporter.order_id",
        cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}
    # Set per response by services.present, for whoever asked (not stored): what they may do, and
    # the caller's phone and name as they may see them (masked unless their work needs them).
    allowed_actions = ()
    contact_shown = None
    caller_shown = None
    # Set by create_order when a retried intake found this order instead of making one.
    replayed = False
    # {"grid": (id, name), "community": (id, name)}, set by create_order from routing's snapshot:
    # answering a new order loads no grid or community row. A name holds only while the order is
    # still there (a transfer in the same session moves it).
    known_names: dict = {}
    # Set by duplicates.attach for staff at intake and on the console's order page (issue 20):
    # [{"number", "score", "state"}]; None elsewhere (an action's answer), never for residents.
    possible_duplicates = None
    # Set by services.present: the asking resident co-reported it (issue 20) and reads their own view.
    co_view = False
    co_viewer = None  # … and their id (the timeline hides other residents' notes from them)

    @property
    def grid_shown(self) -> str | None:
        return self._shown("grid", self.grid_id)

    @property
    def community_shown(self) -> str | None:
        return self._shown("community", self.community_id)

    def _shown(self, relation: str, current_id) -> str | None:
        known = self.known_names.get(relation)
        if known and known[0] == current_id:
            return known[1]
        related = getattr(self, relation) if current_id else None
        return related.name if related else None

    @property
    def text_shown(self) -> str:
        """The words as the asker may read them: a co-reporter reads another resident's, masked."""
        return mask(self.text) if self.co_view else self.text

    @property
    def location_shown(self) -> str | None:
        return mask(self.location_text) if self.co_view and self.location_text else self.location_text

    @property
    def photos_shown(self) -> list:
        """The reporter's photos are theirs: a co-reporter sees none (nor could fetch them)."""
        return [] if self.co_view else list(self.attachments)

    def add_flag(self, flag: str) -> None:
        if flag not in (self.flags or []):
            self.flags = [*(self.flags or []), flag]

    def drop_flag(self, flag: str) -> None:
        self.flags = [f for f in (self.flags or []) if f != flag]

    @property
    def is_open(self) -> bool:
        return self.state in states.OPEN_STATES


class OrderEvent(EventColumns, db.Model):
    """Append-only: rows are inserted with the change they describe and never edited."""

    __tablename__ = "order_events"
    # An order is submitted once: a retried intake cannot write a second "submit" to its history.
    __table_args__ = (Index("uq_order_events_submit", "order_id", unique=True,
                            sqlite_where=text("action = 'submit'"),
                            postgresql_where=text("action = 'submit'")),
                      # When each order was first taken (figures.periods): a probe of a few entries
                      # per order, not of its whole history.
                      Index("ix_order_events_taken", "order_id", "created_at",
                            sqlite_where=text("action IN ('claim', 'assign')"),
                            postgresql_where=text("action IN ('claim', 'assign')")))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    order: Mapped[Order] = relationship(back_populates="events")


class CoReporter(db.Model):
    """A resident who reported the same problem (附议, or their order merged into this one by staff):
    followed like the reporter. `from_order_id`: the merged duplicate it came with (None: 附议)."""

    __tablename__ = "co_reporters"
    __table_args__ = (UniqueConstraint("order_id", "resident_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    from_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    order: Mapped[Order] = relationship(back_populates="co_reporters", foreign_keys=[order_id])


class CannedReply(db.Model):
    """常用语: a community's ready-made reply, with VARIABLES filled in when it is sent."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("community_id", "title"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    title: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


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
    """Per-day counter behind human-readable numbers (HX20261122-0007). On SQLite `last` is the last
    number given; on PostgreSQL the sequence value just before the day's first (see numbers.py)."""

    __tablename__ = "order_sequences"
    __table_args__ = (UniqueConstraint("prefix", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(8))
    day: Mapped[str] = mapped_column(String(8))
    last: Mapped[int] = mapped_column(default=0)
