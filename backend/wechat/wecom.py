"""企业微信 (WeCom) application messages for staff (issue 24): where staff actually live at work, a
督办, a 不满意 reopening, a missed limit or an order given to them arrives as a text card with a link
to the order's phone page. Through wechatpy's WeCom client (`wechatpy.enterprise`, the `work`
client of later wechatpy releases), pointed at WECOM_API_BASE (the local stub in development and
tests), its access token in Redis like the official account's, a rejected token refetched once.

A staff member's WeCom userid is their username (what a street's WeCom directory is kept by); a
WeCom answer naming them invalid (not in the app's visible range) is recorded as skipped, not
retried. Off unless WECOM_CORP_ID is set; the console reminder is written either way."""
import logging

import redis as redis_lib
from flask import current_app
from wechatpy.enterprise import WeChatClient as WeComClient

from ..accounts.models import Staff
from ..extensions import db
from ..labels import label
from ..notifications import services as notifications
from ..notifications.models import Notification
from .client import RetriesStaleTokenOnce, TokenStorage, environment_once, raw_pool

log = logging.getLogger(__name__)

CHANNEL = "wecom"


class RedMailboxWeComClient(RetriesStaleTokenOnce, WeComClient):
    def __init__(self, corp_id, secret, base, **kwargs):
        super().__init__(corp_id, secret, auto_retry=False, **kwargs)
        self.base = base if base.endswith("/") else base + "/"
        self.API_BASE_URL = self.base + "cgi-bin/"
        environment_once(self._http, self.base)

    def fetch_access_token(self):
        return self._fetch_access_token(url=self.base + "cgi-bin/gettoken",
                                        params={"corpid": self.corp_id, "corpsecret": self.secret})


def enabled() -> bool:
    return bool(current_app.config.get("WECOM_CORP_ID"))


def kinds() -> tuple[str, ...]:
    return tuple(k.strip() for k in current_app.config.get("WECOM_KINDS", "").split(",") if k.strip())


def get_client() -> RedMailboxWeComClient:
    cfg = current_app.config
    return RedMailboxWeComClient(
        cfg["WECOM_CORP_ID"], cfg["WECOM_SECRET"], cfg["WECOM_API_BASE"],
        session=TokenStorage(redis_lib.Redis(connection_pool=raw_pool()), prefix="wechatpy-wecom"),
        timeout=cfg["WECHAT_HTTP_TIMEOUT"])


def link(number: str | None) -> str:
    """The order's phone page (the staff login first, then back to it), on the site's own address."""
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    return f"{base}/console/m/orders/{number}" if number else f"{base}/console/m/"


def send(notification: Notification):
    staff = db.session.get(Staff, notification.recipient_id) if notification.recipient_type == "staff" else None
    if staff is None or not staff.active:
        return "skipped"
    payload = notification.payload or {}
    title = label("notification_kinds", notification.kind)
    answer = get_client().message.send_text_card(
        int(current_app.config["WECOM_AGENT_ID"]), [staff.username], f"【红色信箱】{title}",
        notifications.short_text(notification, 200), link(payload.get("number")), btntxt="打开工单")
    if (answer or {}).get("invaliduser"):
        log.info("WeCom: staff %s is not in the app's visible range", staff.id)
        return "skipped"
    return None


def register() -> None:
    notifications.register_channel(CHANNEL, send)
