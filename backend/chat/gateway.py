"""The one way the backend talks to the Rasa server: REST channel turns and /model/parse."""
import threading

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
    """Rasa is down, slow or answered with an error; the caller falls back."""


def _url(path: str) -> str:
    return current_app.config["RASA_URL"].rstrip("/") + path


def _post(path: str, payload: dict):
    try:
        response = _session().post(_url(path), json=payload, timeout=current_app.config["BOT_TIMEOUT_SECONDS"])
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise BotUnavailable(f"{type(exc).__name__}: {exc}") from exc


def sender_id(resident_id: int) -> str:
    return f"resident-{resident_id}"


_MAX_ID = 2**31 - 1  # ids are 32-bit on both databases: a longer number names nobody


def resident_id_of(sender: str) -> int | None:
    prefix, _, number = sender.partition("-")
    # ASCII only: str.isdigit() and int() also accept other scripts' digits ("resident-١").
    if prefix != "resident" or not (number.isascii() and number.isdigit()) or int(number) > _MAX_ID:
        return None
    return int(number)


def turn(resident_id: int, text: str, channel: str = "h5",
         key: str | None = None) -> tuple[list[str], str | None]:
    """One conversation turn through the REST channel: the bot's text replies in order, and the
    number of the order it created, if any (its custom payload). The resident's channel and the
    turn's idempotency key travel as message metadata: the bot stores the order with both."""
    messages = _post("/webhooks/rest/webhook", {"sender": sender_id(resident_id), "message": text,
                                                "metadata": {"channel": channel, "idempotency_key": key}})
    if not isinstance(messages, list):
        raise BotUnavailable("unexpected reply from the bot")
    messages = [m for m in messages if isinstance(m, dict)]
    created = next((m["custom"].get("order_number") for m in messages
                    if isinstance(m.get("custom"), dict) and m["custom"].get("order_number")), None)
    return [m["text"] for m in messages if m.get("text")], created


def parse(text: str) -> dict:
    """Intent and entities from Rasa's NLU, without touching any conversation."""
    return _post("/model/parse", {"text": text})
