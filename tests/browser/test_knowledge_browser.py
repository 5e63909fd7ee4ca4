"""知识库 end to end (issue 23, must-show): a community admin adds 「社区疫苗接种时间」 on the console in a
real browser; a resident of that community asks it three different ways in the H5 chat and gets it
from the real bot (Rasa → action_answer_faq → the backend), with no retraining; a resident of
another community does not; an entry past its valid-until date is not answered; the 待补充 page shows
ten similar questions as one line with its count."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.accounts.actors import Actor
from backend.accounts.models import Resident
from backend.knowledge import services
from tests.browser.test_resident_h5 import PHONE
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

ANSWER = "社区卫生服务站每周二、周四上午8:30-11:00接种疫苗，请带好接种本。"
EXPIRED = "国庆期间每天9:00-16:00有人值班。"
MOVIES = ["社区电影什么时候放", "露天电影几号放映", "今晚放电影吗", "社区电影放的什么片", "这周有没有露天电影", "广场电影几点开始", "放电影在哪个位置", "露天电影要带凳子吗", "社区电影每月放几次", "今年还放露天电影吗"]


def _resident_in(browser, live_server, db, community):
    """A resident signed in on the H5 pages (the stub's WeChat OAuth: one browser context, one
    person), registered (双报到) with `community`: that is where their answers come from."""
    from backend.wishes import registry
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/m/")
    page.wait_for_selector("text=有事您说")
    db.session.rollback()
    resident = db.session.scalars(select(Resident).order_by(Resident.id.desc())).first()
    registry.register(Actor.for_resident(resident), community_id=community.id, kind="volunteer", name="居民",
                      skills=[], hours_available=1)
    db.session.rollback()
    return context, page


def _ask(page, text: str) -> str:
    """The bot's replies to `text` (the latest turn of the conversation on the page)."""
    page.fill("textarea[name=text]", text)
    with page.expect_navigation():
        page.click("button:has-text('发送')")
    assert page.locator("#latest .bubble.you").inner_text() == text
    return "\n".join(page.locator("#latest .bubble.bot").all_inner_texts())


def test_a_community_admins_entry_is_answered_to_its_residents_only(browser, live_server, rasa_stack, stub,
                                                                    make, db, artifacts):
    street = make.street()
    ours = make.community(street, name="水晶城社区", aliases=["水晶城小区"])
    other = make.community(street, name="翠苑社区", aliases=["翠苑小区"])
    make.building(make.grid(ours), number=3)
    make.building(make.grid(other), number=8)
    admin = make.staff("community_admin", community=ours)
    services.add_entry(Actor.for_staff(admin), f"community:{ours.id}", {
        "question": "国庆期间社区值班安排", "answer": EXPIRED, "valid_until": services.today() - timedelta(days=1)})
    username = admin.username
    services.index()  # built before the first question, as backend.wsgi.warm_up does for the web workers
    db.session.rollback()

    console = browser.new_page()
    errors = []
    console.on("pageerror", lambda exc: errors.append(str(exc)))
    console.goto(f"{live_server}/console/")
    console.fill("input[name=username]", username)
    console.fill("input[name=password]", PASSWORD)
    console.click("button[type=submit]")
    console.wait_for_url("**/console/")
    console.click("nav >> text=知识库")
    console.click("text=新增知识")
    console.fill("input[name=question]", "社区疫苗接种时间")
    console.fill("textarea[name=variants]", "打疫苗是哪天")
    console.fill("textarea[name=answer]", ANSWER)
    console.fill("input[name=place]", "社区卫生服务站二楼")
    with console.expect_navigation():
        console.click("button:has-text('保存')")
    console.wait_for_selector("text=知识已保存")
    console.screenshot(path=str(artifacts / "knowledge-entry.png"), full_page=True)

    context, page = _resident_in(browser, live_server, db, ours)
    for asked in ("社区什么时候打疫苗", "疫苗接种是哪天", "孩子打疫苗去哪"):
        replies = _ask(page, asked)
        assert ANSWER in replies and "社区卫生服务站二楼" in replies, (asked, replies)
    replies = _ask(page, "国庆期间社区值班安排")
    assert EXPIRED not in replies, replies
    page.screenshot(path=str(artifacts / "knowledge-chat.png"), full_page=True)
    context.close()

    context, page = _resident_in(browser, live_server, db, other)
    for asked in ("社区什么时候打疫苗", "疫苗接种是哪天"):
        replies = _ask(page, asked)
        assert ANSWER not in replies and replies, (asked, replies)
    page.screenshot(path=str(artifacts / "knowledge-chat-other-community.png"), full_page=True)
    context.close()

    ours_resident = db.session.scalar(select(Resident).order_by(Resident.id.desc()).offset(1).limit(1))
    for text in MOVIES:
        services.ask(ours_resident.id, text)
    db.session.rollback()
    console.goto(f"{live_server}/console/knowledge/unanswered")
    movies = console.locator("tr.unanswered-group", has_text="电影")
    assert movies.count() == 1 and movies.locator("td.count").inner_text() == "10"
    console.screenshot(path=str(artifacts / "knowledge-unanswered.png"), full_page=True)
    assert errors == []
