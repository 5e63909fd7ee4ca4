"""Property companies (物业) and the compounds they manage: which company answers for an order's
compound, which categories are property work, and creating companies, their compounds and staff.

A compound is a `Building.compound` name within a community, so a company is bound to
(community, compound) pairs; the unique key on that pair makes the answer one company."""
import logging
import secrets

from flask import current_app
from sqlalchemy import select

from ..accounts.models import Staff
from ..errors import ValidationFailed
from ..extensions import db
from ..text import clean, for_matching
from .models import Building, Community, Grid, PropertyCompany, PropertyCompound

log = logging.getLogger(__name__)


def company_id_for_building(building_id: int | None) -> int | None:
    """The property company managing the building's compound, if one is bound."""
    if building_id is None:
        return None
    # Read from routing's per-process snapshot of the registry (compounds included), kept current
    # the same way: property work at intake costs no query.
    from .routing import property_company_of
    return property_company_of(building_id)


def is_property_work(category: str | None) -> bool:
    """Categories offered to the property first (PROPERTY_CATEGORIES: taxonomy paths, a path
    covers the nodes under it)."""
    if not category:
        return False
    paths = [p.strip() for p in current_app.config.get("PROPERTY_CATEGORIES", "").split(",") if p.strip()]
    return any(category == p or category.startswith(p + "/") for p in paths)


# --- the registry of companies ----------------------------------------------------------------

def _community(name: str) -> Community:
    community = db.session.scalar(select(Community).where(Community.name == clean(name)))
    if community is None:
        db.session.rollback()
        raise ValidationFailed(f"没有这个社区：{name}", fields={"community": ["unknown community"]})
    return community


def save_company(name: str, compounds: list[tuple[str, str]], phone: str | None = None) -> PropertyCompany:
    """Create the company or update it in place (matched by name), binding it to each
    (community name, compound name). A compound already bound to another company is refused:
    moving a compound between companies is a decision to make on purpose, not by a typo."""
    name = clean(name or "").strip()
    if not name:
        raise ValidationFailed("请填写物业公司名称", fields={"name": ["required"]})
    company = db.session.scalar(select(PropertyCompany).where(PropertyCompany.name == name))
    if company is None:
        company = PropertyCompany(name=name)
        db.session.add(company)
    if phone:
        company.phone = clean(phone).strip()
    for community_name, compound in compounds:
        community = _community(community_name)
        compound = clean(compound).strip()
        bound = db.session.scalar(select(PropertyCompound).where(
            PropertyCompound.community_id == community.id, PropertyCompound.compound == compound))
        if bound is not None and bound.company is not company:
            db.session.rollback()
            raise ValidationFailed(f"{community.name}{compound}已由{bound.company.name}管理",
                                   fields={"compound": ["bound to another company"]})
        if bound is None:
            company.compounds.append(PropertyCompound(community_id=community.id, compound=compound))
    db.session.commit()
    log.info("property company %s saved with %d compounds", company.name, len(company.compounds))
    return company


def add_staff(company_name: str, username: str, name: str, phone: str | None = None) -> tuple[Staff, str]:
    """A property staff account; returns it with its first password (shown once)."""
    company = db.session.scalar(select(PropertyCompany).where(PropertyCompany.name == clean(company_name)))
    if company is None:
        raise ValidationFailed(f"没有这个物业公司：{company_name}", fields={"company": ["unknown company"]})
    username = for_matching(username)
    if not username or db.session.scalar(select(Staff.id).where(Staff.username == username)):
        raise ValidationFailed("用户名为空或已被使用", fields={"username": ["taken or blank"]})
    password = secrets.token_urlsafe(9)
    staff = Staff(username=username, name=clean(name), phone=clean(phone), role="property_staff",
                  property_company_id=company.id, active=True)
    staff.set_password(password)
    db.session.add(staff)
    db.session.commit()
    log.info("property staff %s added to %s", username, company.name)
    return staff, password
