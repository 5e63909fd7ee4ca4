"""Issue 9's console in a real browser (Debian's chromium), with screenshots in tests/artifacts/:
a grid worker on a phone claims, notes progress with a photo and resolves; a community admin's
dashboard shows the seeded figures and draws its charts; a registry file with a broken row
imports nothing and names it, the corrected one imports; a hotline call entered by staff reaches
the right grid's queue; the XLSX export of a filtered list holds exactly that list."""
import copy
import io
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from backend import clock
from backend.grids.models import Building
from backend.orders.models import Order
from tests.orders.test_dashboard_figures import seeded  # noqa: F401  (the fixture)
from tests.factories import PASSWORD
from tests.grids.test_registry import SHEETS, workbook

pytestmark = pytest.mark.browser

PHOTO = Path(__file__).resolve().parents[1] / "fixtures/wechat/media.png"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}


def _watch(page) -> list:
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A script or style the Content-Security-Policy blocks shows up as a console error.
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    return errors


def _login(page, live_server, username, target="/console/"):
    page.goto(f"{live_server}/console/login?next={target}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{target}")


def test_a_grid_worker_on_a_phone_claims_notes_progress_with_a_photo_and_resolves(browser, live_server, make, db,
                                                                                   artifacts):
    world = make.world()
    worker = world["workers"][0]
    clock.travel(-timedelta(days=10))  # made ten days ago: past its deadline by the browser's clock too
    overdue = make.order(world["resident"], text="3号楼垃圾桶满了没人清")
    clock.reset()
    order = make.order(world["resident"], text="3号楼2单元楼道灯坏了，晚上很黑")
    later = make.order(world["resident"], text="3号楼门口井盖松动", grade="urgent")
    number, later_number, overdue_number, username = order.number, later.number, overdue.number, worker.username
    # SQLite: the live server must not wait for this thread's lock (and reading an expired
    # attribute after this would take one again: everything the browser needs is read above).
    db.session.rollback()

    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors = _watch(page)
    _login(page, live_server, username, "/console/m/")
    countdown = page.locator(f"#waiting [data-number='{later_number}'] .countdown")
    assert countdown.inner_text().startswith("还剩")  # countdown.js replaced the deadline's time
    assert page.locator(f"#waiting [data-number='{overdue_number}'] .countdown").inner_text().startswith("已超时")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    page.screenshot(path=str(artifacts / "console-phone-queue.png"), full_page=True)

    page.click(f"#waiting [data-number='{number}']")
    page.click("button[value=claim]")
    page.wait_for_selector("text=已接单")
    page.fill("textarea[name=note]", "已联系物业，今天下午更换灯泡")
    page.set_input_files("form:has(button[value=progress]) input[type=file]", str(PHOTO))
    page.screenshot(path=str(artifacts / "console-phone-progress.png"), full_page=True)
    page.click("button[value=progress]")
    page.wait_for_selector("text=已记录进展")
    page.fill("textarea[name=result]", "灯泡已更换，居民确认正常")
    page.set_input_files("form:has(button[value=resolve]) input[type=file]", str(PHOTO))
    page.click("button[value=resolve]")
    page.wait_for_selector("text=已办结")
    assert page.locator(".photos img").count() == 2
    # The photos are shown: the browser loaded them through the staff session.
    assert page.evaluate("() => Array.from(document.querySelectorAll('.photos img')).every(i => i.naturalWidth > 0)")
    page.screenshot(path=str(artifacts / "console-phone-resolved.png"), full_page=True)
    assert errors == []
    context.close()
    db.session.expire_all()
    found = db.session.scalar(select(Order).where(Order.number == number))
    assert found.state == "resolved" and found.result == "灯泡已更换，居民确认正常"
    assert [a.event.action for a in found.attachments] == ["progress", "resolve"]


def test_a_community_admins_dashboard_shows_the_figures_and_draws_the_charts(browser, live_server, seeded, db,
                                                                            artifacts):
    username = seeded["community_admin"].username
    db.session.rollback()
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN", reduced_motion="reduce")
    errors = _watch(page)
    _login(page, live_server, username)
    page.wait_for_load_state("load")  # Chart.js and dashboard.js are plain scripts at the end: they have run
    month = page.locator("#figures-month")

    def shown(key):
        return month.locator(f"[data-figure={key}]").inner_text()
    # The same seeded set as tests/orders/test_dashboard_figures.py, counted by hand there.
    assert (shown("received"), shown("claimed"), shown("resolved"), shown("overdue")) == ("13", "7", "3", "6")
    assert (shown("resolve_rate"), shown("on_time_rate"), shown("satisfaction_rate")) == ("23.1%", "100.0%", "66.7%")
    assert (shown("minutes_to_claim"), shown("hours_to_resolve")) == ("120 分钟", "6.0 小时")
    charts = ("chart-per-day", "chart-by-category", "chart-by-grid", "chart-by-channel", "by-state")
    drawn = page.evaluate("(ids) => ids.map(id => Chart.getChart(id) !== undefined)", list(charts))
    assert drawn == [True] * len(charts)
    assert page.evaluate("() => Chart.getChart('chart-by-category').data.labels") == ["城乡建设", "环境保护"]
    page.select_option("#category-drill", "城乡建设")
    assert page.evaluate("() => Chart.getChart('chart-by-category').data.labels") == ["住房保障与房地产", "城市建设和市政管理"]
    assert page.locator("#hot-spots tbody tr").count() >= 2
    page.screenshot(path=str(artifacts / "console-dashboard.png"), full_page=True)
    assert errors == []
    page.close()


def test_a_broken_registry_row_imports_nothing_the_corrected_file_imports(browser, live_server, make, db, artifacts,
                                                                         tmp_path):
    username = make.staff("sysadmin").username
    broken = copy.deepcopy(SHEETS)
    broken["楼栋"][2] = ["阳光花园", "六", 2, "yg-02", ""]
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "台账.xlsx").write_bytes(workbook(broken))
    (tmp_path / "台账.xlsx").write_bytes(workbook())
    db.session.rollback()
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors = _watch(page)
    _login(page, live_server, username, "/console/registry")
    page.set_input_files("#registry-check input[type=file]", str(tmp_path / "broken" / "台账.xlsx"))
    page.click("#registry-check button")
    page.wait_for_selector("#problems")
    assert page.locator("#problems tbody tr").count() == 1
    assert page.locator("#problems tbody td").all_inner_texts()[:3] == ["楼栋", "3", "楼号"]
    assert page.locator("#registry-import").count() == 0
    page.screenshot(path=str(artifacts / "console-registry-broken.png"), full_page=True)
    db.session.rollback()
    buildings = db.session.scalar(select(func.count()).select_from(Building))
    db.session.rollback()
    assert buildings == 0

    page.set_input_files("#registry-check input[type=file]", str(tmp_path / "台账.xlsx"))
    page.click("#registry-check button")
    page.wait_for_selector("text=检查通过")
    page.click("#registry-import button")
    page.wait_for_selector("text=导入完成")
    assert page.locator("#counts tr[data-kind=buildings] td").all_inner_texts() == ["楼栋", "3", "0", "0"]
    page.screenshot(path=str(artifacts / "console-registry-imported.png"), full_page=True)
    assert errors == []
    page.close()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Building)) == 3


def test_a_hotline_call_entered_by_staff_lands_in_the_right_grids_queue(browser, live_server, make, db, artifacts):
    world = make.world()
    admin, grid_2_worker = world["community_admin"].username, world["workers"][1].username
    grid_2 = world["grids"][1].id
    db.session.rollback()
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    errors = _watch(page)
    _login(page, live_server, admin, "/console/intake")
    page.select_option("select[name=channel]", "hotline")
    page.fill("input[name=caller_name]", "刘建国")
    page.fill("input[name=caller_phone]", "13712345678")
    page.fill("input[name=location_text]", "水晶城小区8号楼")
    page.fill("textarea[name=text]", "8号楼地下室进水了，水泵不转")
    page.screenshot(path=str(artifacts / "console-intake.png"), full_page=True)
    page.click("#intake button[type=submit]")
    page.wait_for_selector("text=已提交")
    number = page.locator("h1").inner_text().split(" ")[0]
    assert "热线" in page.locator("main").inner_text()
    page.close()

    phone = browser.new_context(**PHONE)
    worker_page = phone.new_page()
    errors += _watch(worker_page)
    _login(worker_page, live_server, grid_2_worker, "/console/m/")
    assert worker_page.locator(f"#waiting [data-number='{number}']").count() == 1
    worker_page.screenshot(path=str(artifacts / "console-phone-hotline-queue.png"), full_page=True)
    phone.close()
    assert errors == []
    db.session.rollback()
    order = db.session.scalar(select(Order).where(Order.number == number))
    assert (order.channel, order.grid_id) == ("hotline", grid_2)


def test_the_xlsx_export_of_a_filtered_list_holds_exactly_that_list(browser, live_server, make, db, artifacts):
    world = make.world()
    urgent = [make.order(world["resident"], text=f"窨井盖丢了{i}号", grade="urgent") for i in range(3)]
    make.order(world["resident"], text="楼道灯坏了")
    make.order(world["resident"], text="窨井盖松动", location_text="水晶城小区8号楼")  # grid 2, normal
    urgent_numbers, username = sorted(o.number for o in urgent), world["community_admin"].username
    db.session.rollback()
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    errors = _watch(page)
    _login(page, live_server, username, "/console/orders")
    page.select_option("select[name=grade]", "urgent")
    page.fill("input[name=q]", "窨井盖")
    with page.expect_navigation():
        page.click("#desk-filters button[type=submit]")
    listed = page.locator("#desk tbody tr[data-number]").evaluate_all("rows => rows.map(r => r.dataset.number)")
    assert sorted(listed) == urgent_numbers
    page.screenshot(path=str(artifacts / "console-desk.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename.startswith("工单导出_") and download.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "工单号" and [r[0] for r in rows[1:]] == listed  # the same orders, in the same order
    assert errors == []
    page.close()
