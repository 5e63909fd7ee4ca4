"""Chat turns: the bot answers what it can; if it is down, slow or silent, the message becomes an
order anyway and the resident gets the 'received' reply with its number. Nothing is dropped."""
import logging
import time
import uuid

from redis.exceptions import RedisError

from flask import current_app, render_template
from .. import clock
from ..accounts.actors import Actor
from ..accounts.models import Resident
from ..errors import DomainError, NotFound, ValidationFailed
from ..extensions import db, redis
from ..grids.routing import place
from ..orders import emergencies, meaningless, services as orders
from ..orders.models import Order
from ..text import clean
from . import gateway

log = logging.getLogger(__name__)


def handle_message(resident_id: int, text: str, channel: str = "h5", *, client_id: str | None = None,
                   key: str | None = None) -> dict:
    """One resident message → {"replies": [...], "buttons": [{"title", "payload"}], "order_number":
    str | None, "joined": str | None, "bot": "ok" | "unavailable"}. `buttons` are the choices the bot
    offers (附议 / 不是一回事): a tap sends the payload as the next message's text; `joined` is the
    order this message made the resident a co-reporter of (附议).

    The turn's idempotency key — the caller's (a WeChat MsgId), the client's message id, or one made
    for this turn — goes with every order the turn makes, by the bot or by the fallback below: a
    retried message finds the order it made instead of making a second."""
    text = clean(text)
    if not text.strip():  # e.g. a WeChat text of invisible characters only: no request, no order
        return {"replies": [], "order_number": None, "bot": "skipped"}
    key = key or (f"chat:{client_id}" if client_id else f"turn:{uuid.uuid4().hex}")
    if meaningless.is_meaningless(text) and not _sent_before(resident_id, key) and not _bot_awaits(resident_id):
        # "0", ".ô", a formula, emoji only: asked back, no order — unless the bot asked for it ("5", "3分"),
        # or this is a retry of an "对" the bot took (it asks nothing since): its answer, below
        return {"replies": [meaningless.question()], "order_number": None, "bot": "skipped"}
    _end_transaction()
    already = orders.find_by_key(resident_id, key)
    if already is not None:  # this message was handled before (a retry): do not run its turn again
        return _received(already, "replayed")
    _end_transaction()  # the look-up's read must not stay open over the turn either
    community_id = place(text[:200]).community_id
    danger = emergencies.find(text, community_id)
    if danger is not None and danger.advice:
        # Danger now: what to do and whom to call at once, and the order (urgent) made without
        # waiting for the bot's questions.
        order = orders.create_order(Actor("resident", resident_id), text=text, channel=channel,
                                    location_text=text[:200], idempotency_key=key)
        return {"replies": [emergencies.advice(danger, order.community_id or community_id, order)],
                "order_number": order.number, "bot": "skipped"}
    try:
        answer = _earlier_answer(resident_id, key) if not _first_attempt(resident_id, key) else None
        if answer is None:
            answer = gateway.turn(resident_id, text, channel, key)
            _turn_ended(resident_id, key)
    except gateway.BotUnavailable as exc:
        log.warning("bot unavailable for resident %s: %s", resident_id, exc)
        if not exc.may_be_running:  # refused or failed (a 503, no connection): a retry sends it again
            _forget(resident_id, key)
        # A slow bot may have made the order before we stopped waiting: the key finds it.
        try:
            return _store_as_order(resident_id, text, channel, "bot_unavailable", key)
        except ValidationFailed as refused:
            if exc.may_be_running:
                # An "对" or "3分" cannot stand as an order, and the bot may yet take it: the client
                # asks again (same key) and meets the bot's answer in the tracker, or resends the
                # turn once the first attempt is long over.
                raise TurnInProgress("您刚才的消息还在处理中，请稍后再试") from None
            if refused.code == "meaningless":
                # Only an answer to the bot's own question gets here (else it was asked back above):
                # the answer is not wrong, the bot could not take it now.
                raise BotBusy("小助手暂时没能收到您的回复，请稍后再发一次") from None
            raise
    if not answer.replies:
        try:
            return _store_as_order(resident_id, text, channel, "unclassified", key)
        except ValidationFailed as refused:
            if refused.code != "meaningless":
                raise
            # The bot took an answer to its question and said nothing (an action server died in
            # the action): the form still waits for it, so the client's retry sends it again.
            _forget(resident_id, key)
            raise BotBusy("小助手暂时没能收到您的回复，请稍后再发一次") from None
    return {"replies": answer.replies, "buttons": answer.buttons, "order_number": answer.order_number,
            "joined": answer.joined, "bot": "ok"}


class TurnInProgress(DomainError):
    """A retried turn the bot may still be taking, whose text the fallback cannot store as an order."""
    status = 503
    code = "turn_in_progress"


class BotBusy(DomainError):
    """An answer to the bot's question the bot refused just now, which cannot stand as an order."""
    status = 503
    code = "bot_busy"


# A turn sent to the bot is marked in Redis under its key: the time it was sent, 0 once answered.
# A second attempt with the same key (the client's retry after a web node died mid-turn, a WeChat
# push whose worker died) first looks for the earlier attempt's turn in the bot's tracker, and
# while that attempt may still be in the bot (at most the bot's timeout) it waits for it: the
# resident's message goes to the bot once, and the retry answers with what the bot said then.
_MARK_SECONDS = 86_400


def _mark(resident_id: int, key: str) -> str:
    return f"chat:turn:{resident_id}:{key}"


def _on_mark(resident_id: int, key: str, command, untracked, unavailable):
    """`command(client, mark)` on this turn's Redis mark; `untracked` without asking when the key
    was made for this turn alone (nobody retries it), `unavailable` when Redis is away."""
    if key.startswith("turn:"):
        return untracked
    try:
        return command(redis.client, _mark(resident_id, key))
    except RedisError:
        return unavailable


def _first_attempt(resident_id: int, key: str) -> bool:
    """Is this the first time this turn goes to the bot? (Redis away: as if it were.)"""
    return bool(_on_mark(resident_id, key, lambda r, mark: r.set(mark, time.time(), nx=True, ex=_MARK_SECONDS),
                         untracked=True, unavailable=True))


def _sent_before(resident_id: int, key: str) -> bool:
    """Did an earlier attempt of this turn go to the bot? (Redis away: as if not.)"""
    return _on_mark(resident_id, key, lambda r, mark: r.get(mark) is not None, untracked=False, unavailable=False)


def _turn_ended(resident_id: int, key: str) -> None:
    _on_mark(resident_id, key, lambda r, mark: r.set(mark, 0, ex=_MARK_SECONDS), untracked=None, unavailable=None)


def _forget(resident_id: int, key: str) -> None:
    _on_mark(resident_id, key, lambda r, mark: r.delete(mark), untracked=None, unavailable=None)


def _earlier_answer(resident_id: int, key: str) -> "gateway.Turn | None":
    """The bot's answer to an earlier attempt of this turn, from its tracker; None when that attempt
    was answered without being logged, or is long over (three times the bot's timeout) and never
    was, and the turn is sent again. An attempt that may still be in the bot after the bot's
    timeout (slow, or waiting for the conversation's lock) is not sent a second time: the bot is
    unavailable for this retry (the fallback stores the message), and a later retry finds the turn."""
    _end_transaction()
    patience = current_app.config["BOT_TIMEOUT_SECONDS"] + 1
    while True:
        earlier = gateway.earlier_turn(resident_id, key)
        if earlier is not None:
            return earlier
        try:
            sent = redis.client.get(_mark(resident_id, key))
            sent = float(sent) if sent is not None else 0.0
        except (RedisError, ValueError):
            sent = 0.0
        if not sent:  # answered (and not logged), or failed and forgotten: send it
            return None
        age = time.time() - sent
        if age > 3 * patience:  # long over, never logged (its replica died, or it was cancelled): send it
            redis.client.set(_mark(resident_id, key), time.time(), ex=_MARK_SECONDS)
            return None
        if age > patience:
            raise gateway.BotUnavailable("an earlier attempt of this turn may still be in the bot", may_be_running=True)
        time.sleep(0.5)


def _bot_awaits(resident_id: int) -> bool:
    _end_transaction()  # an HTTP round trip: no transaction stays open over it
    return gateway.awaiting_answer(resident_id)


def _end_transaction() -> None:
    """The bot turn is an HTTP round trip during which the action server writes through our API,
    in its own transaction. Ours must not stay open meanwhile: on SQLite it holds the database
    lock, and on any database it would hide rows the bot needs."""
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("commit pending changes before a bot turn")
    db.session.rollback()  # only reads are open here: nothing is lost


def resident_for_sender(sender: str) -> Actor:
    """The resident a bot conversation belongs to (its id is gateway.sender_id's: a forged or
    guessed one names nobody)."""
    resident_id = gateway.resident_id_of(sender)
    resident = db.session.get(Resident, resident_id) if resident_id is not None else None
    if resident is None:
        raise NotFound("没有找到这次对话的居民", code="unknown_sender")
    return Actor.for_resident(resident)


def create_for_sender(data: dict) -> Order:
    """The bot took an order down: store it for the resident of that conversation, on the
    channel the conversation came from."""
    resident = resident_for_sender(data["sender_id"])
    order = orders.create_order(
        Actor("bot"), resident_id=resident.id, text=data["text"], kind=data["kind"],
        location_text=data["location_text"], contact=data["contact"],
        photos=[data["photo_url"]] if data["photo_url"] else [], channel=data["channel"],
        flags=data["flags"], idempotency_key=data["idempotency_key"])
    return orders.present(resident, order)


def _store_as_order(resident_id: int, text: str, channel: str, flag: str, key: str) -> dict:
    order = orders.create_order(Actor("resident", resident_id), text=text, channel=channel,
                                location_text=text[:200], flags=[flag],
                                idempotency_key=key)
    return _received(order, flag)


def _received(order: Order, flag: str) -> dict:
    reply = render_template("chat/received.txt", order=order, flag=flag,
                            claim_by=clock.local(order.claim_by, current_app.config["TIMEZONE"]))
    return {"replies": [reply.strip()], "buttons": [], "order_number": order.number, "joined": None,
            "bot": "unavailable" if flag == "bot_unavailable" else "ok"}


def parse(text: str) -> dict:
    """Intent/entities from the bot (when it is up) and the category from our classifier."""
    from ..categories import classifier
    prediction = classifier.classify(text)
    threshold = current_app.config["CATEGORY_CONFIDENCE_THRESHOLD"]
    result = {"intent": None, "entities": [], "bot": "ok",
              "category": {"level1": prediction.level1, "level2": prediction.level2, "level3": prediction.level3,
                           "path": prediction.path,
                           "confidence": prediction.confidence,
                           "confident": classifier.is_confident(prediction, threshold)}}
    try:
        nlu = gateway.parse(text)
        intent = nlu.get("intent") or {}
        result["intent"] = {"name": intent.get("name"), "confidence": intent.get("confidence")}
        result["entities"] = [{"entity": e.get("entity"), "value": e.get("value")} for e in nlu.get("entities", [])]
    except gateway.BotUnavailable:
        result["bot"] = "unavailable"
    return result
