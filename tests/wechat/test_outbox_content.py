"""Outbox rows for WeChat (customer-service and subscribe messages), the 48-hour window,
refusals, retries; content security on new orders."""
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text, update

from backend import clock
from backend.accounts.actors import Actor
from backend.notifications.models import Notification
from backend.notifications.services import deliver
from backend.orders import services as orders
from backend.orders.models import Order, OrderEvent
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
    # one batched job for whatever the sweep found, not a job per order
    assert [j.func_name for j in worker.queue().get_jobs()] == ["backend.wechat.jobs.check_new_orders"]
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


def checks_of(db, order):
    """The order's content-check events (the audit trail is_publishable reads)."""
    return db.session.scalars(select(OrderEvent).where(
        OrderEvent.order_id == order.id, OrderEvent.action.in_(wechat.CHECKED))).all()


def test_a_content_check_wechat_cannot_answer_waits_and_the_rest_of_the_batch_goes_on(db, make, stub, resident):
    first, second = make.order(resident=resident, text="楼道灯坏了"), make.order(resident=resident, text="路灯不亮")
    stub.config(fail_next=[{"path": "wxa/msg_sec_check", "errcode": -1, "count": 1}])  # 系统繁忙, once
    result = wechat.check_new_orders()
    db.session.expire_all()
    assert result["checked"] == {first.id: "failed", second.id: "pass"}
    assert not wechat.is_publishable(first) and wechat.is_publishable(second)
    assert checks_of(db, first) == [] and wechat.unchecked_orders(clock.now(), 10) == [first.id]
    assert wechat.check_new_orders()["checked"] == {first.id: "pass"}  # the next run takes it
    db.session.expire_all()
    assert wechat.is_publishable(first) and len(checks_of(db, first)) == 1


def test_wechat_out_of_reach_fails_the_batch_and_leaves_every_order_unchecked(db, make, stub, resident, app,
                                                                              monkeypatch):
    made = [make.order(resident=resident, text=f"路灯不亮第{i}盏") for i in range(3)]
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", "http://127.0.0.1:9/")  # refused: nothing listens
    assert set(wechat.check_new_orders()["checked"].values()) == {"failed"}
    assert wechat.unchecked_orders(clock.now(), 10) == [o.id for o in made]
    monkeypatch.setitem(app.config, "WECHAT_API_BASE", stub.url + "/")
    assert set(wechat.check_new_orders()["checked"].values()) == {"pass"}
    db.session.expire_all()
    assert all(wechat.is_publishable(o) and len(checks_of(db, o)) == 1 for o in made)


def test_the_pass_is_recorded_as_perform_would_without_loading_the_order(db, make, stub, resident, admin):
    """A pass is a record (engine.perform_record): the event perform writes (who, what, from and to
    the state the order is in, the verdict), and the order touched as any change touches it — its
    updated_at and its version, so a change made on what was read before the check still loses."""
    order = make.order(resident=resident)
    orders.perform(admin, order, "claim")
    version, touched = order.version, order.updated_at
    clock.travel(timedelta(minutes=1))
    assert wechat.check_new_orders()["checked"] == {order.id: "pass"}
    [event] = checks_of(db, order)
    assert (event.actor_type, event.actor_id, event.action, event.from_state, event.to_state, event.note) == \
        ("system", None, "content_check", "claimed", "claimed", None)
    assert event.data == {"check": "msg_sec_check", "verdict": "pass"}
    db.session.refresh(order)
    assert order.state == "claimed" and order.version == version + 1 and order.updated_at > touched


def test_a_duplicate_job_finds_the_orders_checked_and_records_nothing_twice(app, db, make, stub, resident,
                                                                             monkeypatch):
    """Two content-check jobs over the same orders (the batched job and the sweep's, or two workers):
    the second to reach an order's lock finds the first's event there and records nothing."""
    made = [make.order(resident=resident, text=f"井盖缺了第{i}块") for i in range(3)]
    real, other = wechat._verdict, {}

    def the_other_job_first(client, text, location_text):
        if "started" not in other:  # while this job waits for WeChat, another checks every order
            other["started"] = True

            def run():
                with app.app_context():
                    other.update(wechat.check_new_orders())
            thread = threading.Thread(target=run)
            thread.start()
            thread.join(60)
        return real(client, text, location_text)
    monkeypatch.setattr(wechat, "_verdict", the_other_job_first)
    mine = wechat.check_new_orders()
    assert other["checked"] == {o.id: "pass" for o in made}
    assert mine["checked"] == {o.id: "skipped" for o in made}
    db.session.expire_all()
    assert all(len(checks_of(db, o)) == 1 and wechat.is_publishable(o) for o in made)


def test_a_check_waits_for_the_order_lock_then_finds_the_other_check(app, db, make, stub, resident):
    """The order's row is locked before its check events are read: a job that reaches an order while
    another job's check of it is uncommitted waits, then sees it and writes nothing."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite takes the whole database's write lock at BEGIN)")
    order = make.order(resident=resident)
    answers = []
    with db.engine.connect() as other:
        other.execute(update(Order).where(Order.id == order.id).values(updated_at=clock.now()))  # its lock

        def job():
            with app.app_context():
                answers.append(wechat.check_order_content(order.id))
        thread = threading.Thread(target=job)
        thread.start()
        waiting = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND datname = current_database()")
        for _ in range(300):  # it asks WeChat, then waits for the order's lock
            if db.session.scalar(waiting):
                break
            time.sleep(0.05)
        db.session.rollback()
        assert thread.is_alive() and answers == [] and len(stub.calls("wxa/msg_sec_check")) == 1
        other.execute(insert(OrderEvent).values(order_id=order.id, actor_type="system", action="content_check",
                                                from_state="submitted", to_state="submitted",
                                                data={"check": "msg_sec_check", "verdict": "pass"},
                                                created_at=clock.now()))
        other.commit()
        thread.join(30)
    assert answers == ["skipped"]
    db.session.expire_all()
    assert len(checks_of(db, order)) == 1


def test_a_risky_text_is_flagged_once_through_the_lifecycle(db, make, stub, resident):
    stub.config(risky_words=["赌博"])
    risky = make.order(resident=resident, text="楼下有人聚众赌博")
    assert wechat.check_order_content(risky.id) == "risky"
    assert wechat.check_order_content(risky.id) == "skipped"  # judged: not asked again
    db.session.expire_all()
    [event] = checks_of(db, risky)
    assert event.action == "content_flag" and event.data["verdict"] == "risky"
    assert "content_flagged" in risky.flags and not wechat.is_publishable(risky)
    assert len(stub.calls("wxa/msg_sec_check")) == 1
