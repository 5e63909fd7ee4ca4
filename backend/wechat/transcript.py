"""The WeChat conversation that produced an order, as stored: the resident's text pushes
(`WechatInbound`) and the bot's replies to them (the outbox's `reply` rows). The H5 chat and the
mini-program's HTTP chat keep no transcript, so for their orders there is none to show."""
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..notifications.models import Notification
from .models import WechatInbound

WINDOW = timedelta(hours=1)  # a form's questions and answers take minutes; an hour holds one talk


def for_order(order) -> list[dict]:
    """[{"at", "who": "resident" | "bot", "text"}] oldest first; [] when no push made the order."""
    if order.resident_id is None or order.channel != "wechat":
        return []
    last = db.session.scalar(select(WechatInbound).where(WechatInbound.order_number == order.number)
                             .order_by(WechatInbound.id))
    if last is None:
        return []
    pushes = list(db.session.scalars(select(WechatInbound).where(
        WechatInbound.resident_id == order.resident_id, WechatInbound.msg_type == "text",
        WechatInbound.created_at >= last.created_at - WINDOW, WechatInbound.id <= last.id)
        .order_by(WechatInbound.id)))
    # Only the talk that ended in this order: start after the previous push that made another one.
    start = max((i + 1 for i, p in enumerate(pushes[:-1]) if p.order_number and p.order_number != order.number),
                default=0)
    pushes = pushes[start:]
    ids = {p.id for p in pushes}
    replies = {}
    for note in db.session.scalars(select(Notification).where(
            Notification.recipient_type == "resident", Notification.recipient_id == order.resident_id,
            Notification.kind == "reply", Notification.created_at >= pushes[0].created_at)
            .order_by(Notification.id)):
        if (note.payload or {}).get("inbound_id") in ids:
            replies.setdefault(note.payload["inbound_id"], []).append(note)
    talk = []
    for push in pushes:
        talk.append({"at": push.created_at, "who": "resident", "text": push.content or ""})
        talk.extend({"at": n.created_at, "who": "bot", "text": n.payload.get("text", "")}
                    for n in replies.get(push.id, []))
    return talk
