"""Personal data services: every write here is one transaction with its audit record.

- `record_contact_read`: a staff member was shown a resident's unmasked contact number.
- `retention_tick`: closed and cancelled orders older than RESIDENT_DATA_RETENTION_MONTHS are
  anonymised (lifecycle row `anonymise`), one transaction per order, like the archive tick.
- `export_resident`: everything stored about one resident, as plain data.
- `delete_resident`: the resident record and every order's personal fields anonymised, one
  transaction; the orders stay for the statistics."""
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from .. import clock
from ..accounts.actors import SYSTEM, Actor
from ..accounts.models import Resident
from ..errors import NotFound
from ..extensions import db
from ..masking import mask
from ..notifications.models import Notification
from ..orders import services as orders, states
from ..orders.models import Order
from ..orders.signals import contact_shown
from ..wechat.models import WechatInbound, WechatSubscription
from .models import PrivacyEvent

log = logging.getLogger(__name__)
# Orders nobody owes work on any more: retention starts from when they ended.
_ENDED = (states.CLOSED, states.CANCELLED, states.MERGED)  # merged: a duplicate closed into another


def record_contact_read(actor: Actor, order: Order, surface: str) -> None:
    """Audit a staff read of the order's unmasked contact (who, when, which resident and order,
    where). Nothing to record when the order carries none, the reader is not staff, or they see it
    masked anyway (orders.services.needs_contact: their work does not call for the number)."""
    if not actor.is_staff or not order.contact or not orders.needs_contact(actor, order):
        return
    db.session.add(PrivacyEvent(action="read_contact", actor_type="staff", actor_id=actor.id,
                                resident_id=order.resident_id, order_id=order.id, at=clock.now(),
                                data={"surface": surface, "number": order.number}))
    db.session.commit()


def _on_contact_shown(actor: Actor, orders: list, surface: str) -> None:
    """A bulk read (the order desk's export): one audit row per order whose contact it showed."""
    if not actor.is_staff:
        return
    now = clock.now()
    db.session.add_all([PrivacyEvent(action="read_contact", actor_type="staff", actor_id=actor.id,
                                     resident_id=resident_id, order_id=order_id, at=now,
                                     data={"surface": surface, "number": number})
                        for order_id, resident_id, number in orders])
    db.session.commit()


def connect() -> None:
    contact_shown.connect(_on_contact_shown)


def _months_ago(now, months: int):
    # Calendar months are not needed to the day here: 30.44 days each is the law's "N months".
    return now - timedelta(days=30.44 * months)


def retention_candidates(now=None) -> list[int]:
    months = int(current_app.config["RESIDENT_DATA_RETENTION_MONTHS"])
    if months <= 0:
        return []
    before = _months_ago(now or clock.now(), months)
    ids = list(db.session.scalars(select(Order.id).where(
        Order.state.in_(_ENDED), func.coalesce(Order.closed_at, Order.updated_at) <= before,
        Order.resident_id.is_not(None)).order_by(Order.id)))
    db.session.rollback()
    return ids


def retention_tick(now=None) -> dict:
    """Anonymise every ended order past the retention period; idempotent (the row's precondition
    refuses an order already anonymised, and those are skipped)."""
    done = skipped = 0
    for order_id in retention_candidates(now):
        order = db.session.get(Order, order_id)
        if "anonymised" in (order.flags or []):
            skipped += 1
            continue
        orders.perform(SYSTEM, order, "anonymise", why="retention")
        done += 1
    return {"anonymised": done, "skipped": skipped}


def _resident(openid: str) -> Resident:
    resident = db.session.scalar(select(Resident).where(Resident.openid == openid))
    if resident is None:
        raise NotFound("没有这个居民", code="unknown_resident")
    return resident


def _iso(value):
    return value.isoformat() if value is not None else None


def export_resident(openid: str) -> dict:
    """Everything stored about the resident (个人信息查阅、复制): account, orders with their events and
    photos, notifications, WeChat pushes and subscription answers. The export is audited."""
    resident = _resident(openid)
    rid = resident.id
    found = db.session.scalars(select(Order).where(Order.resident_id == rid).order_by(Order.id)).all()
    export = {
        "resident": {"id": rid, "openid": resident.openid, "unionid": resident.unionid, "name": resident.name,
                     "phone": resident.phone, "created_at": _iso(resident.created_at)},
        "orders": [{
            "number": o.number, "state": o.state, "channel": o.channel, "kind": o.kind, "category": o.category,
            "text": o.text, "location_text": o.location_text, "contact": o.contact, "result": o.result,
            "satisfaction": o.satisfaction, "rating_score": o.rating_score, "rating_comment": o.rating_comment,
            "flags": list(o.flags or []), "created_at": _iso(o.created_at), "closed_at": _iso(o.closed_at),
            "photos": [a.url for a in o.attachments],
            "events": [{"action": e.action, "from": e.from_state, "to": e.to_state, "note": e.note,
                        "actor_type": e.actor_type, "at": _iso(e.created_at)} for e in o.events],
        } for o in found],
        "notifications": [{"kind": n.kind, "channel": n.channel, "status": n.status, "payload": n.payload,
                           "created_at": _iso(n.created_at)} for n in db.session.scalars(
            select(Notification).where(Notification.recipient_type == "resident", Notification.recipient_id == rid)
            .order_by(Notification.id))],
        "wechat_messages": [{"type": m.msg_type, "event": m.event, "content": m.content, "status": m.status,
                             "order_number": m.order_number, "created_at": _iso(m.created_at)}
                            for m in db.session.scalars(select(WechatInbound).where(
                                (WechatInbound.resident_id == rid) | (WechatInbound.openid == openid))
                                .order_by(WechatInbound.id))],
        "subscriptions": [{"template_id": s.template_id, "status": s.status, "grants": s.grants}
                          for s in db.session.scalars(select(WechatSubscription).where(
                              WechatSubscription.resident_id == rid))],
        "privacy_events": [{"action": p.action, "at": _iso(p.at), "actor_type": p.actor_type, "data": p.data}
                           for p in db.session.scalars(select(PrivacyEvent).where(PrivacyEvent.resident_id == rid)
                                                       .order_by(PrivacyEvent.id))],
        "exported_at": _iso(clock.now()),
    }
    db.session.add(PrivacyEvent(action="export", actor_type="system", resident_id=rid, at=clock.now(),
                                data={"surface": "cli", "orders": len(found)}))
    db.session.commit()
    return export


def delete_resident(openid: str) -> dict:
    """删除 on request: the resident keeps an id (the orders point at it) and loses everything that
    identifies them; each order is anonymised through its lifecycle row (an event each); pushes are
    masked, subscription answers and undelivered messages dropped — all in one transaction."""
    resident = _resident(openid)
    rid = resident.id
    try:
        numbers = []
        for order in db.session.scalars(select(Order).where(Order.resident_id == rid).order_by(Order.id)).all():
            if "anonymised" not in (order.flags or []):
                orders.perform(SYSTEM, order, "anonymise", why="deletion", commit=False)
            numbers.append(order.number)
        for row in db.session.scalars(select(WechatInbound).where(
                (WechatInbound.resident_id == rid) | (WechatInbound.openid == openid))):
            row.content, row.payload, row.openid, row.media_id = mask(row.content), {}, f"deleted-{rid}", None
        db.session.execute(update(Notification).where(
            Notification.recipient_type == "resident", Notification.recipient_id == rid,
            Notification.status == "pending").values(status="skipped", last_error="resident deleted"))
        for sub in db.session.scalars(select(WechatSubscription).where(WechatSubscription.resident_id == rid)):
            db.session.delete(sub)
        resident.openid, resident.unionid, resident.name, resident.phone = None, None, None, None
        db.session.add(PrivacyEvent(action="delete", actor_type="system", resident_id=rid, at=clock.now(),
                                    data={"surface": "cli", "orders": numbers}))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    log.info("resident %s deleted: %d orders anonymised", rid, len(numbers))
    return {"resident_id": rid, "orders": numbers}
