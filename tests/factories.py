"""Model factories: the smallest valid objects, with overridable fields."""
import itertools

from backend.accounts.actors import Actor
from backend.accounts.models import Resident, Staff
from backend.grids.models import Building, Community, Department, Grid, PropertyCompany, PropertyCompound, Street

from werkzeug.security import generate_password_hash

PASSWORD = "test-password"
# Hashing is deliberately slow (scrypt); hash once for every factory-made account.
_PASSWORD_HASH = generate_password_hash(PASSWORD)
_seq = itertools.count(1)


class Factory:
    def __init__(self, db):
        self.db = db

    def _save(self, obj):
        self.db.session.add(obj)
        self.db.session.commit()
        return obj

    def street(self, name=None):
        return self._save(Street(name=name or f"街道{next(_seq)}"))

    def community(self, street=None, name=None, aliases=None):
        street = street or self.street()
        return self._save(Community(street=street, name=name or f"社区{next(_seq)}", aliases=aliases or []))

    def grid(self, community=None, code=None, name=None):
        community = community or self.community()
        n = next(_seq)
        return self._save(Grid(community=community, code=code or f"g{n}", name=name or f"第{n}网格"))

    def building(self, grid=None, compound="水晶城小区", number=None, aliases=None):
        grid = grid or self.grid()
        return self._save(Building(grid=grid, compound=compound, number=number or next(_seq),
                                   units=3, aliases=aliases or []))

    def department(self, street=None, name=None, categories=None):
        street = street or self.street()
        return self._save(Department(street=street, name=name or f"部门{next(_seq)}",
                                     categories=categories or []))

    def property_company(self, *compounds, name=None):
        """A property company (物业) managing the (community, compound name) pairs given."""
        company = PropertyCompany(name=name or f"物业公司{next(_seq)}", compounds=[
            PropertyCompound(community_id=community.id, compound=compound) for community, compound in compounds])
        return self._save(company)

    def staff(self, role="grid_worker", grid=None, community=None, street=None, department=None,
              username=None, name="陈晓燕", property_company=None):
        staff = Staff(username=username or f"staff{next(_seq)}", name=name, role=role,
                      grid_id=grid.id if grid else None,
                      community_id=community.id if community else None,
                      street_id=street.id if street else None,
                      department_id=department.id if department else None,
                      property_company_id=property_company.id if property_company else None)
        staff.password_hash = _PASSWORD_HASH
        return self._save(staff)

    def resident(self, openid=None, name="王秀英", phone="13800138000"):
        return self._save(Resident(openid=openid or f"openid-{next(_seq)}", name=name, phone=phone))

    def world(self):
        """A street with one community, two grids, a building in each, and their staff."""
        street = self.street()
        community = self.community(street, name=f"水晶城社区{next(_seq)}", aliases=["水晶城小区"])
        g1, g2 = self.grid(community), self.grid(community)
        return {
            "street": street, "community": community, "grids": (g1, g2),
            "buildings": (self.building(g1, number=3), self.building(g2, number=8)),
            "workers": (self.staff("grid_worker", grid=g1), self.staff("grid_worker", grid=g2)),
            "leader": self.staff("grid_leader", grid=g1),
            "community_admin": self.staff("community_admin", community=community),
            "street_admin": self.staff("street_admin", street=street),
            "resident": self.resident(),
        }

    def passed_content_check(self, order):
        """WeChat's msg_sec_check passed (what the worker's job records): the public may read it."""
        from backend.accounts.actors import SYSTEM
        from backend.orders import services
        return services.perform(SYSTEM, order, "content_check", check="msg_sec_check", verdict="pass")

    def order(self, resident=None, **fields):
        from backend.orders import services
        resident = resident or self.resident()
        fields.setdefault("text", "楼道灯坏了")
        fields.setdefault("location_text", "水晶城小区3号楼2单元")
        fields.setdefault("category", "城乡建设/住房保障与房地产/物业服务")
        # A resident attaches photos by uploading them, never by URL (services._own_photos): the
        # factory puts the test's photos on the order as the upload would have.
        photos = fields.pop("photos", None)
        order = services.create_order(Actor.for_resident(resident), **fields)
        if photos:
            from backend import clock
            from backend.extensions import db
            from backend.orders.models import Attachment
            for photo in photos:
                details = {k: v for k, v in photo.items() if k != "path"} if isinstance(photo, dict) else {"url": photo}
                order.attachments.append(Attachment(kind="photo", created_at=clock.now(), **details))
            db.session.commit()
        return order


def count_orders(db, **where) -> int:
    """Orders stored with these column values, read afresh (what another process committed counts)."""
    from sqlalchemy import func, select
    from backend.orders.models import Order
    db.session.rollback()
    query = select(func.count()).select_from(Order)
    for name, value in where.items():
        query = query.where(getattr(Order, name) == value)
    return db.session.scalar(query)
