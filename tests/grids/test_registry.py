"""Registry import and export: a community loads its own streets, communities, grids, buildings,
departments and staff from a spreadsheet — all or nothing, with every problem named by sheet, row
and column, idempotent on re-import, and read back by routing at once."""
import csv
import io
import time

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from backend.accounts.models import Staff
from backend.grids import registry
from backend.grids.models import Building, Community, Department, Grid, Street
from backend.grids.routing import place

SHEETS = {
    "社区": [["街道", "社区", "别名"], ["阳光街道", "阳光社区", "阳光花园、阳光小区"], ["阳光街道", "月亮湾社区", ""]],
    "网格": [["网格编码", "网格名称", "所属社区"], ["yg-01", "阳光第一网格", "阳光社区"],
             ["yg-02", "阳光第二网格", "阳光社区"], ["yl-01", "月亮湾第一网格", "月亮湾社区"]],
    "楼栋": [["小区", "楼号", "单元数", "网格编码", "别名"], ["阳光花园", 5, 3, "yg-01", ""],
             ["阳光花园", 6, 2, "yg-02", "老干部楼"], ["月亮湾小区", 1, 4, "yl-01", ""]],
    "部门": [["街道", "部门", "负责类别"], ["阳光街道", "城管科", "城乡建设"]],
    "人员": [["账号", "姓名", "角色", "电话", "网格编码", "社区", "街道", "部门", "在岗"],
             ["liwei", "李伟", "网格员", "13800000001", "yg-01", "", "", "", "是"],
             ["zhaomin", "赵敏", "社区管理员", "", "", "阳光社区", "", "", ""],
             ["chengguan", "孙强", "department_liaison", "", "", "", "", "城管科", "是"]],
}


def workbook(sheets=SHEETS) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def counts(db) -> dict:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Street, Community, Grid, Building, Department, Staff)}


def test_a_workbook_imports_and_routing_finds_its_buildings(db, redis):
    report = registry.import_registry([("阳光社区.xlsx", workbook())])
    assert report.ok, [str(p) for p in report.problems]
    assert counts(db) == {"Street": 1, "Community": 2, "Grid": 3, "Building": 3, "Department": 1, "Staff": 3}
    assert report.counts["buildings"] == {"created": 3, "updated": 0, "unchanged": 0}
    placed = place("阳光花园6号楼2单元楼道灯坏了")
    assert placed.grid.code == "yg-02"
    assert place("老干部楼门口的井盖").grid.code == "yg-02"
    worker = db.session.scalar(select(Staff).where(Staff.username == "liwei"))
    grid_1 = db.session.scalar(select(Grid).where(Grid.code == "yg-01"))
    assert worker.role == "grid_worker" and worker.grid_id == grid_1.id and worker.phone == "13800000001"
    assert worker.check_password(report.passwords["liwei"])
    admin = db.session.scalar(select(Staff).where(Staff.username == "zhaomin"))
    assert admin.role == "community_admin" and admin.community_id is not None and admin.grid_id is None


def test_a_second_import_of_the_same_file_changes_nothing(db, redis):
    registry.import_registry([("r.xlsx", workbook())])
    before = counts(db)
    again = registry.import_registry([("r.xlsx", workbook())])
    assert again.ok and counts(db) == before
    assert all(c["created"] == 0 and c["updated"] == 0 for c in again.counts.values()), again.counts
    assert again.passwords == {}  # nobody's password is reset by a re-import


def test_a_broken_row_imports_nothing_and_is_named(db, redis):
    sheets = {**SHEETS, "楼栋": SHEETS["楼栋"] + [["月亮湾小区", "二", 1, "no-such-grid", ""]]}
    report = registry.import_registry([("r.xlsx", workbook(sheets))])
    assert not report.ok
    assert [str(p) for p in report.problems] == [
        "楼栋 第5行「楼号」：应为 1–9999 的整数，而不是「二」",
        "楼栋 第5行「网格编码」：没有网格「no-such-grid」"]
    assert counts(db) == {"Street": 0, "Community": 0, "Grid": 0, "Building": 0, "Department": 0, "Staff": 0}
    fixed = {**SHEETS, "楼栋": SHEETS["楼栋"] + [["月亮湾小区", 2, 1, "yl-01", ""]]}
    assert registry.import_registry([("r.xlsx", workbook(fixed))]).ok
    assert counts(db)["Building"] == 4


@pytest.mark.parametrize("sheet,row,problem", [
    ("人员", ["wang", "王芳", "网格长", "", "", "", "", "", "是"], "人员 第5行「网格编码」：网格长必须填写网格编码"),
    ("人员", ["wang", "王芳", "队长", "", "", "", "", "", ""], "人员 第5行「角色」：没有角色「队长」"),
    ("人员", ["wang", "王芳", "网格员", "", "yg-01", "", "", "", "也许"], "人员 第5行「在岗」：应填 是 或 否，而不是「也许」"),
    ("部门", ["阳光街道", "环保科", "环境保护/不存在"], "部门 第3行「负责类别」：不是标准类别：环境保护/不存在"),
    ("网格", ["yg-09", "", "阳光社区"], "网格 第5行「网格名称」：不能为空"),
])
def test_each_kind_of_problem_is_reported_in_chinese(db, redis, sheet, row, problem):
    report = registry.import_registry([("r.xlsx", workbook({**SHEETS, sheet: SHEETS[sheet] + [row]}))])
    assert any(str(p).startswith(problem) for p in report.problems), [str(p) for p in report.problems]
    assert counts(db)["Community"] == 0


def test_a_missing_column_is_reported_before_any_row(db, redis):
    report = registry.import_registry([("r.xlsx", workbook({"网格": [["网格编码", "所属社区"], ["g", "阳光社区"]]}))])
    assert [str(p) for p in report.problems] == ["网格 第1行「网格名称」：缺少这一列"]


def test_a_dry_run_counts_and_writes_nothing(db, redis):
    report = registry.import_registry([("r.xlsx", workbook())], dry_run=True)
    assert report.ok and report.counts["grids"]["created"] == 3
    assert counts(db)["Grid"] == 0 and report.passwords == {}


def test_csv_files_named_after_their_kind(db, redis):
    def csv_bytes(rows):
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return ("\ufeff" + out.getvalue()).encode("utf-8")  # Excel's UTF-8 with BOM
    files = [("communities.csv", csv_bytes(SHEETS["社区"])), ("网格.csv", csv_bytes(SHEETS["网格"])),
             ("buildings.csv", csv_bytes(SHEETS["楼栋"]))]
    assert registry.import_registry(files).ok
    assert counts(db)["Building"] == 3
    with pytest.raises(registry.RegistryFileError):
        registry.import_registry([("随便.csv", csv_bytes(SHEETS["社区"]))])


def test_export_reads_back_as_the_same_registry(db, redis):
    registry.import_registry([("r.xlsx", workbook())])
    exported = registry.export_registry()
    book = load_workbook(io.BytesIO(exported))
    assert book.sheetnames == ["社区", "网格", "楼栋", "部门", "物业", "人员"]
    again = registry.import_registry([("export.xlsx", exported)])
    assert again.ok and all(c["created"] == c["updated"] == 0 for c in again.counts.values()), again.counts
    template = load_workbook(io.BytesIO(registry.export_registry(template=True)))
    assert [c.value for c in template["楼栋"][1]] == ["小区", "楼号", "单元数", "网格编码", "别名"]
    assert template["楼栋"].max_row == 1


def test_the_cli_names_the_broken_row_and_exits_non_zero(app, db, redis, tmp_path):
    broken = tmp_path / "registry.xlsx"
    broken.write_bytes(workbook({**SHEETS, "网格": SHEETS["网格"] + [["x-1", "X网格", "没有的社区"]]}))
    result = app.test_cli_runner().invoke(args=["import-registry", str(broken)])
    assert result.exit_code == 1 and "网格 第5行「所属社区」：没有社区「没有的社区」" in result.output
    good = tmp_path / "good.xlsx"
    good.write_bytes(workbook())
    result = app.test_cli_runner().invoke(args=["import-registry", str(good)])
    assert result.exit_code == 0 and "导入完成" in result.output and "新账号 liwei 的初始密码" in result.output
    out = tmp_path / "out.xlsx"
    assert app.test_cli_runner().invoke(args=["export-registry", "--out", str(out)]).exit_code == 0
    assert load_workbook(out)["网格"].max_row == 4


def test_twenty_thousand_buildings_import_with_progress(db, redis):
    rows = [["小区", "楼号", "单元数", "网格编码", "别名"]]
    rows += [[f"大区{n // 200}号小区", n % 200 + 1, 2, "yg-01" if n % 2 else "yg-02", ""] for n in range(20000)]
    seen = []
    started = time.perf_counter()
    report = registry.import_registry([("big.xlsx", workbook({**SHEETS, "楼栋": rows}))],
                                      progress=lambda done, total: seen.append((done, total)))
    took = time.perf_counter() - started
    assert report.ok and report.counts["buildings"]["created"] == 20000
    assert counts(db)["Building"] == 20000
    assert seen[-1][0] == seen[-1][1] and len(seen) >= 40 and [d for d, _ in seen] == sorted(d for d, _ in seen)
    print(f"20,000 buildings imported in {took:.1f} s")  # the figure for the closing note, not a gate
