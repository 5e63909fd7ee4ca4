"""Issue 24, item 3: staff are reminded where they live at work — 企业微信 (WeCom) application
messages through wechatpy's WeCom client, against the stub that learned WeCom's API (gettoken,
message/send): a 督办 and a 不满意 reopening reach the worker as a text card linking to the order's
phone page; other notices stay on the console; a user outside the app's range is skipped, not retried."""
import pytest
from sqlalchemy import select

from backend.accounts.actors import Actor
from backend.dispatch import claims
from backend.notifications import services as notifications
from backend.notifications.models import Notification
from backend.orders import services


@pytest.fixture
def wecom(app, stub, monkeypatch):
    for key, value in {"WECOM_CORP_ID": "wwstubcorp", "WECOM_SECRET": "stub-wecom-secret", "WECOM_AGENT_ID": 1000002,
                       "WECOM_API_BASE": stub.url + "/", "PUBLIC_URL": "https://mailbox.example.cn"}.items():
        monkeypatch.setitem(app.config, key, value)
    return stub


def _deliver(db):
    for row in db.session.scalars(select(Notification).where(Notification.status == "pending")):
        notifications.deliver(row.id)
    db.session.expire_all()


def test_a_supervise_and_a_reopening_reach_the_worker_on_wecom(wecom, make, db):
    world = make.world()
    worker, leader, resident = world["workers"][0], world["leader"], world["resident"]
    order = make.order(resident, text="3号楼门口井盖松动")
    claims.act(Actor.for_staff(worker), order.number, "claim")
    claims.act(Actor.for_staff(leader), order.number, "supervise", note="今天内处理")
    claims.act(Actor.for_staff(worker), order.number, "resolve", result="已固定")
    services.rate(Actor.for_resident(resident), order, satisfaction="unsatisfied", comment="还在响")
    _deliver(db)
    sent = wecom.calls("cgi-bin/message/send")
    cards = [(c["json"]["touser"], c["json"]["textcard"]) for c in sent]
    to_worker = [card for user, card in cards if user == worker.username]
    assert {c["title"] for c in to_worker} == {"【红色信箱】督办", "【红色信箱】重新办理"}  # the resolver is told
    assert all(c["url"] == f"https://mailbox.example.cn/console/m/orders/{order.number}" for c in to_worker)
    assert any("还在响" in c["description"] for c in to_worker)
    assert all(c["json"]["agentid"] == 1000002 and c["json"]["msgtype"] == "textcard" for c in sent)
    assert wecom.calls("cgi-bin/gettoken")[0]["query"] == {"corpid": "wwstubcorp", "corpsecret": "stub-wecom-secret"}
    rows = db.session.scalars(select(Notification).where(Notification.channel == "wecom")).all()
    assert rows and all(r.status == "sent" for r in rows)
    # the console reminder is written as well; kinds outside WECOM_KINDS (the claim, escalation…) are not sent there
    assert {r.kind for r in rows} <= {"supervise", "reopened", "overdue", "assigned_to_you"}
    assert db.session.scalars(select(Notification).where(Notification.channel == "console",
                                                         Notification.kind == "supervise")).all()


def test_someone_outside_the_apps_range_is_skipped_and_nothing_goes_without_a_corp_id(wecom, app, make, db, monkeypatch):
    world = make.world()
    worker, leader = world["workers"][0], world["leader"]
    wecom.config(refused=[worker.username])
    order = make.order(world["resident"])
    claims.act(Actor.for_staff(worker), order.number, "claim")
    claims.act(Actor.for_staff(leader), order.number, "supervise", note="请抓紧")
    _deliver(db)
    row = db.session.scalar(select(Notification).where(Notification.channel == "wecom"))
    assert row.status == "skipped" and row.attempts == 1
    monkeypatch.setitem(app.config, "WECOM_CORP_ID", "")
    claims.act(Actor.for_staff(leader), order.number, "supervise", note="再催一次")
    assert db.session.scalar(select(Notification).where(Notification.channel == "wecom",
                                                        Notification.id > row.id)) is None


def test_a_limit_about_to_pass_is_told_once_to_whoever_must_act(wecom, app, make, db):
    """即将到期 (item 3): the due-soon tick tells the assignee of a claimed order, and those who hold an
    unclaimed one at its rung, once per limit — on the console and on WeCom; a limit hours away and a
    paused order are not told; a new limit is told again."""
    from datetime import timedelta
    from backend import clock
    from backend.dispatch import ticks
    from backend.orders import ladder
    world = make.world()
    worker = world["workers"][0]
    mine = make.order(world["resident"], text="3号楼楼道灯不亮")
    claims.act(Actor.for_staff(worker), mine.number, "claim")
    waiting = make.order(world["resident"], text="3号楼垃圾桶满了")
    later = make.order(world["resident"], text="3号楼墙皮脱落")
    paused = make.order(world["resident"], text="3号楼水管漏水")
    now = clock.now()
    mine.due_at = now + timedelta(minutes=30)
    waiting.due_at = waiting.claim_by = now + timedelta(minutes=20)
    later.due_at = now + timedelta(hours=5)
    paused.due_at, paused.flags = now + timedelta(minutes=10), [*(paused.flags or []), "paused"]
    db.session.commit()
    holders = set(ladder.holders(waiting))

    assert ticks.due_soon_tick() == {"reminded": 2, "skipped": 0}
    told = db.session.scalars(select(Notification).where(Notification.kind == "due_soon",
                                                         Notification.channel == "console")).all()
    assert {(n.order_id, n.recipient_id) for n in told} == {(mine.id, worker.id), *((waiting.id, s) for s in holders)}
    text = notifications.render(next(n for n in told if n.order_id == mine.id))
    assert "即将到期" in text and mine.number in text and "请抓紧办结" in text
    assert "请抓紧接单" in notifications.render(next(n for n in told if n.order_id == waiting.id))
    _deliver(db)
    cards = [c["json"] for c in wecom.calls("cgi-bin/message/send")]
    assert {c["textcard"]["title"] for c in cards} == {"【红色信箱】即将到期"}
    assert f"https://mailbox.example.cn/console/m/orders/{mine.number}" in {c["textcard"]["url"] for c in cards}

    assert ticks.due_soon_tick() == {"reminded": 0, "skipped": 2}  # told once per limit
    mine = db.session.get(type(mine), mine.id)
    mine.due_at = clock.now() + timedelta(minutes=50)  # a new limit (e.g. extended): told again
    db.session.commit()
    assert ticks.due_soon_tick()["reminded"] == 1
