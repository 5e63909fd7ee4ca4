"""The one way the backend talks to the Rasa server: REST channel turns and /model/parse, both with
RASA_AUTH_TOKEN (Rasa answers nobody without it)."""
import hashlib
import hmac
import re
import threading
from typing import NamedTuple

import requests
from flask import current_app

# One keep-alive session per thread: a turn no longer opens (and Rasa no longer accepts) a new TCP
# connection each time; a Session is not shared between threads.
_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


class BotUnavailable(Exception):
    """Rasa is down, slow or answered with an error; the caller falls back. `may_be_running`: we
    stopped waiting (a timeout), so the turn may still be taken and logged by the bot."""

    def __init__(self, message: str, may_be_running: bool = False):
        super().__init__(message)
        self.may_be_running = may_be_running


def _url(path: str) -> str:
    return current_app.config["RASA_URL"].rstrip("/") + path


def _post(path: str, payload: dict):
    token = current_app.config["RASA_AUTH_TOKEN"]
    try:
        # The REST channel reads the header; Rasa's own API (--auth-token) only the query parameter.
        response = _session().post(_url(path), json=payload, timeout=current_app.config["BOT_TIMEOUT_SECONDS"],
                                   headers={"Authorization": f"Bearer {token}"},
                                   params=None if path.startswith("/webhooks/") else {"token": token})
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise BotUnavailable(f"{type(exc).__name__}: {exc}",
                             may_be_running=isinstance(exc, requests.ReadTimeout)) from exc


_SENDER_LABEL = b"red-mailbox bot conversation"


def _tag(resident_id: int) -> str:
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), _SENDER_LABEL, hashlib.sha256).digest()
    return hmac.new(key, str(resident_id).encode(), hashlib.sha256).hexdigest()[:32]


def sender_id(resident_id: int) -> str:
    """The resident's conversation id with the bot: "r<id>-" and an HMAC tag of the id under a key
    derived from SECRET_KEY. Nobody without the key can name another resident's conversation (it was
    "resident-<id>", a sequence). A new SECRET_KEY starts every conversation afresh."""
    return f"r{resident_id}-{_tag(resident_id)}"


_MAX_ID = 2**31 - 1  # ids are 32-bit on both databases: a longer number names nobody
# ASCII digits only: str.isdigit() and int() also accept other scripts' digits ("r١").
_SENDER = re.compile(r"r([0-9]{1,10})-([0-9a-f]{32})", re.ASCII)


def resident_id_of(sender: str) -> int | None:
    """The resident whose conversation this is, or None when the id is not one we made."""
    match = _SENDER.fullmatch(sender)
    if match is None or int(match[1]) > _MAX_ID:
        return None
    resident_id = int(match[1])
    return resident_id if hmac.compare_digest(match[2], _tag(resident_id)) else None


class Turn(NamedTuple):
    replies: list[str]
    order_number: str | None  # the order the bot created (its custom payload)
    buttons: list[dict]  # [{"title", "payload"}]: the bot's quick replies (附议 / 不是一回事, at most ten): the mini-program's and H5's buttons
    joined: str | None  # the order the resident joined as a co-reporter (附议)


def turn(resident_id: int, text: str, channel: str = "h5", key: str | None = None) -> Turn:
    """One conversation turn through the REST channel: the bot's text replies in order, the buttons
    it offers, and the number of the order it created or the resident joined, if any (its custom
    payload). The resident's channel and the turn's idempotency key travel as message metadata: the
    bot stores the order with both."""
    messages = _post("/webhooks/rest/webhook", {"sender": sender_id(resident_id), "message": text,
                                                "metadata": {"channel": channel, "idempotency_key": key}})
    if not isinstance(messages, list):
        raise BotUnavailable("unexpected reply from the bot")
    return _turn_of(messages)


def earlier_turn(resident_id: int, key: str) -> Turn | None:
    """The turn the bot already took for this idempotency key — the resident's message logged with
    it in the tracker and what the bot said after it — or None when the tracker has no such
    message (or the bot does not answer)."""
    tracker = _tracker(resident_id, events="ALL")
    events = [e for e in (tracker or {}).get("events") or [] if isinstance(e, dict)]
    start = next((i for i, e in enumerate(events) if e.get("event") == "user"
                  and ((e.get("metadata") or {}).get("idempotency_key")) == key), None)
    if start is None:
        return None
    said = []
    for e in events[start + 1:]:
        if e.get("event") == "user":
            break
        if e.get("event") == "bot":
            said.append({"text": e.get("text"), **{k: v for k, v in (e.get("data") or {}).items() if v}})
    return _turn_of(said)


def _turn_of(messages: list) -> Turn:
    messages = [m for m in messages if isinstance(m, dict)]
    custom = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
    buttons = [{"title": str(b["title"])[:40], "payload": str(b.get("payload") or b["title"])[:200]}
               for m in messages for b in (m.get("buttons") if isinstance(m.get("buttons"), list) else [])
               if isinstance(b, dict) and b.get("title")][:10]
    return Turn([m["text"] for m in messages if m.get("text")],
                next((c["order_number"] for c in custom if c.get("order_number")), None), buttons,
                next((c["joined"] for c in custom if c.get("joined")), None))


def awaiting_answer(resident_id: int) -> bool:
    """Is the bot waiting for this resident's answer — a form asking for a slot (地址, 电话, 评分), or
    its last message a question or a choice? Then "5", "3分" or "1" is an answer, not junk. Asked only
    for a message that looks meaningless; a bot that does not answer waits for nothing."""
    tracker = _tracker(resident_id)
    if tracker is None:
        return False
    if (tracker.get("active_loop") or {}).get("name") or (tracker.get("slots") or {}).get("requested_slot"):
        return True
    said = next((e for e in reversed(tracker.get("events") or []) if isinstance(e, dict)
                 and e.get("event") in ("bot", "user")), None)
    if said is None or said.get("event") != "bot":
        return False
    text = (said.get("text") or "").strip()
    return bool((said.get("data") or {}).get("buttons")) or text.endswith(("？", "?", "：", ":"))


def asking_for(resident_id: int) -> tuple[str | None, str | None]:
    """(the form the bot is filling with this resident, the slot it asks for now) — e.g.
    ("order_form", "photo_url") when it has just asked for a photo; (None, None) when it is in no
    form or does not answer."""
    tracker = _tracker(resident_id) or {}
    return (tracker.get("active_loop") or {}).get("name"), (tracker.get("slots") or {}).get("requested_slot")


def _tracker(resident_id: int, events: str = "APPLIED") -> dict | None:
    token = current_app.config["RASA_AUTH_TOKEN"]
    try:
        response = _session().get(_url(f"/conversations/{sender_id(resident_id)}/tracker"),
                                  params={"token": token, "include_events": events},
                                  timeout=current_app.config["BOT_TIMEOUT_SECONDS"])
        response.raise_for_status()
        tracker = response.json()
    except (requests.RequestException, ValueError):
        return None
    return tracker if isinstance(tracker, dict) else None


def parse(text: str) -> dict:
    """Intent and entities from Rasa's NLU, without touching any conversation."""
    return _post("/model/parse", {"text": text})
