"""A party member registered with the community (双报到) opens the wish board on a phone through
WeChat's web OAuth (the stub), claims a published wish, fulfils it with what was done and the
hours; the wisher confirms; the public board shows it masked."""
import pytest

from backend.accounts.actors import Actor
from backend.wishes import registry, services
from backend.wishes.models import VolunteerHours, Wish

pytestmark = [pytest.mark.browser]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN",
         "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                       "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49 NetType/WIFI Language/zh_CN"}


def test_a_member_claims_and_fulfils_a_wish_from_a_phone(browser, live_server, stub, make, db, artifacts):
    community = make.community(name="金鸡湖社区")
    admin = Actor.for_staff(make.staff("community_admin", community=community))
    wisher = make.resident(openid="o-wisher", name="李桂兰", phone="13912345678")
    member = make.resident(openid="o-party-member", name="张伟")
    registry.register(Actor.for_resident(member), community_id=community.id, kind="party_member", name="张伟",
                      skills=["维修"], hours_available=4, workplace="园区供电所")
    wish = services.create_wish(Actor.for_resident(wisher), community_id=community.id,
                                text="我是李桂兰，电话13912345678，家里的旧空调不制冷了，希望有人帮忙看看")
    services.perform(admin, wish, "approve")
    wish_id = wish.id
    stub.config(oauth_users={"zhang": "o-party-member"})
    db.session.rollback()  # SQLite: the live server must not wait for this thread's read lock

    context = browser.new_context(**PHONE)
    context.add_cookies([{"name": "stub_wechat_user", "value": "zhang", "url": stub.url}])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/m/")  # → /m/login → the stub's authorize → /m/oauth/callback → /m/
    page.wait_for_selector("#wish-board")
    page.click("#wish-board")
    page.wait_for_selector("text=待认领")
    card = page.locator("li.wish", has_text="旧空调")
    assert "139****5678" in card.inner_text() and "13912345678" not in page.content()  # another's wish, masked
    card.click()
    page.wait_for_selector("button:has-text('认领这个心愿')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone: no sideways scroll
    with page.expect_navigation():
        page.tap("button:has-text('认领这个心愿')")
    page.wait_for_selector("text=认领成功")
    assert page.inner_text("#wish-state") == "已认领"
    page.screenshot(path=str(artifacts / "h5-wish-claimed.png"), full_page=True)

    page.fill("textarea[name=evidence]", "已上门清洗空调滤网并加了冷媒，试机正常")
    page.fill("input[name=hours]", "2")
    with page.expect_navigation():
        page.tap("button:has-text('提交完成情况')")
    page.wait_for_selector("text=等待居民确认")
    assert page.inner_text("#wish-state") == "待确认"
    assert errors == []
    context.close()

    db.session.expire_all()
    done = db.session.get(Wish, wish_id)
    assert done.state == "fulfilled" and done.claimant.resident_id == member.id
    services.perform(Actor.for_resident(wisher), done, "confirm")
    hours = db.session.query(VolunteerHours).one()
    assert hours.member.name == "张伟" and float(hours.hours) == 2.0
    db.session.rollback()

    public = browser.new_context(**PHONE).new_page()
    public.goto(f"{live_server}/public/wishes")
    row = public.locator("tr.wish", has_text="旧空调").inner_text()
    assert "已实现" in row and "张*" in row and "李桂兰" not in row and "13912345678" not in row
    public.screenshot(path=str(artifacts / "public-wishes.png"), full_page=True)
    public.context.close()
