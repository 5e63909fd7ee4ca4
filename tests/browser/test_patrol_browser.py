"""Issue 13 in a real browser (Debian's chromium) on a phone viewport: a grid worker files a patrol
report with a camera photo, once left for the grid's queue and once settled on the spot."""
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.orders.models import Order
from tests.browser.test_console_pages import PHONE, _login, _watch

pytestmark = pytest.mark.browser

PHOTO = Path(__file__).resolve().parents[1] / "fixtures/wechat/media.png"


def test_a_worker_on_a_phone_files_a_patrol_report_with_a_photo(browser, live_server, make, db, artifacts):
    world = make.world()
    worker, building = world["workers"][0], world["buildings"][0]
    username, building_id = worker.username, building.id
    db.session.rollback()  # SQLite: the live server must not wait for this thread's read lock

    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors = _watch(page)
    _login(page, live_server, username, "/console/m/")
    page.click("text=巡查上报")
    page.wait_for_url("**/console/m/report")
    page.set_input_files("#patrol input[type=file]", str(PHOTO))
    page.select_option("#patrol select[name=building]", str(building_id))
    page.fill("#patrol textarea[name=text]", "3号楼北侧窨井盖破损，有行人绊倒风险")
    page.fill("#patrol textarea[name=done]", "已设警示桩")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    page.screenshot(path=str(artifacts / "console-phone-patrol-form.png"), full_page=True)
    page.click("#patrol button[type=submit]")
    page.wait_for_selector("text=已提交")
    assert page.locator(".photos img").count() == 1
    # The photo is shown: the browser loaded it through the staff session.
    assert page.evaluate("() => Array.from(document.querySelectorAll('.photos img')).every(i => i.naturalWidth > 0)")
    # Issue 24: the finder's own work at once, not claimed back from the queue; the building stays in the place
    assert page.locator("button[value=claim]").count() == 0 and page.locator("#state").inner_text() == "已接单"
    assert page.locator("button[value=resolve]").count() == 1
    assert "号楼" in page.locator("dl dd").first.inner_text()
    queued = page.url.rsplit("/", 1)[1]

    page.goto(f"{live_server}/console/m/report")
    page.set_input_files("#patrol input[type=file]", str(PHOTO))
    page.fill("#patrol input[name=location_text]", "水晶城小区3号楼门口")
    page.fill("#patrol textarea[name=text]", "楼门口堆放的纸箱挡住通道")
    page.fill("#patrol textarea[name=done]", "已和住户一起清走")
    page.check("#patrol input[name=settled]")
    page.click("#patrol button[type=submit]")
    page.wait_for_selector("text=已当场解决")
    assert page.locator("#state").inner_text() == "已办结"
    settled = page.url.rsplit("/", 1)[1]
    page.screenshot(path=str(artifacts / "console-phone-patrol-settled.png"), full_page=True)
    page.goto(f"{live_server}/console/m/")
    assert page.locator(f"#mine [data-number='{queued}']").count() == 1
    assert page.locator(f"#waiting [data-number='{settled}']").count() == 0
    assert page.locator(f"#reported [data-number='{settled}']").count() == 1
    assert errors == []
    context.close()

    db.session.expire_all()
    found = {o.number: o for o in db.session.scalars(select(Order).where(Order.number.in_([queued, settled])))}
    assert (found[queued].channel, found[queued].state, found[queued].building_id) == ("patrol", "claimed", building_id)
    assert found[queued].assignee.username == username
    assert found[queued].location_text.endswith("号楼")
    assert (found[settled].state, found[settled].result) == ("resolved", "已和住户一起清走")
    assert all(len(o.attachments) == 1 and o.attachments[0].event.action == "submit" for o in found.values())
