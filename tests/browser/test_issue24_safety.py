"""Issue 24 in a real browser (Debian's chromium), the problems the other journeys leave out:
the resident on a 390 px phone sends junk ("0", ".ô", a formula), is asked back and makes no order;
says "燃气泄漏" and is answered at once with what to do and the emergency numbers, the order urgent;
reports a blocked fire exit and sees a limit within a day, not three. At a 1366×768 desk, 25 wrong
passwords for one account from the office's address lock that account only (a styled Chinese page
that says why and for how long) while a colleague signs in from the same address.
Screenshots in tests/artifacts/issue24-safety-*.png. The bot is not running: none of this waits for it."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.orders.models import Order
from tests.browser.test_console_pages import _watch
from tests.browser.test_issue24_desk import DESK
from tests.browser.test_resident_h5 import PHONE
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _say(page, text):
    page.fill("form.say textarea[name=text]", text)
    with page.expect_navigation():
        page.click("form.say button:has-text('发送')")
    return page.locator("#latest .bubble.bot").all_inner_texts()


def test_the_resident_is_asked_back_for_junk_and_told_what_to_do_in_danger(browser, live_server, stub, make, db, app,
                                                                           artifacts):
    world = make.world()
    db.session.rollback()  # SQLite: the live server must not wait for this thread's read lock
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors = _watch(page)
    page.goto(f"{live_server}/m/")  # → the stub's OAuth → /m/
    page.wait_for_selector("text=有事您说")

    # Junk: asked back, no order in anyone's queue or figures.
    for junk in ("0", ".ô", "=SUM(A1:B2)"):
        replies = _say(page, junk)
        assert replies == ["请描述一下遇到的问题：在哪里、出了什么事，例如“3号楼2单元楼道灯坏了”。"], (junk, replies)
        assert page.locator("#latest #new-order").count() == 0
    page.screenshot(path=str(artifacts / "issue24-safety-junk.png"), full_page=True)
    db.session.expire_all()
    assert db.session.scalar(select(Order.id)) is None

    # Gas: what to do and whom to call at once, with the order's number; the order urgent.
    replies = _say(page, "水晶城小区3号楼2单元楼道里燃气泄漏了，好大的味道")
    advice = " ".join(replies)
    for said in ("不要开关电灯", "立即离开", "燃气公司抢修", "119", "120", "社区已按紧急情况收到"):
        assert said in advice, advice
    number = page.locator("#latest #new-order").inner_text()
    assert number in advice
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.locator("#latest").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "issue24-safety-gas.png"), full_page=True)
    db.session.expire_all()
    gas = db.session.scalar(select(Order).where(Order.number == number))
    assert gas.grade == "urgent" and "emergency" in gas.flags and gas.grid_id == world["grids"][0].id
    assert gas.claim_by - gas.created_at <= timedelta(minutes=10)
    db.session.rollback()

    # A blocked fire exit: no advice needed, but urgent — its 办理时限 within a day, not three.
    _say(page, "水晶城小区3号楼消防通道堵塞，电动车堆满了")
    db.session.expire_all()
    blocked = db.session.scalar(select(Order).where(Order.text.contains("消防通道")))
    assert blocked is not None and blocked.grade == "urgent"
    assert blocked.resolve_by - blocked.created_at <= timedelta(hours=24)
    blocked_number, resolve_by = blocked.number, blocked.resolve_by
    db.session.rollback()
    page.goto(f"{live_server}/m/")
    mine = page.locator("ul.orders li", has_text=blocked_number)
    shown = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", mine.locator(".deadline.resolve").inner_text())[0]
    assert shown == app.jinja_env.filters["localtime"](resolve_by)
    assert "None" not in page.locator("main").inner_text()
    page.locator("section[aria-label=我的诉求]").screenshot(path=str(artifacts / "issue24-safety-orders.png"))
    assert errors == []
    context.close()


def test_one_colleagues_typing_does_not_lock_the_office(browser, live_server, make, db, redis, app, monkeypatch,
                                                        artifacts):
    monkeypatch.setitem(app.config, "RATE_LIMIT_LOGIN_ACCOUNT", "5 per 15 minutes")
    monkeypatch.setitem(app.config, "RATE_LIMIT_LOGIN_LOCK_MINUTES", 15)
    monkeypatch.setitem(app.config, "RATE_LIMIT_LOGIN_IP", "20 per 15 minutes")
    monkeypatch.setitem(app.config, "RATE_LIMIT_LOGIN_IP_ACCOUNTS", "10 per 15 minutes")
    world = make.world()
    typist, colleague = world["community_admin"].username, world["workers"][0].username
    db.session.rollback()
    context = browser.new_context(**DESK)
    page = context.new_page()
    errors = _watch(page)

    statuses = []
    for _ in range(25):  # one colleague keeps mistyping, from the office's one address
        page.goto(f"{live_server}/console/login")
        page.fill("input[name=username]", typist)
        page.fill("input[name=password]", "wrong-password")
        with page.expect_navigation() as answer:
            page.click("button[type=submit]")
        statuses.append(answer.value.status)
    assert statuses == [401] * 5 + [429] * 20
    # The 429 page: styled, in Chinese, says why and how long.
    text = page.locator("body").inner_text()
    assert "连续多次密码错误" in text and re.search(r"请在 1[45] 分钟后再试", text), text
    assert page.evaluate("() => getComputedStyle(document.querySelector('header')).backgroundColor") != "rgba(0, 0, 0, 0)"
    assert not re.search(r"Too Many Requests|[A-Za-z]{4,}", page.locator("main").inner_text())
    page.screenshot(path=str(artifacts / "issue24-safety-locked.png"))

    # A colleague at the next desk, same address, right password: in.
    page.goto(f"{live_server}/console/login?next=/console/")
    page.fill("input[name=username]", colleague)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/")
    assert errors == []
    context.close()
