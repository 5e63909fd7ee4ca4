"""Registry and staff pages: a file with one broken row imports nothing and names the row; the
corrected file, checked then imported, loads; the template and the current registry download;
admins deactivate, move and reset the passwords of the staff in their scope only."""
import copy
import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from backend.accounts.models import Staff
from backend.grids.models import Building
from tests.console.test_console import _csrf, _login
from tests.grids.test_registry import SHEETS, workbook


def _upload(client, token, content, name="台账.xlsx"):
    return client.post("/console/registry/check", data={"csrf": token, "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_a_broken_row_imports_nothing_and_the_corrected_file_imports(client, make, db):
    _login(client, make.staff("sysadmin"))
    token = _csrf(client.get("/console/registry").data)
    broken = copy.deepcopy(SHEETS)
    broken["楼栋"][2] = ["阳光花园", "六", 2, "yg-02", ""]  # row 3 of 楼栋: 楼号 is no number
    checked = _upload(client, token, workbook(broken))
    assert checked.status_code == 422
    page = checked.data.decode()
    row = re.search(r"<tbody><tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>", page).groups()
    assert row[:3] == ("楼栋", "3", "楼号") and "什么也没有导入" in page and 'id="registry-import"' not in page
    assert client.post("/console/registry/import", data={"csrf": token}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Building)) == 0

    fixed = _upload(client, token, workbook(), name="../../台账.xlsx")  # a name is no path
    assert fixed.status_code == 200 and "检查通过" in fixed.data.decode() and 'id="registry-import"' in fixed.data.decode()
    assert db.session.scalar(select(func.count()).select_from(Building)) == 0  # a dry run writes nothing
    done = client.post("/console/registry/import", data={"csrf": token})
    assert done.status_code == 200 and "导入完成" in done.data.decode() and done.headers["Cache-Control"] == "no-store"
    assert db.session.scalar(select(func.count()).select_from(Building)) == 3
    new = db.session.scalar(select(Staff).where(Staff.username == "liwei"))
    password = re.search(r"<td>liwei</td><td><code>([^<]+)</code>", done.data.decode()).group(1)
    assert new.check_password(password)
    # The pending file is gone: a second import has nothing to import.
    assert client.post("/console/registry/import", data={"csrf": token}).status_code == 400
    current = load_workbook(io.BytesIO(client.get("/console/registry/current.xlsx").data))
    assert sorted(r[0] for r in current["楼栋"].iter_rows(min_row=2, values_only=True)) == ["月亮湾小区", "阳光花园", "阳光花园"]
    template = load_workbook(io.BytesIO(client.get("/console/registry/template.xlsx").data))
    assert template.sheetnames == ["社区", "网格", "楼栋", "部门", "物业", "人员"] and template["楼栋"].max_row == 1


def test_a_file_that_is_no_registry_is_refused_in_chinese(client, make):
    _login(client, make.staff("sysadmin"))
    token = _csrf(client.get("/console/registry").data)
    page = _upload(client, token, b"\x00\x01 not a workbook", name="x.xlsx")
    assert page.status_code == 400 and "不是可读取的 XLSX 文件" in page.data.decode()
    gbk = "小区,楼号,单元数,网格编码,别名\n阳光花园,5,3,nowhere,\n".encode("gbk")
    page = _upload(client, token, gbk, name="楼栋.csv")  # Excel's CSV on a Chinese Windows: read, then checked
    assert page.status_code == 422 and "nowhere" in page.data.decode()
    empty = client.post("/console/registry/check", data={"csrf": token}, content_type="multipart/form-data")
    assert empty.status_code == 400 and "请选择要导入的" in empty.data.decode()


def test_admins_manage_the_staff_of_their_scope(client, make, db):
    world = make.world()
    other = make.world()
    worker = world["workers"][0]
    _login(client, world["community_admin"])
    page = client.get("/console/staff")
    assert worker.username.encode() in page.data and other["workers"][0].username.encode() not in page.data
    token = _csrf(page.data)
    client.post(f"/console/staff/{worker.id}/deactivate", data={"csrf": token})
    db.session.expire_all()
    assert worker.active is False
    client.post(f"/console/staff/{worker.id}/reactivate", data={"csrf": token})
    client.post(f"/console/staff/{worker.id}/move", data={"csrf": token, "grid": str(world["grids"][1].id)})
    db.session.expire_all()
    assert worker.active is True and worker.grid_id == world["grids"][1].id
    moved_out = client.post(f"/console/staff/{worker.id}/move", data={"csrf": token, "grid": str(other["grids"][0].id)})
    assert moved_out.status_code == 404
    reset = client.post(f"/console/staff/{worker.id}/password", data={"csrf": token})
    password = re.search(r"<code>([^<]+)</code>", reset.data.decode()).group(1)
    db.session.expire_all()
    assert worker.check_password(password) and reset.headers["Cache-Control"] == "no-store"
    assert client.post(f"/console/staff/{other['workers'][0].id}/deactivate", data={"csrf": token}).status_code == 404
    assert client.post("/console/staff/99999999999999999999999/deactivate", data={"csrf": token}).status_code == 404
    assert client.post(f"/console/staff/{world['community_admin'].id}/deactivate",
                       data={"csrf": token}).status_code == 403  # not oneself


def test_an_admin_adds_a_grid_worker_in_a_grid_of_theirs_with_a_password_shown_once(client, make, db):
    world = make.world()
    other = make.world()
    _login(client, world["community_admin"])
    token = _csrf(client.get("/console/staff").data)
    form = {"csrf": token, "username": "wang.fang", "name": "王芳", "role": "grid_worker",
            "grid": str(world["grids"][1].id), "phone": "13900000001"}
    made = client.post("/console/staff/new", data=form)
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    password = re.search(r"<code>([^<]+)</code>", made.data.decode()).group(1)
    new = db.session.scalar(select(Staff).where(Staff.username == "wang.fang"))
    assert new.check_password(password) and (new.role, new.grid_id) == ("grid_worker", world["grids"][1].id)
    again = client.post("/console/staff/new", data=form, follow_redirects=True)
    assert "已被使用" in again.data.decode()
    bad = client.post("/console/staff/new", data={**form, "username": "x", "role": "sysadmin"}, follow_redirects=True)
    assert "请检查" in bad.data.decode() and "角色" in bad.data.decode()
    foreign = client.post("/console/staff/new", data={**form, "username": "li.si", "grid": str(other["grids"][0].id)})
    assert foreign.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Staff).where(Staff.username == "li.si")) == 0
