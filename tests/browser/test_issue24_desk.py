"""Issue 24 in a real browser (Debian's chromium), the 社区书记 at a desk (1366×768): the dashboard's
first screen is the figures, the reminders a bounded grouped list of links marked read when opened;
the figures agree with each other; the order page names who did what and groups its actions; an
order outside the scope is a styled Chinese page; the outbox speaks Chinese with order numbers; the
dispute page has a heading per form and takes meeting photos as uploads; the registry is theirs.
Screenshots in tests/artifacts/issue24-desk-*.png."""
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.accounts.actors import Actor
from backend.disputes import services as disputes
from backend.dispatch import claims
from backend.notifications import services as notifications
from backend.notifications.models import Notification
from backend.orders import lifecycle, services
from backend.orders.models import Order
from tests.browser.test_console_pages import _login, _watch

pytestmark = pytest.mark.browser

PHOTO = Path(__file__).resolve().parents[1] / "fixtures/wechat/media.png"
DESK = {"viewport": {"width": 1366, "height": 768}, "locale": "zh-CN", "reduced_motion": "reduce"}


def _seed(make, db):
    world = make.world()
    admin, worker, leader = world["community_admin"], world["workers"][0], world["leader"]
    # Names of their own (the factory names every staff member 陈晓燕): the timeline must say which one.
    worker.name, leader.name = "王建国", "刘秀英"
    h5 = make.resident(name=None, phone=None)  # an H5 resident who left neither name nor phone
    orders = [make.order(h5 if i == 0 else world["resident"], channel="h5", text=f"3号楼楼道灯坏了第{i}处")
              for i in range(6)]
    for o in orders[:3]:  # nobody classified these: 未分类, the most frequent, yet no hot spot
        o.category = None
    db.session.commit()
    claims.act(Actor.for_staff(worker), orders[0].number, "claim")
    claims.act(Actor.for_staff(worker), orders[0].number, "progress", note="已联系物业电工")
    services.perform(Actor.for_resident(world["resident"]), orders[5], "cancel")  # not 受理: in no chart
    claims.act(Actor.for_staff(leader), orders[0].number, "supervise", note="请今天内办结")
    # 25 reminders for the 书记, one of them a line of a thousand zeros
    for i in range(25):
        o = orders[i % 4]
        text = "0" * 1000 if i == 3 else f"居民反映第{i}件"
        notifications.notify("staff", admin.id, ("supervise", "overdue", "new_order", "escalated")[i % 4], order=o,
                             payload={"number": o.number, "text": text, "due": "今天 18:00", "note": "请抓紧"})
    db.session.add(Notification(order_id=orders[1].id, recipient_type="resident", recipient_id=world["resident"].id,
                                channel="wechat_cs", kind="reopened", status="failed", attempts=5,
                                last_error="45015 response out of time limit"))
    db.session.commit()
    for row in db.session.scalars(select(Notification).where(Notification.status == "pending")):
        notifications.deliver(row.id)
    other = make.world()  # another community's order: out of this 书记's scope
    foreign = make.order(other["resident"], location_text=f"{other['community'].name}8号楼", text="别的社区的诉求")
    dispute = disputes.register(Actor.for_staff(admin), topic="parking", subject="地面车位划线之争",
                                grid=world["grids"][0].code,
                                parties=[{"kind": "resident", "name": "李桂兰"}, {"kind": "property", "name": "水晶城物业"}])
    disputes.perform(Actor.for_staff(admin), dispute, "open_deliberation")
    allowed = lifecycle.allowed_actions(Actor.for_staff(admin), db.session.get(Order, orders[0].id))
    return {"admin": admin.username, "worker": worker.name, "leader": leader.name, "numbers": [o.number for o in orders],
            "foreign": foreign.number, "dispute": dispute.id, "allowed": set(allowed)}


def test_the_secretarys_desk(browser, live_server, make, db, artifacts):
    seed = _seed(make, db)
    db.session.rollback()
    context = browser.new_context(**DESK)
    page = context.new_page()
    errors = _watch(page)
    _login(page, live_server, seed["admin"])
    page.wait_for_load_state("load")

    # The first screen is the figures; the reminders come after the figures and the charts.
    assert page.locator("#figures").bounding_box()["y"] < 200
    assert page.locator("#figures-month").bounding_box()["y"] < 768
    assert page.locator("#reminders").bounding_box()["y"] > page.locator("#charts").bounding_box()["y"]
    page.screenshot(path=str(artifacts / "issue24-desk-first-screen.png"))
    month = page.locator("#figures-month")
    assert month.locator("[data-figure=minutes_to_claim]").inner_text().endswith("分钟")
    received = int(month.locator("[data-figure=received]").inner_text())
    for chart in ("chart-by-grid", "chart-by-channel", "chart-by-category"):
        rows = json.loads(page.locator(f"#{chart}").get_attribute("data-chart"))
        assert sum(r["count"] for r in rows) == received, chart  # every chart adds up to 受理
    assert received == 5  # six made, one cancelled
    spots = page.locator("#hot-spots tbody tr td:nth-child(2)").all_inner_texts()
    assert spots and "未分类" not in spots

    # Reminders: bounded, grouped, links to their orders, wrapped (nothing wider than the page).
    items = page.locator("#reminders li")
    # A group per kind the 书记 was told of: the four above and the dispute's registration.
    assert 0 < items.count() <= 30 and page.locator("#reminders details.reminder-group").count() == 5
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366
    for group in page.locator("#reminders details").all():
        group.evaluate("d => d.open = true")
    zeros = page.locator("#reminders li", has_text="0000000000")
    zeros.first.scroll_into_view_if_needed()  # each group's list scrolls inside its own box
    box, section = zeros.first.bounding_box(), page.locator("#reminders").bounding_box()
    assert box["x"] + box["width"] <= section["x"] + section["width"] + 1
    page.locator("#reminders details", has=page.locator("li", has_text="0000000000")).screenshot(path=str(artifacts / "issue24-desk-long-reminder.png"))
    assert all(re.search(r"/console/notifications/\d+$", h) for h in items.evaluate_all("els => els.map(e => e.querySelector('a').href)"))
    unread = int(page.locator("#reminders [data-unread]").get_attribute("data-unread"))
    page.screenshot(path=str(artifacts / "issue24-desk-dashboard.png"), full_page=True)
    page.locator("#reminders details[data-kind=supervise] li a").first.click()
    page.wait_for_url(re.compile(r".*/console/orders/HX.*"))
    page.goto(f"{live_server}/console/")
    assert int(page.locator("#reminders [data-unread]").get_attribute("data-unread")) == unread - 1

    # The order page: who did what, no "None", the actions grouped and only the allowed ones.
    page.goto(f"{live_server}/console/orders/{seed['numbers'][0]}")
    history = page.locator("#history").inner_text()
    assert "操作人" in history
    rows = {r.locator("td").nth(2).inner_text(): r.locator("td").nth(1).inner_text()
            for r in page.locator("#history tr:has(td)").all()}
    assert seed["worker"] in rows["接单"] and seed["worker"] in rows["记录进展"], rows
    assert seed["leader"] in rows["督办"] and "网格长" in rows["督办"], rows
    assert "None" not in page.locator("main").inner_text() and "未留姓名" in page.locator("#resident").inner_text()
    legends = page.locator("#actions legend").all_inner_texts()
    assert len(legends) >= 3 and legends[0] == "接单与办理", legends
    shown = set(page.locator("#actions button[name=do]").evaluate_all("els => els.map(e => e.value)"))
    assert shown == seed["allowed"]
    unlabelled = page.locator("#actions textarea, #actions select, #actions input:not([type=hidden])").evaluate_all(
        "els => els.filter(e => !e.closest('label')).length")
    assert unlabelled == 0
    assert not re.search(r"[A-Za-z]{3,}", page.locator("#actions").inner_text())  # every label in Chinese
    page.screenshot(path=str(artifacts / "issue24-desk-order.png"), full_page=True)

    # Out of scope: a styled Chinese page, not English on a bare one.
    answer = page.goto(f"{live_server}/console/orders/{seed['foreign']}")
    assert answer.status == 404
    text = page.locator("body").inner_text()
    assert "没有找到这张工单" in text and "no order" not in text.lower()
    assert page.evaluate("() => getComputedStyle(document.querySelector('header')).backgroundColor") != "rgba(0, 0, 0, 0)"
    page.screenshot(path=str(artifacts / "issue24-desk-out-of-scope.png"))

    # The outbox: order numbers and Chinese words, no internal names or ids.
    page.goto(f"{live_server}/console/outbox")
    table = page.locator("#outbox").inner_text()
    assert seed["numbers"][1] in table and "重新办理" in table and "超过48小时客服消息时限" in table
    for word in ("console", "supervise", "reopened", "wechat_cs", "failed"):
        assert word not in table
    page.screenshot(path=str(artifacts / "issue24-desk-outbox.png"), full_page=True)

    # The dispute page: a heading per form; meeting photos uploaded, shown back.
    page.goto(f"{live_server}/console/disputes/{seed['dispute']}")
    steps = page.locator("#actions article.step")
    assert steps.count() >= 2 and steps.count() == page.locator("#actions article.step h3").count()
    meeting = page.locator("article.step[data-action=hold_meeting] form")
    assert meeting.locator("input[name=photos]").count() == 0  # no pasted links
    meeting.locator("input[name=held_at]").fill("2026-12-01T19:00")
    meeting.locator("input[name=place]").fill("社区议事厅")
    meeting.locator("input[name=attendees]").fill("李桂兰、水晶城物业、网格员")
    meeting.locator("textarea[name=minutes]").fill("商定下周划线")
    assert meeting.locator(".file-pick").inner_text() == "拍照或从相册选"  # not the browser's "Choose Files"
    meeting.locator("input[type=file]").set_input_files([str(PHOTO), str(PHOTO)])
    assert meeting.locator(".file-pick").inner_text().startswith("已选好 2 张照片")
    meeting.locator("button[name=do]").click()
    page.wait_for_selector("#meetings img")
    assert page.locator("#meetings img").count() == 2
    assert page.evaluate("() => Array.from(document.querySelectorAll('#meetings img')).every(i => i.naturalWidth > 0)")
    page.screenshot(path=str(artifacts / "issue24-desk-dispute.png"), full_page=True)

    # The registry is theirs now: their community's sheet.
    page.goto(f"{live_server}/console/registry")
    assert "本社区" in page.locator("#registry-scope").inner_text()
    with page.expect_download() as download:
        page.click("text=下载本社区台账")
    assert download.value.suggested_filename.endswith(".xlsx")
    assert errors == []
    context.close()
