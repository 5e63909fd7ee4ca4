"""The one place the bot talks to the backend (see ARCHITECTURE.md, bot endpoints).

Base URL from BACKEND_URL (default http://127.0.0.1:5000), service token from
BOT_SERVICE_TOKEN. Connection problems, timeouts and 5xx answers raise
BackendUnavailable; 4xx answers are returned to the caller, who decides what to say.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import requests

logger = logging.getLogger(__name__)

DEFAULT_BACKEND_URL = "http://127.0.0.1:5000"
TIMEOUT_SECONDS = float(os.environ.get("BACKEND_TIMEOUT", "5"))
# Creating an order is worth a longer wait: giving up early leaves the resident told "failed"
# while the backend may still store it (its first order per process also loads the category model).
CREATE_TIMEOUT_SECONDS = float(os.environ.get("BACKEND_CREATE_TIMEOUT", "20"))


class BackendUnavailable(Exception):
    """The backend could not be reached or answered with a server error."""


@dataclass
class Reply:
    status: int
    data: Dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_code(self) -> Optional[str]:
        error = self.data.get("error") if isinstance(self.data, dict) else None
        return error.get("code") if isinstance(error, dict) else None


def base_url() -> str:
    return os.environ.get("BACKEND_URL", DEFAULT_BACKEND_URL).rstrip("/")


def _headers() -> Dict[str, str]:
    headers = {"Accept": "application/json"}
    token = os.environ.get("BOT_SERVICE_TOKEN", "")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _call(method: str, path: str, timeout: Optional[float] = None, **kwargs: Any) -> Reply:
    url = base_url() + path
    try:
        response = requests.request(
            method, url, headers=_headers(), timeout=timeout or TIMEOUT_SECONDS, **kwargs
        )
    except requests.RequestException as exc:
        logger.warning("backend %s %s failed: %s", method, path, exc)
        raise BackendUnavailable(str(exc)) from exc
    if response.status_code >= 500:
        logger.warning("backend %s %s answered %s", method, path, response.status_code)
        raise BackendUnavailable(f"HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code in (401, 403):
        # A wrong service token is an operator problem, not the resident's.
        logger.error("backend rejected the bot service token (%s)", response.status_code)
        raise BackendUnavailable(f"HTTP {response.status_code}")
    return Reply(response.status_code, data if isinstance(data, dict) else {})


def create_order(
    sender_id: str,
    text: str,
    location_text: str,
    kind: Optional[str] = None,
    contact: Optional[str] = None,
    photo_url: Optional[str] = None,
    flags: Optional[List[str]] = None,
    channel: str = "h5",
    idempotency_key: Optional[str] = None,
) -> Reply:
    """flags: ["unclassified"] when the bot took the text down without understanding it; channel:
    where the resident wrote from (the message metadata); idempotency_key: the turn's key (also
    metadata) — the backend answers a repeated key with the order it already made (200)."""
    body: Dict[str, Any] = {
        "sender_id": sender_id,
        "channel": channel,
        "text": text,
        "location_text": location_text,
        "contact": contact,
        "photo_url": photo_url,
    }
    if kind:  # without one, the backend predicts the kind from the text
        body["kind"] = kind
    if flags:
        body["flags"] = flags
    if idempotency_key:
        body["idempotency_key"] = idempotency_key
    return _call("POST", "/api/v1/bot/orders", timeout=CREATE_TIMEOUT_SECONDS, json=body)


def list_orders(sender_id: str, number: Optional[str] = None) -> List[Dict[str, Any]]:
    params = {"sender_id": sender_id}
    if number:
        params["number"] = number
    reply = _call("GET", "/api/v1/bot/orders", params=params)
    if not reply.ok:
        return []
    orders = reply.data.get("orders") or []
    return [o for o in orders if isinstance(o, dict)]


def rate_order(sender_id: str, number: str, satisfaction: Optional[str] = None, score: Optional[int] = None,
               comment: Optional[str] = None) -> Reply:
    """satisfied / basically_satisfied / unsatisfied, or a 1–5 score the backend maps onto them."""
    body: Dict[str, Any] = {"sender_id": sender_id, "comment": comment}
    if satisfaction:
        body["satisfaction"] = satisfaction
    if score is not None:
        body["score"] = score
    return _call("POST", f"/api/v1/bot/orders/{number}/rating", json=body)


def cancel_order(sender_id: str, number: str) -> Reply:
    return _call("POST", f"/api/v1/bot/orders/{number}/cancel", json={"sender_id": sender_id})


def ask_knowledge(sender_id: str, text: str, hint: Optional[str] = None, hint_confidence: float = 0.0) -> Reply:
    """The 知识库's answer for the resident of this conversation: outcome answered (entry), offered
    (offers: the two closest) or declined. hint: the ResponseSelector's choice (ask_faq/<key>)."""
    body: Dict[str, Any] = {"sender_id": sender_id, "text": text}
    if hint:
        body.update(hint=hint, hint_confidence=round(min(max(float(hint_confidence), 0.0), 1.0), 4))
    return _call("POST", "/api/v1/bot/knowledge/answer", json=body)


def find_duplicates(sender_id: str, text: str, location_text: str) -> List[Dict[str, Any]]:
    """附议: the open orders the resident's draft may repeat, best first ([{number, state}]); an
    empty list when there are none or the backend cannot tell (the draft is then sent as it is)."""
    body = {"sender_id": sender_id, "text": text, "location_text": location_text or None}
    reply = _call("POST", "/api/v1/bot/orders/duplicates", timeout=CREATE_TIMEOUT_SECONDS, json=body)
    found = reply.data.get("candidates") if reply.ok else None
    return [c for c in found or [] if isinstance(c, dict) and c.get("number")]


def join_order(sender_id: str, number: str, text: str, location_text: str, channel: str = "h5") -> Reply:
    """附议: the resident follows order `number` as a co-reporter instead of sending their draft.
    422 (code validation_failed) when it is no longer one their draft repeats (e.g. just resolved)."""
    body = {"sender_id": sender_id, "text": text, "location_text": location_text or None, "channel": channel}
    return _call("POST", f"/api/v1/bot/orders/{number}/join", timeout=CREATE_TIMEOUT_SECONDS, json=body)
