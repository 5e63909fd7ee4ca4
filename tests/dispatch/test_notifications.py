"""The outbox: rows commit with the change, delivery retries with backoff, failures stay visible."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend import clock
from backend.accounts.actors import Actor
from backend.notifications import services as notifications
from backend.notifications.models import Notification
from backend.orders import services as orders


@pytest.fixture
def flaky_channel():
    calls = []

    def send(n):
        calls.append(n.id)
        if len(calls) <= flaky_channel_failures[0]:
            raise ConnectionError("gateway timeout")
    flaky_channel_failures = [0]
    notifications.register_channel("test_flaky", send)
    yield calls, flaky_channel_failures
    notifications._channels.pop("test_flaky", None)


@pytest.fixture
def queued_channel():
    """A channel whose rows are sent by a delivery job (as WeChat's and WeCom's are)."""
    sent = []
    notifications.register_channel("test_queued", lambda n: sent.append(n.id))
    yield sent
    notifications._channels.pop("test_queued", None)


def _row(db, nid) -> Notification:
    db.session.rollback()
    return db.session.get(Notification, nid)


def test_notification_rolls_back_with_the_change_that_caused_it(db, redis, make, city):
    from backend.orders.signals import order_changed
    order = make.order(city["resident"], grade="urgent")  # urgent: the grid's workers are told
    assert db.session.scalars(select(Notification.kind).where(Notification.recipient_type == "staff")).all() == ["new_order"]

    def explode(sender, **_):
        raise RuntimeError("boom")
    order_changed.connect(explode)
    try:
        with pytest.raises(RuntimeError):
            orders.perform(Actor.for_staff(city["workers"][0]), order, "escalate", reason="x")
    finally:
        order_changed.disconnect(explode)
    assert db.session.scalars(select(Notification.kind).where(Notification.recipient_type == "staff")).all() == ["new_order"]


def test_deliver_sends_once_even_when_enqueued_twice(db, redis, make, city, flaky_channel):
    calls, _ = flaky_channel
    n = notifications.notify("staff", city["workers"][0].id, "supervise", channel="test_flaky",
                             payload={"number": "HX1", "text": "t"})
    db.session.commit()
    assert redis.exists(f"rm:enq:deliver:{n.id}:0")  # enqueued after the commit
    assert notifications.deliver(n.id) == "sent"
    assert notifications.deliver(n.id) == "sent"
    row = _row(db, n.id)
    assert (row.status, row.attempts, len(calls)) == ("sent", 1, 1) and row.sent_at is not None


def test_the_rows_of_one_commit_are_queued_together_and_the_sweep_leaves_them(db, redis, make, city,
                                                                             queued_channel):
    """Three rows of one commit: written at once (each persistent before the commit, as a flush
    leaves them), one delivery job each with its guard after the commit (one MULTI/EXEC), none
    queued again by the sweep; with the guards gone the sweep queues all three in one go."""
    from rq import Queue
    from backend.worker import rq_connection
    rows = [notifications.notify("staff", city["workers"][0].id, kind, channel="test_queued",
                                 payload={"number": "HX1", "text": "t"})
            for kind in ("supervise", "new_order", "escalated")]
    assert all(n.id is not None and n not in db.session.new for n in rows)
    ids = [n.id for n in rows]
    db.session.commit()
    queue = Queue(notifications.QUEUE, connection=rq_connection())
    assert sorted(queue.fetch_job(j).args[0] for j in queue.job_ids) == sorted(ids)
    assert all(redis.exists(f"rm:enq:deliver:{i}:0") for i in ids)
    assert notifications.sweep() == 0 and len(queue.job_ids) == 3
    redis.delete(*[f"rm:enq:deliver:{i}:0" for i in ids])
    assert notifications.sweep() == 3 and len(queue.job_ids) == 6
    assert [notifications.deliver(i) for i in ids] == ["sent"] * 3


def test_failures_back_off_then_fail_visibly_and_the_sweep_retries(app, db, redis, make, city, flaky_channel):
    calls, failures = flaky_channel
    failures[0] = 99
    n = notifications.notify("staff", city["workers"][0].id, "supervise", channel="test_flaky", payload={})
    db.session.commit()
    assert notifications.deliver(n.id) == "pending"
    row = _row(db, n.id)
    assert row.attempts == 1 and "gateway timeout" in row.last_error
    wait = row.next_attempt_at - clock.now()
    assert timedelta(seconds=app.config["NOTIFY_BACKOFF_SECONDS"] - 2) < wait <= timedelta(seconds=app.config["NOTIFY_BACKOFF_SECONDS"])
    assert notifications.deliver(n.id) == "pending" and len(calls) == 1  # not due yet: no send
    assert notifications.sweep() == 0
    for attempt in range(2, app.config["NOTIFY_MAX_ATTEMPTS"] + 1):
        clock.travel(timedelta(hours=1, seconds=1))
        assert notifications.sweep() == 1  # due again: re-enqueued once
        assert notifications.sweep() == 0
        notifications.deliver(n.id)
    row = _row(db, n.id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", app.config["NOTIFY_MAX_ATTEMPTS"], None)
    assert notifications.deliver(n.id) == "failed" and len(calls) == app.config["NOTIFY_MAX_ATTEMPTS"]


def test_unknown_channel_is_a_recorded_failure_not_silence(db, redis, make, city):
    n = notifications.notify("staff", city["workers"][0].id, "supervise", channel="pigeon", payload={})
    db.session.commit()
    assert notifications.deliver(n.id) == "pending"
    assert "no channel 'pigeon'" in _row(db, n.id).last_error


def test_a_failed_send_keeps_no_credentials_from_the_url_in_last_error(db, redis, make, city):
    import requests

    def send(_n):
        requests.post("http://127.0.0.1:9/cgi-bin/message/custom/send",
                      params={"access_token": "TOKEN-abc123"}, timeout=2)
    notifications.register_channel("test_refused", send)
    try:
        n = notifications.notify("staff", city["workers"][0].id, "supervise", channel="test_refused", payload={})
        db.session.commit()
        assert notifications.deliver(n.id) == "pending"
    finally:
        notifications._channels.pop("test_refused", None)
    error = _row(db, n.id).last_error
    assert "ConnectionError" in error and "access_token=***" in error and "TOKEN-abc123" not in error


def test_redis_down_leaves_rows_pending_for_the_sweep(app, db, redis, make, city, monkeypatch, queued_channel):
    from backend import worker
    monkeypatch.setattr(worker, "get_queue", lambda name: (_ for _ in ()).throw(__import__("redis").ConnectionError("down")))
    order = make.order(city["resident"], grade="urgent")
    n = notifications.notify("staff", city["workers"][0].id, "supervise", order=order, channel="test_queued",
                             payload={"number": order.number, "text": "t"})
    db.session.commit()
    assert _row(db, n.id).status == "pending"
    monkeypatch.undo()
    redis.flushdb()
    assert notifications.sweep() >= 1
    assert notifications.deliver(n.id) == "sent" and queued_channel == [n.id]


def test_a_console_notice_is_sent_by_its_commit_with_no_delivery_job(db, redis, make, city):
    """The console inbox reads committed rows: the notice is delivered when its change commits,
    and no job is queued to flip its status (one fewer job per intake for the worker)."""
    from rq import Queue
    from backend.worker import rq_connection
    order = make.order(city["resident"], grade="urgent")  # urgent: the grid's workers are told
    rows = db.session.scalars(select(Notification).where(Notification.order_id == order.id,
                                                         Notification.recipient_type == "staff")).all()
    assert rows and all((n.channel, n.status, n.attempts) == ("console", "sent", 1) and n.sent_at for n in rows)
    assert Queue(notifications.QUEUE, connection=rq_connection()).job_ids == []
    assert not any(redis.exists(f"rm:enq:deliver:{n.id}:0") for n in rows)
    assert [n.id for n in notifications.console_inbox(city["workers"][0].id)] == [rows[0].id]
    assert notifications.sweep() == 0


def test_console_channel_renders_the_chinese_template(db, redis, make, city):
    order = make.order(city["resident"], grade="urgent")
    row = db.session.scalars(select(Notification).where(Notification.recipient_type == "staff")).one()
    text = notifications.render(row)
    assert order.number in text and "紧急" in text and "接单" in text
    assert notifications.deliver(row.id) == "sent"


def test_an_intakes_redis_writes_after_its_commit_are_one_round_trip(db, redis, make, city):
    """The order's queue move and the content check's flag go in one MULTI/EXEC after the commit
    (worker.after_commit_redis), and each is there; the staff notice (console) needs no job."""
    from rq import Queue
    from backend.dispatch import queues
    from backend.wechat import jobs as wechat_jobs
    from backend.worker import rq_connection

    def execs():
        return redis.info("commandstats").get("cmdstat_exec", {}).get("calls", 0)
    redis.set(wechat_jobs.PENDING_KEY, "1")  # a check is coming already: the flag's SET NX queues no job
    before = execs()
    order = make.order(city["resident"], grade="urgent", category="城乡建设/城市建设和市政管理")
    assert execs() - before == 1
    sent = db.session.scalars(select(Notification.status).where(Notification.order_id == order.id)).all()
    assert sent and set(sent) == {"sent"}
    assert Queue(notifications.QUEUE, connection=rq_connection()).job_ids == []
    assert redis.zscore(queues.key_for(order), order.number) is not None
    assert redis.exists(wechat_jobs.PENDING_KEY)


def test_a_delivery_job_lost_before_its_claim_is_queued_again_once_its_guard_expires(app, db, redis, make, city,
                                                                                    monkeypatch, queued_channel):
    """The cluster drill's stuck reply: its job vanished (the worker died before the attempt claim,
    or the queue entry was lost in a Redis failover) while the guard lived on; the sweep must not
    wait ten minutes for it, only NOTIFY_REQUEUE_SECONDS."""
    from rq import Queue
    from backend.worker import rq_connection
    monkeypatch.setitem(app.config, "NOTIFY_REQUEUE_SECONDS", 7)
    n = notifications.notify("staff", city["workers"][0].id, "supervise", channel="test_queued",
                             payload={"number": "HX1", "text": "t"})
    db.session.commit()
    guard = f"rm:enq:deliver:{n.id}:0"
    assert 0 < redis.ttl(guard) <= 7
    queue = Queue(notifications.QUEUE, connection=rq_connection())
    queue.empty()  # the job is gone, its guard is not
    assert notifications.sweep() == 0
    redis.delete(guard)  # what its expiry does
    assert notifications.sweep() == 1 and len(queue.job_ids) == 1
    assert 0 < redis.ttl(guard) <= 7
    assert notifications.deliver(n.id) == "sent"


def test_a_reminder_about_an_order_that_left_its_recipient_is_no_longer_shown_or_opened(db, redis, make, city):
    """A console notice keeps what the resident wrote: once the order moved to another grid, the
    first grid's worker neither sees the reminder nor counts it nor opens it; notices about no
    order stay."""
    from backend.dispatch import claims, listings
    worker, leader = actor(city["workers"][0]), actor(city["leader"])
    order = make.order(city["resident"], text="5号楼漏水，王大爷家", grade="urgent")
    notifications.notify("staff", city["workers"][0].id, "supervise", order=order,
                         payload={"number": order.number, "text": order.text, "note": "请抓紧"})
    loose = notifications.notify("staff", city["workers"][0].id, "duty_reminder", payload={"text": "明天值班"})
    db.session.commit()
    shown = listings.reminders(worker)
    ids = [item["id"] for _, items in shown["groups"] for item in items]
    assert loose.id in ids and len(ids) >= 2 and shown["unread"] == len(ids)
    about_order = next(i for i in ids if i != loose.id)
    claims.act(leader, order.number, "transfer", reason="属于8号楼", grid=city["grids"][1].code)
    after = listings.reminders(worker)
    assert [item["id"] for _, items in after["groups"] for item in items] == [loose.id]
    assert after["unread"] == 1
    assert listings.open_reminder(worker, about_order) is None
    assert "王大爷" not in str(after)


def actor(staff) -> Actor:
    return Actor.for_staff(staff)
