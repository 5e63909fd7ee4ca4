"""Issue 24, item 4: a scoped registry. A community admin imports and exports their own community's
sheet (grids, buildings, staff), a street admin their street's; a row of another scope is a problem
like any other, so the whole file imports nothing (the all-or-nothing checks stay)."""
import copy
import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from backend.accounts.models import Staff
from backend.grids import registry, staff as staff_service
from backend.grids.models import Building, Grid
from backend.accounts.actors import Actor
from tests.grids.test_registry import SHEETS, workbook


def _base(db):
    report = registry.import_registry([("台账.xlsx", workbook())])  # the sysadmin's whole registry
    assert report.ok
    sunshine = db.session.scalar(select(Grid).where(Grid.code == "yg-01")).community
    moon = db.session.scalar(select(Grid).where(Grid.code == "yl-01")).community
    return sunshine, moon


def _own_sheet():
    """阳光社区's own sheet: a new grid, a new building in it, a new worker."""
    return {"网格": [["网格编码", "网格名称", "所属社区"], ["yg-03", "阳光第三网格", "阳光社区"]],
            "楼栋": [["小区", "楼号", "单元数", "网格编码", "别名"], ["阳光花园", 7, 2, "yg-03", ""]],
            "人员": [["账号", "姓名", "角色", "电话", "网格编码", "社区", "街道", "部门", "在岗"],
                   ["wangfang", "王芳", "网格员", "", "yg-03", "", "", "", "是"]]}


def test_a_community_admin_imports_their_own_communitys_sheet(db, redis, make):
    sunshine, _ = _base(db)
    scope = registry.Scope(community_id=sunshine.id)
    report = registry.import_registry([("本社区.xlsx", workbook(_own_sheet()))], scope=scope)
    assert report.ok, [str(p) for p in report.problems]
    worker = db.session.scalar(select(Staff).where(Staff.username == "wangfang"))
    grid = db.session.get(Grid, worker.grid_id)
    assert grid.code == "yg-03" and grid.community_id == sunshine.id
    assert db.session.scalar(select(Building).where(Building.number == 7)).grid.code == "yg-03"


def test_rows_of_another_community_or_street_level_import_nothing(db, redis):
    sunshine, moon = _base(db)
    scope = registry.Scope(community_id=sunshine.id)
    sheet = _own_sheet()
    sheet["网格"].append(["yl-09", "月亮湾第九网格", "月亮湾社区"])  # another community's grid
    sheet["人员"].append(["liwei", "李伟", "网格员", "", "yl-01", "", "", "", "是"])  # moves a worker away
    sheet["人员"].append(["root2", "某人", "系统管理员", "", "", "", "", "", "是"])
    sheet["部门"] = [["街道", "部门", "负责类别"], ["阳光街道", "城管科", "城乡建设"]]  # street level
    before = db.session.scalar(select(func.count()).select_from(Grid))
    report = registry.import_registry([("本社区.xlsx", workbook(sheet))], scope=scope)
    named = {(p.sheet, p.row, p.column) for p in report.problems}
    assert ("网格", 3, "网格编码") in named and ("人员", 3, "账号") in named and ("人员", 4, "角色") in named
    assert ("部门", 2, "部门") in named
    assert all("范围" in p.problem or "系统管理员" in p.problem for p in report.problems)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Grid)) == before  # nothing written
    assert db.session.get(Grid, db.session.scalar(select(Staff).where(Staff.username == "liwei")).grid_id).code == "yg-01"
    assert db.session.scalar(select(Staff).where(Staff.username == "wangfang")) is None


def test_a_username_of_another_community_is_not_taken_over(db, redis):
    sunshine, moon = _base(db)
    sheet = {"人员": [["账号", "姓名", "角色", "电话", "网格编码", "社区", "街道", "部门", "在岗"],
                    ["zhaomin", "赵敏", "社区管理员", "", "", "月亮湾社区", "", "", "是"]]}
    # 月亮湾's admin names 阳光's admin account: refused, not moved over
    report = registry.import_registry([("x.xlsx", workbook(sheet))], scope=registry.Scope(community_id=moon.id))
    assert [(p.sheet, p.row, p.column) for p in report.problems] == [("人员", 2, "账号")]


def test_a_street_admin_keeps_the_streets_sheet_and_the_export_lists_only_the_scope(db, redis, make):
    sunshine, moon = _base(db)
    street_scope = registry.Scope(street_id=sunshine.street_id)
    sheet = copy.deepcopy(SHEETS)
    sheet["网格"].append(["yl-02", "月亮湾第二网格", "月亮湾社区"])
    assert registry.import_registry([("街道.xlsx", workbook(sheet))], scope=street_scope).ok
    exported = load_workbook(io.BytesIO(registry.export_registry(scope=registry.Scope(community_id=sunshine.id))))
    grids = [row[0] for row in exported["网格"].iter_rows(min_row=2, values_only=True)]
    staff = [row[0] for row in exported["人员"].iter_rows(min_row=2, values_only=True)]
    assert grids == ["yg-01", "yg-02"] and staff == ["liwei", "zhaomin"]  # not 城管科's liaison, not 月亮湾
    assert list(exported["部门"].iter_rows(min_row=2, values_only=True)) == []
    # The community's own export imports back unchanged under its own scope.
    again = registry.import_registry([("本社区.xlsx", registry.export_registry(scope=registry.Scope(community_id=sunshine.id)))],
                                     scope=registry.Scope(community_id=sunshine.id), dry_run=True)
    assert again.ok and all(c["created"] == 0 and c["updated"] == 0 for c in again.counts.values()), again.counts


def test_who_keeps_which_registry(make):
    world = make.world()
    assert staff_service.require_registry_admin(Actor.for_staff(world["community_admin"])) == \
        registry.Scope(community_id=world["community_admin"].community_id)
    import pytest
    from backend.errors import Forbidden
    with pytest.raises(Forbidden):
        staff_service.require_registry_admin(Actor.for_staff(world["workers"][0]))
