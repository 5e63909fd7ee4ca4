"""Where things are: street (街道) → community (社区) → grid (网格) → building (楼栋); departments."""
from sqlalchemy import ForeignKey, String, JSON
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


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
    street: Mapped[Street] = relationship(back_populates="communities")
    grids: Mapped[list["Grid"]] = relationship(back_populates="community", order_by="Grid.code")


class Grid(db.Model):
    __tablename__ = "grids"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
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
