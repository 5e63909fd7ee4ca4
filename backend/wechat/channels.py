"""Outbound WeChat channels for the outbox: "wechat_cs" (customer-service message) and
"wechat_subscribe" (subscribe message), registered with backend.notifications.services.

Send functions follow its contract: return None when WeChat accepted the message, "skipped" when
retrying cannot help (the resident refused; the 48-hour window passed and there is no fallback) —
the reason is kept in the row's payload["undelivered"] — and raise for a failure worth retrying
(the outbox backs off, then marks the row failed with last_error)."""
import logging
from functools import lru_cache

import yaml
from flask import current_app
from wechatpy.exceptions import WeChatClientException

from .. import clock
from ..accounts.models import Resident
from ..config import ROOT
from ..extensions import db
from ..notifications import services as notifications
from ..notifications.models import Notification
from ..accounts.actors import SYSTEM
from ..orders import services as orders
from ..orders.models import Order
from . import client as wx
from . import services

log = logging.getLogger(__name__)
CHANNELS = ("wechat_cs", "wechat_subscribe")


def _skip(notification: Notification, reason: str) -> str:
    notification.payload = {**(notification.payload or {}), "undelivered": reason}
    log.info("notification %s not delivered: %s", notification.id, reason)
    return "skipped"


def new_notification(*, recipient_id: int, channel: str, kind: str, payload: dict,
                     order: Order | None = None, order_id: int | None = None) -> Notification:
    """An outbox row to a resident in the current session; the outbox enqueues it after commit."""
    if order is None and order_id is not None:
        order = db.session.get(Order, order_id)
    return notifications.notify("resident", recipient_id, kind, order=order, channel=channel,
                                payload=payload)


@lru_cache(maxsize=1)
def _texts() -> dict:
    with open(ROOT / "templates" / "notifications" / "wechat" / "subscribe.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def _openid(notification: Notification) -> str | None:
    resident = db.session.get(Resident, notification.recipient_id)
    if resident is None or not resident.openid or notification.recipient_type != "resident":
        return None
    return resident.openid


def send_cs(notification: Notification):
    openid = _openid(notification)
    if openid is None:
        return _skip(notification, "recipient has no WeChat openid")
    # Choices not yet written out (a push to an official account): a menu message.
    menu = None if notification.payload.get("written") else notification.payload.get("menu")
    try:
        if menu:  # 菜单消息: the resident taps a choice, WeChat pushes its words back as a text
            try:
                wx.get_client().message.send_msg_menu(openid, {
                    "head_content": notification.payload["text"], "tail_content": "",
                    "list": [{"id": str(i), "content": title} for i, title in enumerate(menu, 1)]})
            except WeChatClientException as exc:
                if exc.errcode != wx.INVALID_MESSAGE_TYPE:
                    raise
                # An account whose customer service takes no menu (a mini-program's, WECHAT_MINIPROGRAM_ID
                # unset): the choices written out, answered by number (services._chosen).
                log.info("menu message refused (%s): sending notification %s with its choices written out",
                         exc.errcode, notification.id)
                notification.payload = {**notification.payload, "written": True,
                                        "text": services.with_choices_written(notification.payload["text"], menu)}
                wx.get_client().message.send_text(openid, notification.payload["text"])
        else:
            wx.get_client().message.send_text(openid, notification.payload["text"])
    except WeChatClientException as exc:
        if exc.errcode != wx.REPLY_WINDOW_PASSED:
            raise
        return _after_window_passed(notification)
    return None


def _after_window_passed(notification: Notification) -> str:
    """45015: customer-service messages are only allowed 48 h after the resident last wrote.
    A subscribe message may still reach them if they granted one; otherwise the text stays in
    the order's history, where the mini-program shows it."""
    template = current_app.config["WECHAT_TEMPLATES"].get("reply")
    sub = services.subscription_for(notification.recipient_id, template) if template else None
    if sub is not None and sub.usable:
        order = db.session.get(Order, notification.order_id) if notification.order_id else None
        fallback = new_notification(
            recipient_id=notification.recipient_id, channel="wechat_subscribe", kind="reply", order=order,
            order_id=notification.order_id,
            payload={**subscribe_payload("reply", order, template), "text": notification.payload.get("text")})
        db.session.flush()
        notification.payload = {**notification.payload, "fallback_notification_id": fallback.id}
        return _skip(notification, f"45015 reply window passed; sent as subscribe message {fallback.id}")
    _keep_in_history(notification)
    return _skip(notification, "45015 reply window passed, no subscription granted; kept in order history")


def _keep_in_history(notification: Notification) -> None:
    # A staff reply on an order (lifecycle `reply`) is in its history already, as that event's note.
    if not notification.order_id or (notification.payload or {}).get("in_history"):
        return
    order = db.session.get(Order, notification.order_id)
    text = notification.payload.get("text")
    if order is None or not text:
        return
    orders.perform(SYSTEM, order, "note", note=text, commit=False, undelivered_notification=notification.id)


def send_subscribe(notification: Notification):
    openid = _openid(notification)
    if openid is None:
        return _skip(notification, "recipient has no WeChat openid")
    template = notification.payload.get("template_id")
    sub = services.subscription_for(notification.recipient_id, template) if template else None
    if sub is None or not sub.usable:
        if notification.kind == "reply":
            _keep_in_history(notification)
        return _skip(notification, f"resident has not granted template {template}")
    try:
        wx.get_client().wxa.send_subscribe_message(
            openid, template, notification.payload.get("data") or {}, page=notification.payload.get("page"))
    except WeChatClientException as exc:
        if exc.errcode != wx.SUBSCRIPTION_REFUSED:
            raise
        # 43101: refused or the one-time grant is used up. Not retried until they accept again.
        sub.status, sub.grants, sub.updated_at = "refused", 0, clock.now()
        if notification.kind == "reply":
            _keep_in_history(notification)
        return _skip(notification, "43101 user refused subscription messages")
    sub.grants = max(0, sub.grants - 1)
    sub.updated_at = clock.now()
    return None


def subscribe_payload(kind: str, order: Order | None, template_id: str, note: str | None = None) -> dict:
    """Template data from WECHAT_TEMPLATE_FIELDS ("field=source;…"), values cut to WeChat's limits."""
    texts = _texts()
    tz = current_app.config["TIMEZONE"]
    sources = {
        "number": order.number if order else "-",
        "text": (order.text if order else None) or "-",
        "status": texts["status"].get(kind, kind),
        "note": note or texts["note"].get(kind, ""),
        "time": clock.local(clock.now(), tz).strftime("%Y-%m-%d %H:%M"),
    }
    data = {}
    for pair in current_app.config["WECHAT_TEMPLATE_FIELDS"].split(";"):
        field, _, source = pair.partition("=")
        field, source = field.strip(), source.strip()
        if field and source in sources:
            data[field] = {"value": _fit(field, str(sources[source]))}
    page = current_app.config["WECHAT_TEMPLATE_PAGE"].format(number=order.number) if order else None
    return {"template_id": template_id, "data": data, "page": page}


def _fit(field: str, value: str) -> str:
    # WeChat rejects (47003) values longer than the keyword type allows.
    limits = {"thing": 20, "phrase": 5, "character_string": 32, "name": 10}
    for prefix, limit in limits.items():
        if field.startswith(prefix) and len(value) > limit:
            return value[: limit - 1] + "…" if prefix == "thing" else value[:limit]
    return value


SENDERS = {"wechat_cs": send_cs, "wechat_subscribe": send_subscribe}


def register() -> None:
    """Hand our channels to the notifications outbox, which delivers, retries and records them."""
    for name, fn in SENDERS.items():
        notifications.register_channel(name, fn)
