"""Who is told about a change: the notices of its lifecycle row, written as notification rows in
the change's own transaction (they commit or roll back together). Staff audiences are resolved
here; the resident's notices are the WeChat channel's (wechat.hooks reads the same row)."""
from flask import current_app

from .. import clock
from ..notifications.services import notify
from . import emergencies, ladder
from .signals import order_changed


def payload(order, event) -> dict:
    tz = current_app.config["TIMEZONE"]
    return {
        "number": order.number, "text": (order.text or "")[:60], "location": order.location_text,
        "grade": order.grade, "rung": order.rung, "state": order.state,
        "due": clock.local(order.due_at, tz).strftime("%m-%d %H:%M") if order.due_at else None,
        "note": event.note if event is not None else None,
        "reopen_count": order.reopen_count,
        # which limit a property missed, when the tick sent the order back to the community
        "missed": (event.data or {}).get("missed") if event is not None else None,
        # the danger found in a new order's words (orders/emergencies.py), as the community is told
        "emergency": emergencies.name_of((event.data or {}).get("emergency")) if event is not None else None,
    }


def on_changed(order, action=None, event=None, row=None, **_):
    staff_notices = [n for n in (row.notify if row else ()) if n.audience != "resident"
                     and (n.when is None or ladder.CONDITIONS[n.when](order))]
    if not staff_notices:
        return
    channel = current_app.config.get("NOTIFY_STAFF_CHANNEL", "console")
    data = (event.data or {}) if event is not None else {}
    body = payload(order, event)
    for notice in staff_notices:
        for staff_id in dict.fromkeys(ladder.AUDIENCES[notice.audience](order, data)):
            for each in (channel, *also(notice.key)):
                notify("staff", staff_id, notice.key, order=order, channel=each, payload=body)


def also(key: str) -> tuple[str, ...]:
    """Where else a staff notice goes: 企业微信 (channel `wecom`, backend/wechat/wecom.py) for the
    kinds in WECOM_KINDS, when WECOM_CORP_ID is set (issue 24)."""
    cfg = current_app.config
    if not cfg.get("WECOM_CORP_ID"):
        return ()
    return ("wecom",) if key in {k.strip() for k in cfg.get("WECOM_KINDS", "").split(",")} else ()


def connect() -> None:
    order_changed.connect(on_changed)
