"""Must-show of issue 24, the resident (item 5): a resident on a 390 px phone, in Chromium, with the
real bot. The chat keeps the whole conversation, shows the bot's buttons (附议 / 不是一回事), takes a
photo when the bot asks for one and says what happens after each step; 我的诉求 shows 接单时限 and
办理时限 apart; a rating says what happens now and its choices are big enough for elderly thumbs;
撤回 asks first; 心愿墙 is a wall of cards. No inline script or style (the CSP). Screenshots in
tests/artifacts/h5-journey-*.png."""
import re
from datetime import timedelta
from pathlib import Path

import pytest

from backend.accounts.actors import Actor
from backend.orders import services
from backend.orders.models import Order
from backend.wishes import services as wishes
from tests.conftest import answer_to
from tests.browser.test_resident_h5 import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PHOTO = Path(__file__).resolve().parents[1] / "fixtures" / "wechat" / "media.png"
THEIRS = "水晶城小区3号楼门口的路灯不亮了，晚上黑乎乎的"
MINE = "3号楼门口路灯坏了，晚上看不见路"


def _no_inline_code(page):
    """The CSP allows no inline script or style: the page has none to be blocked."""
    assert page.locator("script:not([src])").count() == 0 and page.locator("[style]").count() == 0
    assert page.locator("[onclick], [onsubmit], [onchange]").count() == 0


def test_a_resident_on_a_phone_chats_with_photo_follows_rates_and_withdraws(
        browser, live_server, rasa_stack, stub, make, db, artifacts):
    world = make.world()
    neighbour = make.resident(openid="o-neighbour", name="李桂兰")
    theirs = make.order(neighbour, text=THEIRS, location_text="水晶城小区3号楼", category=None)  # classified as the bot's
    community = world["community"]
    admin = Actor.for_staff(world["community_admin"])
    for text in ("希望有人教我用智能手机挂号", "家里的旧空调不制冷了，希望有人帮忙看看", "想给小区的孩子们借几本课外书"):
        wish = wishes.create_wish(Actor.for_resident(neighbour), community_id=community.id, text=text)
        wishes.perform(admin, wish, "approve")
    worker = Actor.for_staff(world["workers"][0])
    db.session.rollback()  # SQLite: the live server must not wait for this thread's read lock

    context = browser.new_context(**PHONE)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(f"{live_server}/m/")
    page.wait_for_selector("text=有事您说")
    _no_inline_code(page)

    # --- The chat: the bot offers 附议 (a neighbour reported the lamp), asks for a photo, takes the order.
    say, offered, photo_sent, transcript = MINE, None, False, []
    for _ in range(10):
        if say == "［照片］":
            picker = page.locator("form.photo-form label.file-pick")
            assert picker.inner_text() == "拍照或选照片" and picker.bounding_box()["height"] >= 48
            page.set_input_files("input[name=photo]", str(PHOTO))
            assert picker.inner_text() == "已选好照片，点「发照片」"  # said in Chinese, no script
            with page.expect_navigation():
                page.click("#send-photo")
            photo_sent = True
        elif say == "不是一回事":
            with page.expect_navigation():
                page.click("form.choices button:has-text('不是一回事')")
        else:
            page.fill("textarea[name=text]", say)
            with page.expect_navigation():
                page.click("form.say button:has-text('发送')")
        latest = page.locator("#latest")
        replies = latest.locator(".bubble.bot").all_inner_texts()
        transcript.append((say, replies, latest.locator(".next-step").all_inner_texts()))
        if page.locator("#new-order").count():
            break
        if latest.locator("form.choices").count():
            offered = latest.locator("form.choices button").all_inner_texts()
            page.screenshot(path=str(artifacts / "h5-journey-buttons.png"), full_page=True)
            say = "不是一回事"
            continue
        last = replies[-1] if replies else ""
        say = "［照片］" if "照片" in last and not photo_sent else answer_to(last)
        assert say, f"unexpected question from the bot: {transcript}"
    assert page.locator("#new-order").count(), transcript
    # The bot's buttons were shown as buttons, with their words.
    assert offered == ["附议", "不是一回事"], transcript
    # The whole conversation stays on screen, in order: not only the last exchange.
    said = page.locator(".bubble.you").all_inner_texts()
    assert said[0] == MINE and "不是一回事" in said and "［照片］" in said and len(said) == len(transcript), said
    assert len(page.locator(".bubble.bot").all_inner_texts()) >= len(transcript)
    # The photo went with the order the bot took down; the read-back said it had the photo.
    assert any("照片：已收到" in r for _, replies, _ in transcript for r in replies), transcript
    number = page.inner_text("#new-order")
    # What happens now: who takes it and by when, and the 办理 limit.
    step = page.inner_text("#latest .next-step")
    assert "已附上您的 1 张照片" in step and "前接单" in step and "前办好" in step and "请您评价" in step, step
    page.locator("#latest").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "h5-journey-chat.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll on the phone

    order = db.session.query(Order).filter_by(number=number).one()
    assert order.id != theirs.id and len(order.attachments) == 1 and order.attachments[0].content_type == "image/png"
    resident_id = order.resident_id
    second = make.order(db.session.get(type(neighbour), resident_id), text="小区东门垃圾桶满了没人清",
                        location_text="水晶城小区东门")
    second_number = second.number
    db.session.rollback()

    # --- 我的诉求: the 2-hour claim limit and the 3-day resolve limit, each with its own name.
    page.goto(f"{live_server}/m/")
    mine = page.locator("ul.orders li", has_text=number)
    claim, resolve = mine.locator(".deadline.claim").inner_text(), mine.locator(".deadline.resolve").inner_text()
    assert claim.startswith("接单时限") and resolve.startswith("办理时限"), (claim, resolve)
    claim_at, resolve_at = (re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", t)[0] for t in (claim, resolve))
    assert claim_at < resolve_at
    page.locator("section[aria-label=我的诉求]").screenshot(path=str(artifacts / "h5-journey-orders.png"))

    # --- 撤回 asks first: the first tap only asks; 不撤回 keeps it; 确定撤回 withdraws.
    page.goto(f"{live_server}/m/orders/{second_number}")
    with page.expect_navigation():
        page.click("#cancel-order")
    page.wait_for_selector("text=确定要撤回这条诉求吗")
    _no_inline_code(page)
    page.screenshot(path=str(artifacts / "h5-journey-withdraw-confirm.png"), full_page=True)
    db.session.expire_all()
    assert db.session.query(Order).filter_by(number=second_number).one().state == "submitted"
    with page.expect_navigation():
        page.click("#keep-order")
    assert page.url.endswith(f"/m/orders/{second_number}")
    with page.expect_navigation():
        page.click("#cancel-order")
    with page.expect_navigation():
        page.tap("#confirm-cancel")
    page.wait_for_selector("text=诉求已撤回，网格员不再办理")
    db.session.expire_all()
    assert db.session.query(Order).filter_by(number=second_number).one().state == "cancelled"

    # --- Rating: big targets; 不满意 says it went back to the worker, 满意 that it is closed.
    order = db.session.query(Order).filter_by(number=number).one()
    services.perform(worker, order, "claim")
    services.perform(worker, order, "resolve", result="已更换路灯灯泡")
    db.session.rollback()
    page.goto(f"{live_server}/m/orders/{number}")
    page.wait_for_selector("text=办得怎么样")
    for choice in page.locator("label.rate-choice").all():
        box = choice.bounding_box()
        assert box["height"] >= 48 and box["width"] >= 300, box  # a thumb, not a fingertip
    page.tap("label.rate-choice:has-text('不满意')")
    assert page.is_checked("input[value=unsatisfied]")
    page.fill("input[name=comment]", "晚上还是不亮")
    page.screenshot(path=str(artifacts / "h5-journey-rating.png"), full_page=True)
    with page.expect_navigation():
        page.tap("button:has-text('提交评价')")
    page.wait_for_selector("text=已重新交给网格员办理")
    page.screenshot(path=str(artifacts / "h5-journey-rated-unsatisfied.png"), full_page=True)
    db.session.expire_all()
    order = db.session.query(Order).filter_by(number=number).one()
    assert order.state == "reopened"
    services.perform(worker, order, "claim")
    services.perform(worker, order, "resolve", result="已更换整套灯具")
    db.session.rollback()
    page.goto(f"{live_server}/m/orders/{number}")
    page.tap("label.rate-choice:has-text('满意') >> nth=0")
    with page.expect_navigation():
        page.tap("button:has-text('提交评价')")
    page.wait_for_selector("text=感谢评价，此件已办结")
    page.screenshot(path=str(artifacts / "h5-journey-rated-satisfied.png"), full_page=True)

    # --- 心愿墙: the published wishes as a wall of cards, two to a row on the phone.
    page.goto(f"{live_server}/m/")
    page.click("#wish-board")
    page.wait_for_selector("section[aria-label=心愿墙]")
    cards = page.locator("section[aria-label=心愿墙] li.wish-card")
    assert cards.count() == 3
    first, second_card = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert abs(first["y"] - second_card["y"]) < 2 and second_card["x"] > first["x"] + first["width"] - 1
    assert "空调" in page.inner_text("section[aria-label=心愿墙]")
    _no_inline_code(page)
    page.screenshot(path=str(artifacts / "h5-journey-wishes.png"), full_page=True)
    assert problems == []
    context.close()
    db.session.expire_all()
    assert db.session.query(Order).filter_by(number=number).one().satisfaction == "satisfied"
    assert timedelta(0) < order.resolve_by - order.claim_by
