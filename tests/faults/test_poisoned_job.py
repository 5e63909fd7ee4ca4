"""A poisoned job stalls nothing: the worker groups of the Procfile (inbound, outbound, ticks) run as
real processes; one inbound job hangs, and meanwhile 50 notifications go out and the SLA tick
escalates an overdue order. Past its queue's timeout the hung job is killed into the failed list,
where the system administrator retries or discards it."""
from datetime import timedelta
import re

from redis import Redis
from rq import Queue
from sqlalchemy import func, select, update

from backend import clock
from backend.notifications.models import Notification
from backend.orders.models import Order
from tests.factories import PASSWORD
from tests.faults.conftest import backend_env, wait_until, worker_argv

HANG_SECONDS = 3600
INBOUND_TIMEOUT = 20


def _read(db, statement):
    value = db.session.execute(statement).scalar()
    db.session.rollback()
    return value


def _group(spawn, app, name, queue):
    env = backend_env(app, QUEUE_TIMEOUTS=f"wechat={INBOUND_TIMEOUT}", SLA_TICK_SECONDS=1, NOTIFY_SWEEP_SECONDS=1,
                      WECHAT_SWEEP_SECONDS=60)
    return spawn(name, worker_argv() + ["--queues", queue], env)


def _csrf(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/console/login").get_data(as_text=True)).group(1)


def test_a_hung_inbound_job_stalls_no_notification_and_no_tick(app, db, make, client, spawn, redis_url, stub):
    from backend.notifications import services as notifications
    world = make.world()
    worker_staff = world["workers"][0]
    order = make.order(world["resident"], grade="urgent")
    db.session.commit()
    connection = Redis.from_url(redis_url)
    inbound = Queue("wechat", connection=connection)
    # The poisoned job: it would hold a worker for an hour (as a 6 MB push once held the only one).
    poisoned = inbound.enqueue("time.sleep", HANG_SECONDS, job_timeout=INBOUND_TIMEOUT)

    workers = [_group(spawn, app, "worker-inbound", "wechat"), _group(spawn, app, "worker-outbound", "notifications"),
               _group(spawn, app, "worker-ticks", "dispatch")]
    wait_until(lambda: poisoned.get_status(refresh=True) == "started", 30,
               lambda: f"the poisoned job to start\n{workers[0].tail()}")

    # Now the work that must not wait for it: 50 notices and an order past its limit.
    for i in range(50):
        notifications.notify("staff", worker_staff.id, "assigned_to_you", order=order, payload={"n": i})
    db.session.execute(update(Order).where(Order.id == order.id).values(due_at=clock.now() - timedelta(minutes=1)))
    db.session.commit()
    started = clock.now()

    sent = select(func.count()).select_from(Notification).where(Notification.kind == "assigned_to_you",
                                                               Notification.status == "sent")
    wait_until(lambda: _read(db, sent) == 50, 15, lambda: f"50 notices sent, {_read(db, sent)} so far\n{workers[1].tail()}")
    rung = select(Order.rung).where(Order.id == order.id)
    wait_until(lambda: _read(db, rung) != "grid_worker", 15, lambda: f"the SLA tick to escalate\n{workers[2].tail()}")
    # All of it while the poisoned job still holds the inbound worker.
    assert poisoned.get_status(refresh=True) == "started"
    assert (clock.now() - started).total_seconds() < INBOUND_TIMEOUT

    # Past the queue's timeout the inbound worker kills it and serves its queue again.
    wait_until(lambda: poisoned.get_status(refresh=True) == "failed", INBOUND_TIMEOUT + 30,
               lambda: f"the poisoned job to time out\n{workers[0].tail()}")
    after = inbound.enqueue("math.sqrt", 16)
    wait_until(lambda: after.get_status(refresh=True) == "finished", 30, "the next inbound job to run")

    # The failed list on the console: the system administrator sees it and discards it.
    admin = make.staff("sysadmin")
    db.session.commit()
    client.post("/console/login", data={"username": admin.username, "password": PASSWORD, "csrf": _csrf(client)})
    page = client.get("/console/jobs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "time.sleep" in text and "JobTimeoutException" in text
    csrf = re.search(r'name="csrf" value="([^"]+)"', text).group(1)
    answer = client.post(f"/console/jobs/wechat/{poisoned.id}/discard", data={"csrf": csrf})
    assert answer.status_code == 302
    assert poisoned.id not in inbound.failed_job_registry.get_job_ids()
    assert "time.sleep" not in client.get("/console/jobs").get_data(as_text=True)
