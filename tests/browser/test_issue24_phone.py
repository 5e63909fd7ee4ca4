"""Issue 24 in a real browser (Debian's chromium), the 网格员 on a 390 px phone: reminders of 督办, 不满意
and a near deadline on the home page and on the cards; a reopened order says so with the resident's
complaint; the queue searches and filters; photos are marked 处理前 / 处理中 / 处理后 and no input is
camera-only; a patrol report is the finder's own at once and keeps its building in the place shown.
Screenshots in tests/artifacts/issue24-phone-*.png."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from backend import clock
from backend.accounts.actors import Actor
from backend.dispatch import claims
from backend.notifications import services as notifications
from backend.notifications.models import Notification
from backend.orders import services
from backend.orders.models import Order
from tests.browser.test_console_pages import PHONE, _login, _watch

pytestmark = pytest.mark.browser

PHOTO = Path(__file__).resolve().parents[1] / "fixtures/wechat/media.png"


def _seed(make, db):
    world = make.world()
    worker, leader, resident = world["workers"][0], world["leader"], world["resident"]
    me = Actor.for_staff(worker)
    reopened = make.order(resident, text="3号楼2单元楼道灯坏了")
    claims.act(me, reopened.number, "claim")
    claims.act(me, reopened.number, "resolve", result="已更换灯泡")
    services.rate(Actor.for_resident(resident), reopened, satisfaction="unsatisfied", comment="灯还是一闪一闪的，没修好")
    pressed = make.order(resident, text="3号楼门口井盖松动有响声")
    claims.act(me, pressed.number, "claim")
    claims.act(Actor.for_staff(leader), pressed.number, "supervise", note="居民又打电话了，今天处理")
    soon = make.order(resident, text="3号楼北侧路灯不亮")
    # Its claim limit 30 minutes away (working hours make the real one depend on the time of day).
    soon.due_at = soon.claim_by = clock.now() + timedelta(minutes=30)
    db.session.commit()
    waiting = [make.order(resident, text=t) for t in ("3号楼垃圾桶满了", "3号楼电梯异响", "3号楼外墙瓷砖脱落",
                                                        "3号楼楼顶漏水", "3号楼车库积水", "3号楼门禁坏了")]
    for row in db.session.scalars(select(Notification).where(Notification.status == "pending")):
        notifications.deliver(row.id)
    return {"user": worker.username, "reopened": reopened.number, "pressed": pressed.number, "soon": soon.number,
            "waiting": [o.number for o in waiting], "building": world["buildings"][0].id}


def test_the_grid_workers_phone(browser, live_server, make, db, artifacts):
    seed = _seed(make, db)
    db.session.rollback()
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors = _watch(page)
    _login(page, live_server, seed["user"], "/console/m/")

    # Reminders on the home page: 督办, 不满意 (reopened) and the near deadline, each a link.
    kinds = page.locator("#reminders li").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert {"supervise", "reopened", "due_soon"} <= set(kinds)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    # The cards carry the marks.
    assert "pressed" in page.locator(f"#mine [data-number='{seed['pressed']}']").get_attribute("data-marks")
    assert "due_soon" in page.locator(f"#waiting [data-number='{seed['soon']}']").get_attribute("data-marks")
    reopened_card = page.locator(f"[data-number='{seed['reopened']}']").first
    assert "reopened" in reopened_card.get_attribute("data-marks") and "不满意重办" in reopened_card.inner_text()
    page.screenshot(path=str(artifacts / "issue24-phone-home.png"), full_page=True)

    # Search and filters.
    page.fill("#queue-search input[name=q]", "电梯")
    page.click("#queue-search button")
    assert page.locator("#waiting a.card").count() == 1 and page.locator("#mine a.card").count() == 0
    assert "电梯" in page.locator("#waiting a.card").inner_text()
    page.goto(f"{live_server}/console/m/")
    page.click("#queue-filters [data-filter=pressed]")
    numbers = page.locator("#mine a.card, #waiting a.card").evaluate_all("els => els.map(e => e.dataset.number)")
    assert numbers == [seed["pressed"]]
    page.screenshot(path=str(artifacts / "issue24-phone-filtered.png"), full_page=True)

    # The reopened order: marked, with the resident's complaint; a reminder opened is read.
    page.goto(f"{live_server}/console/m/")
    page.locator("#reminders li[data-kind=reopened] a").first.click()
    page.wait_for_url(re.compile(rf".*/console/m/orders/{seed['reopened']}$"))
    assert "没修好" in page.locator("#complaint").inner_text() and "不满意重办" in page.locator("#marks").inner_text()
    page.screenshot(path=str(artifacts / "issue24-phone-reopened.png"), full_page=True)
    page.goto(f"{live_server}/console/m/")
    assert page.locator("#reminders li[data-kind=reopened]").count() == 0

    # Photos: 处理中 / 处理后, and no camera-only input (the album stays open in WeChat's browser).
    page.goto(f"{live_server}/console/m/orders/{seed['pressed']}")
    assert "居民又打电话了" in page.locator("#pressed").inner_text()
    assert page.locator("input[type=file][capture]").count() == 0
    page.fill("textarea[name=note]", "已联系市政，下午更换")
    # The picker is a Chinese button a thumb can hit, not the browser's "Choose File" (its own language).
    picker = page.locator("form:has(button[value=progress]) .file-pick")
    assert picker.inner_text() == "拍照或从相册选" and picker.bounding_box()["height"] >= 48
    assert picker.locator("input[type=file]").evaluate("i => getComputedStyle(i).opacity") == "0"
    page.set_input_files("form:has(button[value=progress]) input[type=file]", str(PHOTO))
    assert picker.inner_text().startswith("已选好 1 张照片")
    page.click("button[value=progress]")
    page.wait_for_selector("text=已记录进展")
    page.fill("textarea[name=result]", "井盖已更换固定")
    page.set_input_files("form:has(button[value=resolve]) input[type=file]", str(PHOTO))
    page.click("button[value=resolve]")
    page.wait_for_selector("text=已办结")
    assert page.locator(".photos figcaption").all_inner_texts() == ["处理中", "处理后"]
    assert "陈晓燕（网格长）" in page.locator("ol.timeline").inner_text()  # who pressed it, by name
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "issue24-phone-photos.png"), full_page=True)

    # A patrol report: the finder's own at once, its building kept in the place shown.
    page.goto(f"{live_server}/console/m/report")
    assert page.locator("input[type=file][capture]").count() == 0
    page.set_input_files("#patrol input[type=file]", str(PHOTO))
    assert page.locator("#patrol .file-pick").inner_text().startswith("已选好 1 张照片")
    page.select_option("#patrol select[name=building]", str(seed["building"]))
    page.fill("#patrol input[name=location_text]", "北侧绿化带")
    page.fill("#patrol textarea[name=text]", "绿化带里的消防栓被车撞歪了")
    page.click("#patrol button[type=submit]")
    page.wait_for_selector("#state")
    assert page.locator("#state").inner_text() == "已接单" and page.locator("button[value=claim]").count() == 0
    place = page.locator("dl dd").first.inner_text()
    assert "3号楼" in place and "北侧绿化带" in place
    assert page.locator(".photos figcaption").all_inner_texts() == ["处理前"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "issue24-phone-patrol.png"), full_page=True)
    assert errors == []
    context.close()

    db.session.expire_all()
    patrol = db.session.scalar(select(Order).where(Order.channel == "patrol"))
    assert patrol.assignee.username == seed["user"] and patrol.state == "claimed"
