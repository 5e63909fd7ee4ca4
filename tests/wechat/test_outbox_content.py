"""Outbox rows for WeChat (customer-service and subscribe messages), the 48-hour window,
refusals, retries; content security on new orders."""
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from backend import clock
from backend.accounts.actors import Actor
from backend.notifications.models import Notification
from backend.notifications.services import deliver
from backend.orders import services as orders
from backend.orders.models import OrderEvent
from backend.wechat import jobs, services as wechat
from backend.wechat.models import WechatSubscription


@pytest.fixture
def resident(make):
    return make.resident(openid="o-outbox")


@pytest.fixture
def admin(make):
    return Actor.for_staff(make.staff("sysadmin"))


def grant(db, resident, template, times=1):
    for _ in range(times):
        wechat.record_subscription(resident.id, template, "accept")
    db.session.commit()


def subscribe_calls(stub):
    return [c["json"] for c in stub.calls("cgi-bin/message/subscribe/send")]


def rows(db, **where):
    db.session.expire_all()
    query = select(Notification).where(Notification.channel.in_(("wechat_cs", "wechat_subscribe")))
    for key, value in where.items():
        query = query.where(getattr(Notification, key) == value)
    return db.session.scalars(query.order_by(Notification.id)).all()


def test_claim_and_resolve_send_subscribe_messages_to_a_resident_who_granted_them(
        db, make, stub, worker, resident, admin):
    grant(db, resident, "tmpl-claimed")
    grant(db, resident, "tmpl-resolved")
    order = make.order(resident=resident)
    orders.perform(admin, order, "claim")
    orders.perform(admin, order, "resolve", result="灯已修好")
    worker()
    sent = subscribe_calls(stub)
    assert [m["template_id"] for m in sent] == ["tmpl-claimed", "tmpl-resolved"]
    assert sent[0]["touser"] == "o-outbox" and sent[0]["data"]["character_string1"]["value"] == order.number
    assert sent[1]["data"]["thing4"]["value"] == "灯已修好"
    assert [r.status for r in rows(db, channel="wechat_subscribe")] == ["sent", "sent"]
    assert all(s.grants == 0 for s in db.session.scalars(select(WechatSubscription)))


def test_without_a_grant_the_row_is_recorded_as_skipped_not_sent(db, make, stub, worker, resident, admin):
    order = make.order(resident=resident)
    orders.perform(admin, order, "claim")
    worker()
    [row] = rows(db, channel="wechat_subscribe")
    assert row.status == "skipped" and "not granted" in row.last_error
    assert subscribe_calls(stub) == []


def test_43101_marks_the_subscription_refused_and_it_is_not_retried(db, make, stub, worker, resident, admin):
    grant(db, resident, "tmpl-claimed")
    grant(db, resident, "tmpl-reopened")
    stub.config(refused=["o-outbox"])
    order = make.order(resident=resident)
    orders.perform(admin, order, "claim")
    worker()
    [row] = rows(db, channel="wechat_subscribe")
    assert row.status == "skipped" and "43101" in row.payload["undelivered"]
    assert db.session.scalar(select(WechatSubscription.status).where(
        WechatSubscription.template_id == "tmpl-claimed")) == "refused"
    # A later change on the same template writes nothing for the refusing resident.
    orders.perform(admin, order, "release")
    orders.perform(admin, order, "claim")
    worker()
    assert len(rows(db, channel="wechat_subscribe")) == 1
    assert len(stub.calls("cgi-bin/message/subscribe/send")) == 1


def test_reject_event_means_no_subscribe_rows(db, make, stub, worker, resident, admin):
    wechat.record_subscription(resident.id, "tmpl-claimed", "reject")
    db.session.commit()
    order = make.order(resident=resident)
    orders.perform(admin, order, "claim")
    worker()
    assert rows(db, channel="wechat_subscribe") == []


def _reply(db, resident, order, text):
    from backend.wechat.channels import new_notification
    note = new_notification(recipient_id=resident.id, channel="wechat_cs", kind="reply", order=order,
                            payload={"text": text})
    db.session.commit()  # the outbox enqueues the row after the commit
    return note.id


def test_reply_after_the_48h_window_falls_back_to_a_granted_subscribe_message(
        db, make, stub, worker, resident):
    grant(db, resident, "tmpl-reply")
    order = make.order(resident=resident)
    stub.config(out_of_window=["o-outbox"])
    note_id = _reply(db, resident, order, "您的诉求已转交物业")
    worker()
    cs, fallback = rows(db)
    assert cs.id == note_id and cs.status == "skipped" and "45015" in cs.payload["undelivered"]
    assert fallback.channel == "wechat_subscribe" and fallback.status == "sent"
    assert subscribe_calls(stub)[0]["template_id"] == "tmpl-reply"


def test_reply_after_the_window_without_a_grant_stays_in_the_order_history(db, make, stub, worker, resident):
    order = make.order(resident=resident)
    stub.config(out_of_window=["o-outbox"])
    note_id = _reply(db, resident, order, "请补充门牌号")
    worker()
    [cs] = rows(db)
    assert cs.status == "skipped"
    notes = db.session.scalars(select(OrderEvent.note).where(
        OrderEvent.order_id == order.id, OrderEvent.action == "note")).all()
    assert notes == ["请补充门牌号"]


def test_transient_failures_are_retried_with_backoff_then_marked_failed(db, make, stub, resident):
    order = make.order(resident=resident)
    flaky = _reply(db, resident, order, "first")
    stub.config(fail_next=[{"path": "cgi-bin/message/custom/send", "errcode": -1, "count": 1}])
    deliver(flaky)
    row = db.session.get(Notification, flaky)
    assert row.status == "pending" and "-1" in row.last_error and row.next_attempt_at > clock.now()
    clock.travel(timedelta(hours=2))
    deliver(flaky)
    db.session.expire_all()
    assert db.session.get(Notification, flaky).status == "sent"

    broken = _reply(db, resident, order, "second")
    stub.config(fail_next=[{"path": "cgi-bin/message/custom/send", "errcode": -1, "count": 50}])
    for _ in range(10):
        deliver(broken)
        db.session.expire_all()
        if db.session.get(Notification, broken).status != "pending":
            break
        clock.travel(timedelta(hours=2))
    row = db.session.get(Notification, broken)
    assert row.status == "failed" and "-1" in row.last_error and row.attempts >= 2


def test_risky_order_text_is_flagged_and_kept_off_public_pages(db, make, stub, worker, resident):
    stub.config(risky_words=["赌博"])
    risky = make.order(resident=resident, text="楼下有人聚众赌博")
    clean = make.order(resident=resident, text="楼道灯坏了")
    assert not wechat.is_publishable(clean)  # not checked yet
    worker()
    db.session.expire_all()
    assert "content_flagged" in risky.flags and not wechat.is_publishable(risky)
    assert "content_flagged" not in clean.flags and wechat.is_publishable(clean)
    assert len(stub.calls("wxa/msg_sec_check")) == 2


def test_sweep_finds_orders_whose_check_was_never_queued(db, make, stub, worker, resident, redis):
    order = make.order(resident=resident)
    redis.flushdb()  # the enqueued check is lost
    clock.travel(timedelta(minutes=5))
    assert jobs.sweep()["orders"] == 1
    worker()
    db.session.expire_all()
    assert wechat.is_publishable(order)


def test_a_burst_of_orders_queues_one_content_check_job_that_checks_them_all(db, make, stub, worker, resident):
    made = [make.order(resident=resident, text=f"楼道灯坏了第{i}次") for i in range(5)]
    queued = [j for j in worker.queue().get_jobs() if j.func_name.endswith("check_new_orders")]
    assert len(queued) == 1  # the first order queued it; the other four ride on it
    worker()
    db.session.expire_all()
    assert all(wechat.is_publishable(o) for o in made)
    assert len(stub.calls("wxa/msg_sec_check")) == 5
    later = make.order(resident=resident, text="单元门禁坏了")  # the job has run: a new one is queued
    assert [j.func_name for j in worker.queue().get_jobs()] == [queued[0].func_name]
    worker()
    db.session.expire_all()
    assert wechat.is_publishable(later) and len(stub.calls("wxa/msg_sec_check")) == 6


def test_a_content_check_wechat_cannot_answer_waits_and_the_rest_of_the_batch_goes_on(
        db, make, stub, worker, resident, monkeypatch):
    first, second = make.order(resident=resident, text="楼道灯坏了"), make.order(resident=resident, text="路灯不亮")
    real = wechat.check_order_content

    def flaky(order_id):
        if order_id == first.id:
            raise requests.ConnectionError("WeChat unreachable")
        return real(order_id)
    monkeypatch.setattr(wechat, "check_order_content", flaky)
    result = wechat.check_new_orders()
    db.session.expire_all()
    assert result["checked"] == {first.id: "failed", second.id: "pass"}
    assert not wechat.is_publishable(first) and wechat.is_publishable(second)
