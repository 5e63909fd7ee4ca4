"""What every action module shares: reading the tracker, formatting for replies, slot resets.

Every message to the resident is a domain response (bot/domain/*.yml); the actions only choose
which one and fill its variables. The backend is reached through backend_client, and what may be
done with an order (cancel, rate) is its `allowed_actions` there: the bot keeps no rules of its own."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

CHINA_TZ = timezone(timedelta(hours=8))
SKIPPED = "-"  # slot value for an optional detail the resident chose not to give
STOP_INTENTS = {"stop", "cancel_order"}
ORDER_SLOTS = (
    "order_kind", "description", "location", "photo_url", "contact",
    "correction", "order_confirmed", "pending_text", "unclassified", "duplicate_of",
)
LOCATION_MAX = 200  # the backend's limit for location_text
RESIDENT_CHANNELS = ("wechat", "miniprogram", "h5")  # the backend's orders.models


def format_time(value: Optional[str]) -> str:
    """ISO 8601 from the backend → 2026-11-25 18:00 in China time."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(CHINA_TZ)
    return moment.strftime("%Y-%m-%d %H:%M")


def summarize(text: Optional[str], limit: int = 20) -> str:
    text = re.sub(r"\s+", " ", text or "").strip()
    return text if len(text) <= limit else text[:limit] + "…"


def latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message.get("text") or "").strip()


def channel_of(tracker: Tracker) -> str:
    """The resident's channel, as the backend passed it in the message metadata."""
    channel = (tracker.latest_message.get("metadata") or {}).get("channel")
    return channel if channel in RESIDENT_CHANNELS else "h5"


def idempotency_key_of(tracker: Tracker) -> Optional[str]:
    """The key the backend gave this turn (message metadata): sent with the order it makes, so a
    retried turn gets the first order back instead of making a second."""
    key = (tracker.latest_message.get("metadata") or {}).get("idempotency_key")
    return key if isinstance(key, str) and key else None


def given(value: Any) -> bool:
    return value not in (None, "", SKIPPED)


def reset_order_events() -> List[EventType]:
    return [SlotSet(slot, None) for slot in ORDER_SLOTS]


def pick(orders: List[Dict[str, Any]], action: str) -> Optional[Dict[str, Any]]:
    """The newest order the resident may `action` now (its allowed_actions say so), else the
    newest one ("最近那个"), so the reply can say why not."""
    for order in orders:
        if action in (order.get("allowed_actions") or []):
            return order
    return orders[0] if orders else None
