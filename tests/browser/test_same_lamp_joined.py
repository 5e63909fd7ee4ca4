"""Must-show of issue 20 (附议): ten residents report the same broken street lamp within an hour, on
the H5 pages (Playwright, Debian chromium) and in WeChat (signed, encrypted pushes; the real bot's
answers reach the WeChat stub as customer-service and menu messages). The first makes an order; the
bot asks each next one 「这个问题已有居民反映（HX…，办理中），要不要附议？」 and they say 附议 — two say
不是一回事 and get their own order. The worker resolves once; every co-reporter is told and rates; the
dashboard and 公示 count one problem raised by many residents. Screenshots in tests/artifacts/."""
import re
import uuid
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from backend import clock
from backend.accounts.actors import Actor
from backend.accounts.models import Resident
from backend.notifications.models import Notification
from backend.orders import services
from backend.orders.models import CoReporter, Order, OrderEvent
from backend.wechat.models import WechatSubscription
from tests.conftest import answer_to
from tests.factories import PASSWORD
from tests.wechat.conftest import WeChatPusher, sha1_signature

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN",
         "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                       "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49 NetType/WIFI Language/zh_CN"}
# Ten residents, ten ways of saying it; even ones on the H5 pages, odd ones in WeChat. The last two
# say 不是一回事 (one on each way in).
SAID = ["水晶城小区3号楼门口的路灯不亮了，晚上黑乎乎的",
        "3号楼门口路灯坏了，晚上看不见路",
        "水晶城3号楼门前的路灯不亮，晚上黑乎乎",
        "3号楼门口那盏路灯好几天不亮了",
        "3号楼门口的路灯晚上不亮，老人出门怕摔",
        "水晶城小区3号楼门口路灯不亮了",
        "3号楼门口路灯一直不亮，晚上太黑了",
        "3号楼门口路灯不亮了，晚上出门太黑",
        "3号楼门口路灯不亮，黑咕隆咚的",
        "3号楼门口路灯不亮了，晚上回家很危险"]
SEPARATE = {8, 9}
QUESTION = re.compile(r"这个问题已有居民反映（(HX\d{8}-\d{4})，办理中），要不要附议？附议后进展会同步通知您")


def _menu_or_text(call):
    body = call["json"]
    return body["msgmenu"]["head_content"] if body["msgtype"] == "msgmenu" else body["text"]["content"]


class ClockPusher(WeChatPusher):
    """WeChat signs with its own clock: here the test's, which moves through the hour."""

    def query(self, *, safe=False, encrypt=None, openid="o", bad=False):
        timestamp, nonce = str(int(clock.now().timestamp())), uuid.uuid4().hex[:10]
        return {"signature": sha1_signature(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                "openid": openid, "encrypt_type": "aes",
                "msg_signature": sha1_signature(self.token, timestamp, nonce, encrypt)}


class WeChatResident:
    """One resident writing to the official account: each message a signed, encrypted push; the worker
    runs the turn; the replies are what the stub received for this openid."""

    def __init__(self, pusher, work, stub, openid):
        self.pusher, self.work, self.stub, self.openid = pusher, work, stub, openid

    def sent(self):
        return [c["json"] for c in self.stub.calls("cgi-bin/message/custom/send")
                if c["json"] and c["json"].get("touser") == self.openid]

    def say(self, text, menu_id=None):
        before = len(self.sent())
        xml = (f"<xml><ToUserName><![CDATA[gh_redmailbox]]></ToUserName><FromUserName><![CDATA[{self.openid}]]>"
               f"</FromUserName><CreateTime>{int(clock.now().timestamp())}</CreateTime><MsgType><![CDATA[text]]>"
               f"</MsgType><Content><![CDATA[{text}]]></Content><MsgId>{uuid.uuid4().int % 10**18}</MsgId>"
               + (f"<bizmsgmenuid>{menu_id}</bizmsgmenuid>" if menu_id else "") + "</xml>")
        assert self.pusher.push(xml, safe=True).status_code == 200
        self.work()
        return self.sent()[before:]


def _h5_report(page, live_server, said, choice):
    """Chat on /m/ until the order is made or the bot asks about 附议; answer `choice` then.
    Returns (asked about, own order number or None, joined number or None)."""
    page.goto(f"{live_server}/m/")
    page.wait_for_selector("text=有事您说")
    say, asked, transcript = said, None, []
    for _ in range(8):
        page.fill("textarea[name=text]", say)
        with page.expect_navigation():
            page.click("form:not(.choices) button:has-text('发送')")
        replies = page.locator("#latest .bubble.bot").all_inner_texts()
        transcript.append((say, replies))
        if page.locator("#new-order").count() or page.locator("#joined-order").count():
            break
        match = QUESTION.search(replies[-1]) if replies else None
        if match:
            asked = match[1]
            assert page.locator("form.choices button").all_inner_texts() == ["附议", "不是一回事"]
            return asked, transcript
        say = answer_to(replies[-1]) if replies else None
        assert say, f"unexpected question from the bot: {transcript}"
    return asked, transcript


def _wechat_report(resident, said):
    say, transcript = said, []
    for _ in range(8):
        replies = resident.say(say)
        transcript.append((say, replies))
        menus = [r for r in replies if r["msgtype"] == "msgmenu"]
        if menus:
            assert [i["content"] for i in menus[-1]["msgmenu"]["list"]] == ["附议", "不是一回事"]
            return QUESTION.search(menus[-1]["msgmenu"]["head_content"])[1], transcript
        texts = [_menu_or_text({"json": r}) for r in replies]
        if any("工单号" in t for t in texts):
            return None, transcript
        say = answer_to(texts[-1]) if texts else None
        assert say, f"unexpected question from the bot: {transcript}"
    raise AssertionError(transcript)


def test_ten_residents_one_lamp_one_problem(browser, live_server, rasa_stack, stub, app, client, redis, make, db,
                                            auth, artifacts):
    world = make.world()
    worker_staff, admin = world["workers"][0], make.staff("community_admin", community=world["community"])
    db.session.commit()
    admin_name, worker = admin.username, Actor.for_staff(worker_staff)
    db.session.rollback()
    connection = Redis.from_url(app.config["REDIS_URL"])
    queues = [Queue(name, connection=connection) for name in (app.config["WECHAT_QUEUE"], "notifications")]
    work = lambda: SimpleWorker(queues, connection=connection).work(burst=True)  # noqa: E731
    pusher = ClockPusher(app, client)
    errors, pages, lamp = [], {}, None
    # the clock stays where the hour took it (the autouse fixture resets it after the test)
    for i, said in enumerate(SAID):
        if i:
            clock.travel(timedelta(minutes=6))  # ten reports within the hour
        choice = "不是一回事" if i in SEPARATE else "附议"
        if i % 2 == 0:  # the H5 pages, one browser per resident (the stub's WeChat remembers who)
            page = browser.new_context(**PHONE).new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            asked, transcript = _h5_report(page, live_server, said, choice)
            pages[i] = page
            if asked:
                assert lamp is not None and asked == lamp, transcript
                if i == 2:
                    page.screenshot(path=str(artifacts / "join-h5-question.png"), full_page=True)
                with page.expect_navigation():
                    page.click(f"form.choices button:has-text('{choice}')")
                assert page.locator("#latest .bubble.you").inner_text() == choice  # the words, not the payload
                if i == 2:
                    page.screenshot(path=str(artifacts / "join-h5-joined.png"), full_page=True)
            if choice == "附议" and asked:
                assert page.locator("#joined-order").inner_text() == lamp
            else:
                number = page.locator("#new-order").inner_text()
                lamp = lamp or number
                assert (number == lamp) == (i == 0), (i, number, lamp)
        else:  # WeChat: the question comes as a menu message, a tap pushes its words back
            resident = WeChatResident(pusher, work, stub, f"o-lamp-{i}")
            asked, transcript = _wechat_report(resident, said)
            assert asked == lamp, transcript
            replies = resident.say(choice, menu_id=2 if choice == "不是一回事" else 1)
            texts = [_menu_or_text({"json": r}) for r in replies]
            if choice == "附议":
                assert any(f"已为您附议工单 {lamp}" in t for t in texts), texts
            else:
                assert any("工单号" in t and lamp not in t for t in texts), texts

    db.session.expire_all()
    order = db.session.scalar(select(Order).where(Order.number == lamp))
    co = db.session.scalars(select(CoReporter).where(CoReporter.order_id == order.id)).all()
    assert len(co) == 7 and all(c.from_order_id is None for c in co)
    joins = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                        OrderEvent.action == "join")).all()
    assert sorted(e.actor_id for e in joins) == sorted(c.resident_id for c in co)  # each audited
    assert {e.data["channel"] for e in joins} == {"h5", "wechat"}
    own = db.session.scalars(select(Order).where(Order.number != lamp)).all()
    assert len(own) == 2 and all(o.state == "submitted" for o in own)  # 不是一回事: orders of their own
    reporters = {order.resident_id, *(c.resident_id for c in co)}

    # each accepted the 办结通知 subscribe message when reporting (the mini-program asks then)
    template = app.config["WECHAT_TEMPLATES"]["resolved"]
    for resident_id in reporters:
        db.session.add(WechatSubscription(resident_id=resident_id, template_id=template, status="accept", grants=1))
    db.session.commit()
    # the worker resolves once, half an hour later; every reporter and co-reporter is told, through WeChat
    clock.travel(timedelta(minutes=30))
    services.perform(worker, order, "claim")
    services.perform(worker, order, "resolve", result="已更换3号楼门口路灯灯泡并检修线路")
    resolved = db.session.scalars(select(Notification).where(Notification.order_id == order.id,
                                                             Notification.kind == "resolved")).all()
    assert sorted(n.recipient_id for n in resolved if n.recipient_type == "resident") == sorted(reporters)
    openids = {r.openid for r in db.session.scalars(select(Resident).where(Resident.id.in_(reporters)))}
    db.session.rollback()
    work()  # the outbox delivers
    told = {c["json"]["touser"] for c in stub.calls("cgi-bin/message/subscribe/send")
            if c["json"] and c["json"].get("template_id") == template}
    assert told == openids and len(openids) == 8

    # each rates: the H5 ones on their order page, the WeChat ones through the API (the mini-program)
    for i, page in pages.items():
        if i in SEPARATE:
            continue
        page.goto(f"{live_server}/m/orders/{lamp}")
        page.wait_for_selector("text=办得怎么样")
        assert "已更换3号楼门口路灯灯泡" in page.inner_text("main")
        page.check("input[value=satisfied]")
        with page.expect_navigation():
            page.click("button:has-text('提交评价')")
        if i == 4:
            page.screenshot(path=str(artifacts / "join-h5-rated.png"), full_page=True)
    wechat_residents = db.session.scalars(select(Resident).where(Resident.openid.like("o-lamp-%"))).all()
    for resident in wechat_residents:
        if resident.id not in reporters:
            continue
        rated = client.post(f"/api/v1/orders/{lamp}/rating", json={"satisfaction": "满意"},
                            headers=auth.headers_for(resident))
        assert rated.status_code == 200, rated.get_json()
    db.session.expire_all()
    rates = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id,
                                                        OrderEvent.action == "rate")).all()
    assert {e.actor_id for e in rates} == reporters and order.state == "rated"

    # the dashboard and 公示: one problem, many residents
    work()  # the content check of every order (公示 shows checked ones only)
    page = browser.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/console/")
    page.fill("input[name=username]", admin_name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/")
    page.wait_for_load_state("load")
    page.screenshot(path=str(artifacts / "join-dashboard.png"), full_page=True)
    assert "反映 10 人次，合并为 3 件" in page.inner_text("body")
    page.goto(f"{live_server}/public/communities/{world['community'].id}")
    page.screenshot(path=str(artifacts / "join-public.png"), full_page=True)
    public = page.inner_text("body")
    assert lamp in public and "8 位居民反映" in public
    assert errors == []
