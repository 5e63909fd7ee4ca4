"""Where things are: street (街道) → community (社区) → grid (网格) → building (楼栋); departments;
property companies (物业) and the compounds (小区) they manage."""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, JSON, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from ..types import UTCDateTime


class Street(db.Model):
    __tablename__ = "streets"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    communities: Mapped[list["Community"]] = relationship(back_populates="street")


class Community(db.Model):
    __tablename__ = "communities"
    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # Compound names and nicknames residents use for the community, e.g. "水晶城小区".
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    # 轮派 for the whole community: every grid of it follows unless the grid says otherwise.
    auto_assign: Mapped[bool] = mapped_column(default=False, server_default=false())
    # 危险词 and emergency numbers of its own (orders/emergencies.py), on top of the defaults in
    # templates/chat/emergencies.yml: {"words": {kind: [word, …]}, "phones": {label: number}}.
    emergency: Mapped[dict | None] = mapped_column(JSON)
    street: Mapped[Street] = relationship(back_populates="communities")
    grids: Mapped[list["Grid"]] = relationship(back_populates="community", order_by="Grid.code")


class Grid(db.Model):
    __tablename__ = "grids"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    # 轮派: new orders placed here go at intake to the on-duty worker with the fewest open orders
    # (orders/rota.py); off, they wait in the queue for 抢单 / 派单 as ever. None: as its community says.
    auto_assign: Mapped[bool | None] = mapped_column(default=None)
    community: Mapped[Community] = relationship(back_populates="grids")
    buildings: Mapped[list["Building"]] = relationship(back_populates="grid")


class Building(db.Model):
    __tablename__ = "buildings"
    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    compound: Mapped[str] = mapped_column(String(80))  # 小区 name
    number: Mapped[int]  # the 3 of "3号楼"
    units: Mapped[int] = mapped_column(default=1)
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    grid: Mapped[Grid] = relationship(back_populates="buildings")

    @property
    def label(self) -> str:
        return f"{self.compound}{self.number}号楼"


class Department(db.Model):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"))
    name: Mapped[str] = mapped_column(String(80), unique=True)
    # Top-level categories this department answers for, e.g. ["城乡建设"].
    categories: Mapped[list] = mapped_column(JSON, default=list)
    street: Mapped[Street] = relationship()


class PropertyCompany(db.Model):
    """A property company (物业企业): it reports (报到) for the compounds it manages, when a
    compound's problem is whistled to it (小区吹哨、物业报到)."""
    __tablename__ = "property_companies"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    compounds: Mapped[list["PropertyCompound"]] = relationship(
        back_populates="company", order_by="PropertyCompound.id", cascade="all, delete-orphan")


class PropertyCompound(db.Model):
    """A compound (a `Building.compound` name within a community) bound to its property company.
    One company per compound: the unique key is what makes "the compound's property" one answer."""
    __tablename__ = "property_compounds"
    __table_args__ = (UniqueConstraint("community_id", "compound"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    property_company_id: Mapped[int] = mapped_column(ForeignKey("property_companies.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    compound: Mapped[str] = mapped_column(String(80))
    company: Mapped[PropertyCompany] = relationship(back_populates="compounds")
    community: Mapped[Community] = relationship()


class DutyRoster(db.Model):
    """排班: a grid worker is on duty on a weekday (every week), or on a date (`on_duty` True: an
    extra day; False: a day off). A date beats the weekday; the worker's own 上班/下班 of the day
    beats both (grids/duty.py)."""
    __tablename__ = "duty_roster"
    __table_args__ = (
        CheckConstraint("(weekday IS NULL) <> (on_date IS NULL)", name="ck_duty_roster_one_day"),
        CheckConstraint("weekday IS NULL OR (weekday >= 0 AND weekday <= 6)", name="ck_duty_roster_weekday"),
        UniqueConstraint("staff_id", "weekday", name="uq_duty_roster_weekday"),
        UniqueConstraint("staff_id", "on_date", name="uq_duty_roster_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    weekday: Mapped[int | None] = mapped_column(SmallInteger)  # 0 = Monday
    on_date: Mapped[date | None]
    on_duty: Mapped[bool] = mapped_column(default=True)


class DutyEvent(db.Model):
    """The audit of 轮派's settings: one append-only row per change of a worker's 上班/下班, a roster
    line, or a grid's or community's rule, written in the change's own transaction."""
    __tablename__ = "duty_events"
    __table_args__ = (Index("ix_duty_events_grid_at", "grid_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    action: Mapped[str] = mapped_column(String(20))  # duty | roster_week | roster_day | grid_rule | community_rule
    actor_type: Mapped[str] = mapped_column(String(20))  # staff | system (a CLI run by an operator)
    actor_id: Mapped[int | None]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # before / after
