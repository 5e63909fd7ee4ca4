"""Property companies (物业) are created from the command line, bound to compounds of a community,
with staff accounts of their own; an order of a bound compound then goes to them."""
import re

from sqlalchemy import func, select

from backend.accounts.models import Staff
from backend.grids.models import PropertyCompany


def _run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_a_company_bound_to_a_compound_gets_that_compounds_property_work(app, db, redis, make, world):
    community = world["community"]
    made = _run(app, "add-property-company", "绿城物业", "--compound", f"{community.name}:水晶城小区",
                "--phone", "0571-88886666")
    assert made.exit_code == 0, made.output
    staff = _run(app, "add-property-staff", "绿城物业", "lc-wang", "王师傅")
    assert staff.exit_code == 0, staff.output
    password = re.search(r"初始密码：(\S+)", staff.output).group(1)
    db.session.rollback()
    keeper = db.session.scalar(select(Staff).where(Staff.username == "lc-wang"))
    company = db.session.scalar(select(PropertyCompany).where(PropertyCompany.name == "绿城物业"))
    assert keeper.role == "property_staff" and keeper.property_company_id == company.id
    assert keeper.check_password(password)
    order = make.order(world["resident"], category="城乡建设/住房保障与房地产/物业服务")
    assert (order.rung, order.property_company_id) == ("property", company.id)
    # Running it again changes nothing: the compound is already the company's.
    assert _run(app, "add-property-company", "绿城物业", "--compound", f"{community.name}:水晶城小区").exit_code == 0
    db.session.rollback()
    assert len(db.session.get(PropertyCompany, company.id).compounds) == 1


def test_a_compound_managed_by_one_company_is_refused_to_another(app, db, redis, world):
    where = f"{world['community'].name}:水晶城小区"
    assert _run(app, "add-property-company", "绿城物业", "--compound", where).exit_code == 0
    refused = _run(app, "add-property-company", "金地物业", "--compound", where)
    assert refused.exit_code != 0 and "已由绿城物业管理" in refused.output
    db.session.rollback()
    assert db.session.scalar(select(PropertyCompany).where(PropertyCompany.name == "金地物业")) is None


def test_unknown_places_and_taken_usernames_are_refused_in_chinese(app, db, redis, world):
    assert "没有这个社区" in _run(app, "add-property-company", "绿城物业", "--compound", "无名社区:某小区").output
    assert "社区名:小区名" in _run(app, "add-property-company", "绿城物业", "--compound", "水晶城小区").output
    assert "没有这个物业公司" in _run(app, "add-property-staff", "无名物业", "x1", "某人").output
    assert _run(app, "add-property-company", "绿城物业", "--compound", f"{world['community'].name}:水晶城小区").exit_code == 0
    taken = world["workers"][0].username
    assert "已被使用" in _run(app, "add-property-staff", "绿城物业", taken, "某人").output


def _registry_with_properties(extra_property_rows=()):
    from tests.grids.test_registry import SHEETS
    return {
        **SHEETS,
        "物业": [["物业公司", "社区", "小区", "电话"], ["绿城物业", "阳光社区", "阳光花园", "0571-88886666"],
                 ["绿城物业", "月亮湾社区", "月亮湾小区", ""], *extra_property_rows],
        "人员": [SHEETS["人员"][0][:-1] + ["物业公司", "在岗"], *[r[:-1] + ["", r[-1]] for r in SHEETS["人员"][1:]],
                 ["lc-wang", "王师傅", "物业人员", "", "", "", "", "", "绿城物业", "是"]],
    }


def test_the_registry_imports_property_companies_their_compounds_and_staff(db, redis):
    from backend.grids import registry
    from backend.grids.models import PropertyCompound
    from backend.grids.property import company_id_for_building
    from backend.grids.routing import place
    from tests.grids.test_registry import workbook
    report = registry.import_registry([("r.xlsx", workbook(_registry_with_properties()))])
    assert report.ok, [str(p) for p in report.problems]
    assert report.counts["properties"]["created"] == 2 and report.counts["property_companies"]["created"] == 1
    company = db.session.scalar(select(PropertyCompany).where(PropertyCompany.name == "绿城物业"))
    assert company.phone == "0571-88886666" and len(company.compounds) == 2
    keeper = db.session.scalar(select(Staff).where(Staff.username == "lc-wang"))
    assert keeper.role == "property_staff" and keeper.property_company_id == company.id
    assert company_id_for_building(place("阳光花园5号楼").building.id) == company.id
    # The export reads back unchanged.
    again = registry.import_registry([("current.xlsx", registry.export_registry())])
    assert again.ok and all(c["created"] == c["updated"] == 0 for c in again.counts.values()), again.counts
    assert db.session.scalar(select(func.count()).select_from(PropertyCompound)) == 2


def test_the_registry_refuses_a_compound_for_two_companies_and_property_staff_without_one(db, redis):
    from backend.grids import registry
    from tests.grids.test_registry import workbook
    sheets = _registry_with_properties([["金地物业", "阳光社区", "阳光花园", ""]])
    sheets["人员"].append(["lc-li", "李师傅", "property_staff", "", "", "", "", "", "", "是"])
    report = registry.import_registry([("r.xlsx", workbook(sheets))])
    assert not report.ok and db.session.scalar(select(func.count()).select_from(PropertyCompany)) == 0
    assert {str(p) for p in report.problems} == {
        "物业 第4行「物业公司」：阳光社区阳光花园已由绿城物业管理",
        "人员 第6行「物业公司」：物业人员必须填写物业公司"}
