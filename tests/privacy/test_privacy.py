"""个人信息保护 (issue 12 part 8): staff reads of a resident's unmasked contact are audited; lists
show it masked; retention anonymises ended orders after RESIDENT_DATA_RETENTION_MONTHS with the
order and its figures kept; `flask export-resident` and `flask delete-resident`."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend import clock
from backend.accounts.actors import SYSTEM, Actor
from backend.accounts.models import Resident
from backend.orders import services
from backend.orders.models import Order, OrderEvent
from backend.privacy import services as privacy
from backend.privacy.models import PrivacyEvent
from tests.console.test_console import _csrf, _login

PHONE = "13912345678"
TEXT = f"我叫王秀英，电话{PHONE}，3号楼2单元501室楼道灯坏了"


def _reads(db):
    db.session.rollback()
    return db.session.scalars(select(PrivacyEvent).where(PrivacyEvent.action == "read_contact")).all()


@pytest.fixture
def world(make):
    return make.world()


def _closed(make, world, resident=None, text=TEXT):
    resident = resident or world["resident"]
    worker = Actor.for_staff(world["workers"][0])
    order = make.order(resident, text=text, contact=PHONE)
    services.perform(worker, order, "claim")
    services.perform(worker, order, "resolve", result=f"已联系王秀英（{PHONE}），已修好")
    services.rate(Actor.for_resident(resident), order, "satisfied", f"谢谢，有事打{PHONE}")
    services.perform(SYSTEM, order, "close")
    return order


def test_a_staff_action_answer_shows_the_contact_and_the_read_is_audited(client, auth, make, world, db):
    order = make.order(world["resident"], contact=PHONE)
    worker = world["workers"][0]
    queue = client.get("/api/v1/queue", headers=auth.headers_for(worker)).json
    [listed] = [o for o in queue["waiting"] if o["number"] == order.number]
    assert PHONE not in json.dumps(queue) and listed["contact"] == "139****5678"
    assert _reads(db) == []  # a masked list is no read

    claimed = client.post(f"/api/v1/orders/{order.number}/claim", json={}, headers=auth.headers_for(worker))
    assert claimed.status_code == 200 and claimed.json["contact"] == PHONE
    [read] = _reads(db)
    assert (read.actor_type, read.actor_id, read.resident_id, read.order_id) == (
        "staff", worker.id, world["resident"].id, order.id)
    assert read.data == {"surface": "api", "number": order.number} and read.at is not None
    assert PHONE not in json.dumps(read.data)  # the audit never copies the number itself


def test_the_console_order_page_shows_the_contact_and_audits_it(client, make, world, db):
    with_contact, without = make.order(world["resident"], contact=PHONE), make.order(world["resident"])
    assert _login(client, world["workers"][0]).status_code == 302
    assert PHONE.encode() in client.get(f"/console/orders/{with_contact.number}").data
    assert client.get(f"/console/orders/{without.number}").status_code == 200
    reads = _reads(db)
    assert [(r.order_id, r.data["surface"]) for r in reads] == [(with_contact.id, "console")]


def test_a_resident_reading_their_own_order_is_not_a_staff_read(client, auth, make, world, db):
    order = make.order(world["resident"], contact=PHONE)
    assert client.get(f"/api/v1/orders/{order.number}", headers=auth.headers_for(world["resident"])).status_code == 200
    assert _reads(db) == []


def test_retention_anonymises_ended_orders_past_the_limit_and_keeps_their_figures(app, make, world, db, monkeypatch):
    monkeypatch.setitem(app.config, "RESIDENT_DATA_RETENTION_MONTHS", 12)
    old = _closed(make, world)
    kept = {k: getattr(old, k) for k in ("number", "category", "grid_id", "community_id", "satisfaction", "state",
                                         "resolved_at", "closed_at", "kind", "channel")}
    clock.travel(timedelta(days=200))
    recent = _closed(make, world)
    still_open = make.order(world["resident"], text=TEXT, contact=PHONE)
    clock.travel(timedelta(days=200))  # old: 400 days since closing; recent: 200

    assert privacy.retention_tick() == {"anonymised": 1, "skipped": 0}
    db.session.rollback()
    old = db.session.get(Order, old.id)
    assert old.contact is None and PHONE not in old.text and "王秀英" not in old.text
    assert PHONE not in old.result and PHONE not in old.rating_comment
    assert "楼道灯坏了" in old.text  # the request itself still reads
    assert "anonymised" in old.flags and {k: getattr(old, k) for k in kept} == kept
    assert all(PHONE not in (e.note or "") for e in old.events)
    [event] = [e for e in old.events if e.action == "anonymise"]
    assert event.actor_type == "system" and event.data["why"] == "retention"
    assert set(event.data["fields"]) >= {"text", "contact", "result", "rating_comment"}
    for untouched in (recent, still_open):
        untouched = db.session.get(Order, untouched.id)
        assert untouched.contact == PHONE and untouched.text == TEXT
    assert privacy.retention_tick() == {"anonymised": 0, "skipped": 1}  # idempotent


def test_retention_zero_keeps_everything(app, make, world, db, monkeypatch):
    monkeypatch.setitem(app.config, "RESIDENT_DATA_RETENTION_MONTHS", 0)
    order = _closed(make, world)
    clock.travel(timedelta(days=3650))
    assert privacy.retention_tick() == {"anonymised": 0, "skipped": 0}
    db.session.rollback()
    assert db.session.get(Order, order.id).contact == PHONE


def test_the_retention_tick_is_a_periodic_job(app):
    from backend.worker import periodic_jobs
    assert ("retention-tick", app.config["ARCHIVE_TICK_SECONDS"], "dispatch",
            "backend.privacy.jobs.retention_tick", 600) in periodic_jobs(app.config)  # dispatch's QUEUE_TIMEOUTS


def test_export_resident_writes_everything_stored_about_them_and_is_audited(app, make, world, db, tmp_path):
    resident = make.resident(openid="o-export", name="李建国", phone=PHONE)
    order = _closed(make, world, resident)
    out = tmp_path / "export.json"
    result = app.test_cli_runner().invoke(args=["export-resident", "o-export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["resident"]["name"] == "李建国" and data["resident"]["phone"] == PHONE
    [exported] = data["orders"]
    assert exported["number"] == order.number and exported["contact"] == PHONE and exported["text"] == TEXT
    assert [e["action"] for e in exported["events"]][:2] == ["submit", "claim"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(PrivacyEvent).where(
        PrivacyEvent.action == "export", PrivacyEvent.resident_id == resident.id)) == 1
    missing = app.test_cli_runner().invoke(args=["export-resident", "o-nobody"])
    assert missing.exit_code != 0 and "没有这个居民" in missing.output


def test_delete_resident_anonymises_them_and_their_orders_and_keeps_the_orders(app, make, world, db):
    resident = make.resident(openid="o-delete", name="张桂兰", phone=PHONE)
    closed, still_open = _closed(make, world, resident), make.order(resident, text=TEXT, contact=PHONE)
    other = make.order(world["resident"], text=TEXT, contact=PHONE)
    orders_before = db.session.scalar(select(func.count()).select_from(Order))
    result = app.test_cli_runner().invoke(args=["delete-resident", "o-delete", "--yes"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    gone = db.session.get(Resident, resident.id)
    assert (gone.openid, gone.unionid, gone.name, gone.phone) == (None, None, None, None)
    assert db.session.scalar(select(func.count()).select_from(Order)) == orders_before
    for order_id in (closed.id, still_open.id):
        order = db.session.get(Order, order_id)
        assert order.contact is None and PHONE not in order.text and "anonymised" in order.flags
        assert [e.data["why"] for e in order.events if e.action == "anonymise"] == ["deletion"]
    assert db.session.get(Order, still_open.id).state == "submitted"  # open work goes on, without the number
    assert db.session.get(Order, other.id).contact == PHONE  # someone else's order is untouched
    [audit] = db.session.scalars(select(PrivacyEvent).where(PrivacyEvent.action == "delete")).all()
    assert audit.resident_id == resident.id and set(audit.data["orders"]) == {closed.number, still_open.number}
    assert app.test_cli_runner().invoke(args=["export-resident", "o-delete"]).exit_code != 0


def test_a_deletion_that_fails_halfway_changes_nothing(app, make, world, db, monkeypatch):
    resident = make.resident(openid="o-half", name="刘洋", phone=PHONE)
    first, second = make.order(resident, contact=PHONE), make.order(resident, contact=PHONE)
    real = services.perform
    calls = []

    def perform(actor, order, action, **kw):
        calls.append(order.id)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(actor, order, action, **kw)
    monkeypatch.setattr(services, "perform", perform)
    with pytest.raises(RuntimeError):
        privacy.delete_resident("o-half")
    db.session.rollback()
    assert db.session.get(Resident, resident.id).phone == PHONE
    assert [db.session.get(Order, o.id).contact for o in (first, second)] == [PHONE, PHONE]
    assert db.session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.action == "anonymise")) == 0


def test_an_export_of_the_order_desk_audits_each_unmasked_contact_it_showed(make, world, db):
    import csv
    import io
    from backend.orders import desk
    from backend.orders.desk import Filters
    mine = [make.order(world["resident"], text=f"楼道灯坏了{i}", contact=PHONE) for i in range(3)]
    make.order(world["resident"], text="楼道灯坏了x")  # no contact: nothing to read
    worker, admin = Actor.for_staff(world["workers"][0]), Actor.for_staff(world["community_admin"])
    rows = list(csv.reader(io.StringIO("".join(desk.export_csv(worker, Filters(q="楼道灯"))).lstrip("\ufeff"))))
    assert sum(PHONE in r for r in rows) == 3
    reads = _reads(db)
    assert sorted(r.order_id for r in reads) == sorted(o.id for o in mine)
    assert {(r.actor_id, r.data["surface"]) for r in reads} == {(worker.id, "export")}
    "".join(desk.export_csv(admin, Filters(q="楼道灯")))  # the community admin sees them masked
    assert len(_reads(db)) == 3
    stopped = desk.export_csv(worker, Filters(q="楼道灯"))
    while PHONE not in next(stopped):  # up to the first row with a number, then the download is cut
        pass
    stopped.close()
    assert len(_reads(db)) == 4  # what was sent before the cut is recorded


def test_a_deletion_removes_the_residents_photos_and_keeps_the_staffs(app, make, world, db, tmp_path, monkeypatch):
    from backend.orders import files, photos
    from backend.orders.models import Attachment
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    resident = make.resident(openid="o-photos")
    with app.test_request_context():
        stored = photos.store(b"\xff\xd8\xff\xe0" + b"\0" * 64, "orders")
        stored.pop("key")
    order = make.order(resident, contact=PHONE, photos=[stored])
    worker = Actor.for_staff(world["workers"][0])
    services.perform(worker, order, "claim")
    services.perform(worker, order, "resolve", result="已修好", photos=["https://cdn.example.org/after.jpg"])
    with app.test_request_context():
        assert files.stored_key(stored["url"]) is not None
    assert app.test_cli_runner().invoke(args=["delete-resident", "o-photos", "--yes"]).exit_code == 0
    db.session.rollback()
    with app.test_request_context():
        assert files.stored_key(stored["url"]) is None  # the file is gone
    left = db.session.scalars(select(Attachment.url).where(Attachment.order_id == order.id)).all()
    assert left == ["https://cdn.example.org/after.jpg"]
    [event] = [e for e in db.session.get(Order, order.id).events if e.action == "anonymise"]
    assert event.data["photos_removed"] == 1
