"""Demo community (`flask seed-demo`): idempotent — a second run finds the street and stops."""
from flask import current_app
from sqlalchemy import select

from . import clock
from .accounts.actors import Actor
from .accounts.models import Resident, Staff
from .extensions import db
from .grids.models import Building, Community, Department, Grid, PropertyCompany, PropertyCompound, Street
from .orders import intake, services
from .orders.models import Order

STREET = "新区街道"
COMMUNITIES = [
    # name, code, compound, aliases, buildings per grid
    ("水晶城社区", "sjc", "水晶城小区", ["水晶城", "水晶城小区"], 6),
    ("铁塔社区", "tt", "铁塔小区", ["铁塔", "铁塔小区", "铁塔新村"], 4),
]
DEPARTMENTS = [("区住房和城乡建设局", ["城乡建设", "国土资源"]), ("区医疗保障局", ["劳动和社会保障", "卫生计生"])]
RESIDENTS = [("demo-openid-1", "王秀英", "13800138001"), ("demo-openid-2", "李建国", "13900139002"),
             ("demo-openid-3", "张桂兰", "13700137003"), ("demo-openid-4", "刘洋", "13600136004")]
WORKER_NAMES = ["陈晓燕", "赵磊", "孙丽", "周强", "吴敏", "郑伟"]
LEADER_NAMES = ["钱芳", "冯军", "褚红", "卫东", "蒋静", "沈斌"]


def _staff(username, name, role, **scope) -> Staff:
    staff = Staff(username=username, name=name, role=role, **scope)
    staff.set_password(current_app.config["DEMO_PASSWORD"])
    db.session.add(staff)
    return staff


def seed() -> bool:
    """Create the demo data; False when it is already there."""
    if db.session.scalar(select(Street).where(Street.name == STREET)):
        return False
    street = Street(name=STREET)
    db.session.add(street)
    _staff("admin", "系统管理员", "sysadmin")
    db.session.flush()
    _staff("street", "何立新", "street_admin", street_id=street.id)
    n = 0
    for name, code, compound, aliases, per_grid in COMMUNITIES:
        community = Community(street=street, name=name, aliases=aliases)
        db.session.add(community)
        db.session.flush()
        _staff(f"{code}-admin", f"{name}书记", "community_admin", community_id=community.id)
        for g in range(1, 4):
            grid = Grid(community=community, code=f"{code}-{g}", name=f"{name}第{g}网格")
            db.session.add(grid)
            for b in range((g - 1) * per_grid + 1, g * per_grid + 1):
                db.session.add(Building(grid=grid, compound=compound, number=b, units=3))
            db.session.flush()
            _staff(f"{code}-wg{g}", WORKER_NAMES[n], "grid_worker", grid_id=grid.id,
                   phone=f"1351234{n:04d}")
            _staff(f"{code}-wgz{g}", LEADER_NAMES[n], "grid_leader", grid_id=grid.id)
            n += 1
        # "1+1+N+X": a delivery rider as a part-time member of the community's first grid (002).
        _staff(f"{code}-jz1", f"{name}外卖骑手", "grid_member", team_role="part_time",
               grid_id=db.session.scalar(select(Grid.id).where(Grid.code == f"{code}-1")))
    for i, (name, categories) in enumerate(DEPARTMENTS, start=1):
        department = Department(street=street, name=name, categories=categories)
        db.session.add(department)
        db.session.flush()
        _staff(f"dept{i}", f"{name}联络员", "department_liaison", department_id=department.id)
    residents = [Resident(openid=o, name=nm, phone=p) for o, nm, p in RESIDENTS]
    db.session.add_all(residents)
    db.session.commit()
    _demo_orders(residents)
    _demo_property()
    return True


def _demo_property() -> None:
    """水晶城小区's property company and its staff account, bound after the demo orders so they
    stay where they are; what residents send about the compound's property work from now on goes
    to it first (小区吹哨、物业报到)."""
    community = db.session.scalar(select(Community).where(Community.name == COMMUNITIES[0][0]))
    company = PropertyCompany(name="水晶城物业服务有限公司", phone="0571-86001234",
                              compounds=[PropertyCompound(community_id=community.id, compound=COMMUNITIES[0][2])])
    db.session.add(company)
    db.session.flush()
    _staff("sjc-wy", "物业客服马丽", "property_staff", property_company_id=company.id)
    db.session.commit()


def _demo_orders(residents) -> None:
    staff = {s.username: s for s in db.session.scalars(select(Staff))}
    me = [Actor.for_resident(r) for r in residents]
    worker = Actor.for_staff(staff["sjc-wg1"])
    services.create_order(me[0], text="3号楼2单元楼道灯坏了好几天了，晚上黑漆漆的老人上下楼不安全",
                          kind="repair", channel="wechat", location_text="水晶城小区3号楼2单元")
    o = services.create_order(me[1], text="小区门口窨井盖松动了，车一压就响，怕有人踩空",
                              kind="repair", channel="wechat", location_text="水晶城小区1号楼", grade="urgent")
    services.perform(worker, o, "claim")
    o = services.create_order(me[2], text="医保卡在药店刷不了，说是状态异常，不知道去哪里办",
                              kind="consultation", location_text="水晶城小区5号楼")
    services.perform(worker, o, "claim")
    services.perform(worker, o, "progress", note="已联系区医保局窗口，约好周三上午办理")
    o = services.create_order(me[3], text="楼下邻居养了三条狗，天天半夜叫，孩子睡不好",
                              kind="dispute", location_text="铁塔小区2号楼")
    tt = Actor.for_staff(staff["tt-wg1"])
    services.perform(tt, o, "claim")
    services.perform(tt, o, "resolve", result="已上门调解，邻居同意晚上把狗关在室内，并签了文明养犬承诺书")
    services.rate(me[3], o, "satisfied", "网格员很负责")
    services.create_order(me[0], text="希望社区能组织一次老年人智能手机培训", kind="wish",
                          location_text="水晶城小区")
    # What the grid finds on its rounds (one settled on the spot), a letter and a volunteer's visit.
    intake.record(worker, channel="patrol", text="2号楼前绿化带里的井盖缺了一角", location_text="水晶城小区2号楼",
                  done="已放置警示锥", kind="repair")
    intake.record(worker, channel="patrol", text="4号楼消防通道堆放了纸箱", location_text="水晶城小区4号楼",
                  done="已联系住户当场清走", settled=True)
    intake.record(Actor.for_staff(staff["sjc-admin"]), channel="letter", text="建议在小区东门加装一盏路灯",
                  location_text="水晶城小区6号楼", caller_name="老周", kind="suggestion",
                  opened_on=clock.local(clock.now(), current_app.config["TIMEZONE"]).date())
    intake.record(Actor.for_staff(staff["sjc-jz1"]), channel="visit", text="3号楼的王奶奶说家里水龙头漏水，想请人修",
                  location_text="水晶城小区3号楼", caller_name="王奶奶", caller_phone="13600001111", kind="repair")
    _demo_dispute(me[1], worker)


def _demo_dispute(resident: Actor, worker: Actor) -> None:
    """A parking dispute from a resident's order, in 商 after its first meeting (定商决办馈)."""
    from datetime import timedelta
    from . import clock
    from .disputes import services as disputes
    o = services.create_order(resident, text="地下车库我家登记的车位被别人长期占着，找物业说管不了",
                              kind="dispute", channel="wechat", location_text="水晶城小区1号楼")
    d = disputes.register(worker, topic="parking", order_number=o.number, parties=[
        {"kind": "resident", "name": "李建国"}, {"kind": "resident", "name": "1号楼占用车位的住户"},
        {"kind": "property", "name": "水晶城物业服务中心"}, {"kind": "committee", "name": "水晶城业委会"}])
    d = disputes.perform(worker, d, "open_deliberation", note="约定在党群服务站四方议事")
    disputes.perform(worker, d, "hold_meeting", held_at=clock.now() - timedelta(hours=2), place="水晶城党群服务站",
                     attendees=["网格员", "业委会", "物业服务中心", "李建国", "占用车位的住户"],
                     positions="车位登记人要求归还；占用方称车位闲置才停放；物业愿意施划临时车位",
                     minutes="各方同意一周内拿出车位登记材料，下次议事表决临时车位方案")


def accounts() -> list[tuple[str, str, str]]:
    """(username, role, name) of every staff account, for `make run` to print."""
    return [(s.username, s.role, s.name) for s in db.session.scalars(select(Staff).order_by(Staff.id))]


def order_count() -> int:
    return db.session.query(Order).count()
