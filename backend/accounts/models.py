"""People: residents (WeChat users) and staff (grid workers up to sub-district admins, property staff)."""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, validates
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..types import UTCDateTime
from .. import clock

ROLES = ("grid_worker", "grid_leader", "grid_member", "community_admin", "street_admin", "department_liaison",
         "property_staff", "sysadmin")
# Which scope column each role is bound to.
ROLE_SCOPE = {
    "grid_worker": "grid", "grid_leader": "grid", "grid_member": "grid", "community_admin": "community",
    "street_admin": "street", "department_liaison": "department", "property_staff": "property_company",
    "sysadmin": None,
}


# A grid's "1+1+N+X" team: its leader, a full-time worker, N part-time members (delivery riders,
# volunteers) and X others. The leader and the full-time worker are the ladder's grid roles; part-time
# members and others are `grid_member`s, who report what they see but take no orders.
TEAM_ROLES = ("leader", "full_time", "part_time", "other")
TEAM_OF_ROLE = {"grid_leader": ("leader",), "grid_worker": ("full_time",), "grid_member": ("part_time", "other")}


def _team_check() -> str:
    grid = " OR ".join(f"(role = '{role}' AND team_role IN ({', '.join(repr(t) for t in teams)}))"
                       for role, teams in TEAM_OF_ROLE.items())
    others = ", ".join(repr(r) for r in TEAM_OF_ROLE)
    return f"{grid} OR (role NOT IN ({others}) AND team_role IS NULL)"


def _default_team(context) -> str | None:
    teams = TEAM_OF_ROLE.get(context.get_current_parameters().get("role"))
    return teams[0] if teams else None


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "*" * len(phone)


def mask_name(name: str | None) -> str | None:
    if not name:
        return None
    return name[0] + "*" * max(1, len(name) - 1)


class Resident(db.Model):
    __tablename__ = "residents"
    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Carried by the resident's tokens and H5 cookie; logout bumps it (accounts/sessions.py).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def phone_masked(self):
        return mask_phone(self.phone)

    @property
    def name_masked(self):
        return mask_name(self.name)


class Staff(db.Model):
    __tablename__ = "staff"
    # A team role exactly for the grid roles, and the one that fits the role (ck_staff_team_role).
    __table_args__ = (CheckConstraint(_team_check(), name="team_role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(30))
    team_role: Mapped[str | None] = mapped_column(String(20), default=_default_team)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    property_company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # 上班/下班, the worker's own toggle (POST /api/v1/me/duty): 轮派 gives new orders only to those on duty.
    on_duty: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The local day of the last toggle: that day the toggle beats the roster (grids/duty.py).
    duty_set_on: Mapped[date | None]
    # Carried by the account's tokens and console cookie (accounts/sessions.py): bumped by logout, a
    # new password and (de)activation, so none of those leaves an old token or a copied cookie working.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    def set_password(self, password: str) -> None:
        if self.password_hash:  # a new password, not a first one: what the old one opened ends
            self.session_version = (self.session_version or 0) + 1
        self.password_hash = generate_password_hash(password)

    @validates("active")
    def _sessions_end_when_active_changes(self, _key, value):
        # Deactivation ends every session; reactivation does not bring back the ones it ended.
        if self.active is not None and bool(value) != bool(self.active):
            self.session_version = (self.session_version or 0) + 1
        return value

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def name_masked(self):
        return mask_name(self.name)
