"""A resident on a phone: opens /m/ in a browser through WeChat's web OAuth (the stub), chats with
the real bot until it gives an order number, and after a worker resolves the order rates it 不满意
— the order is reopened."""
import pytest

from backend.accounts.actors import Actor
from backend.orders import services
from backend.orders.models import Order
from tests.conftest import answer_to

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN",
         "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                       "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49 NetType/WIFI Language/zh_CN"}


def test_a_resident_chats_gets_a_number_and_reopens_it_by_rating(browser, live_server, rasa_stack, stub,
                                                                  make, db, artifacts):
    world = make.world()
    worker = Actor.for_staff(world["workers"][0])
    db.session.rollback()  # SQLite: the live server must not wait for this thread's read lock
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/m/")  # → /m/login → the stub's authorize → /m/oauth/callback → /m/
    page.wait_for_selector("text=有事您说")
    assert page.url.startswith(f"{live_server}/m/")

    say, transcript = "水晶城小区3号楼2单元楼道灯坏了好几天了", []
    for _ in range(8):
        page.fill("textarea[name=text]", say)
        with page.expect_navigation():  # the form posts, the page comes back with the bot's reply
            page.click("button:has-text('发送')")
        replies = page.locator(".bubble.bot").all_inner_texts()
        transcript += [("resident", say), ("bot", replies)]
        if page.locator("#new-order").count():
            break
        say = answer_to(replies[-1]) if replies else None
        assert say, f"unexpected question from the bot: {transcript}"
    assert page.locator("#new-order").count(), "\n".join(f"{who}: {said}" for who, said in transcript)
    number = page.locator("#new-order").inner_text()
    assert number.startswith("HX"), transcript
    page.screenshot(path=str(artifacts / "h5-chat.png"), full_page=True)

    order = db.session.query(Order).filter_by(number=number).one()
    assert order.channel == "h5" and order.grid_id == world["grids"][0].id
    services.perform(worker, order, "claim")
    services.perform(worker, order, "resolve", result="已更换楼道灯")
    db.session.rollback()

    page.click("#new-order")
    page.wait_for_selector("text=办得怎么样")
    assert "已更换楼道灯" in page.inner_text("main")
    page.check("input[value=unsatisfied]")
    page.fill("input[name=comment]", "晚上还是不亮")
    with page.expect_navigation():
        page.click("button:has-text('提交评价')")
    page.wait_for_selector(".state:has-text('重新办理')")
    page.screenshot(path=str(artifacts / "h5-reopened.png"), full_page=True)
    assert errors == []
    context.close()
    db.session.expire_all()
    reopened = db.session.query(Order).filter_by(number=number).one()
    assert reopened.state == "reopened" and reopened.satisfaction == "unsatisfied"
    assert reopened.rating_comment == "晚上还是不亮"
