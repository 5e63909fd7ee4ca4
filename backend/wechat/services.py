"""WeChat writes: login, storing pushes, bot turns for them, subscriptions, media, content checks.

Durability rule: a push is a database row before it is acknowledged. Redis (dedupe fast path,
job queue) only makes things faster; when it is down the row waits and `sweep()` picks it up."""
import hashlib
import logging
import unicodedata
from datetime import timedelta

import requests
from flask import current_app, render_template
from sqlalchemy import bindparam, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from wechatpy.exceptions import WeChatClientException, WeChatException

from .. import clock
from ..accounts import tokens
from ..accounts.models import Resident
from ..errors import DomainError, Unauthorized, describe
from ..extensions import db, redis
from ..notifications import services as notifications
from ..notifications.models import Notification
from ..accounts.actors import SYSTEM, Actor
from ..orders import photos, services as orders, states
from ..orders.models import Order, OrderEvent
from . import client as wx
from .inbound import msg_key, subscription_answers, through_miniprogram
from .models import WechatInbound, WechatSubscription

log = logging.getLogger(__name__)

DEDUPE_KEY = "wechat:push:{}"
# A row claimed longer ago than this belongs to a worker that died; the sweep retries it
# (WECHAT_STALE_CLAIM_SECONDS; the default outlasts any bot turn, BOT_TIMEOUT_SECONDS included).
STALE_CLAIM = timedelta(minutes=10)


def _stale_claim() -> timedelta:
    return timedelta(seconds=current_app.config.get("WECHAT_STALE_CLAIM_SECONDS", STALE_CLAIM.total_seconds()))
# A pending row younger than this probably still has its job in the queue.
SWEEP_GRACE = timedelta(seconds=30)
# A push that keeps failing stops being retried and stays visible as failed.
MAX_INBOUND_ATTEMPTS = 5


class WechatUnavailable(DomainError):
    status = 503
    code = "wechat_unavailable"


# --- login -----------------------------------------------------------------------------------

# Subscribe messages the mini-program asks for when a resident submits (WeChat takes at most three
# template ids in one wx.requestSubscribeMessage): the notices a resident waits for most.
ASK_ON_SUBMIT = ("claimed", "resolved", "reply")


def miniprogram_config() -> dict:
    """What the mini-program reads at start: the subscribe-message template ids per notice (from
    WECHAT_TEMPLATES, never hard-coded in the pages), the photo limits, and the registered
    buildings a resident may pick as the place of a report."""
    from ..grids.models import Community
    from ..orders.schemas import PHOTO_MAX_COUNT
    templates = {kind: tid for kind, tid in current_app.config["WECHAT_TEMPLATES"].items() if tid}
    places = [{"community": c.name, "buildings": sorted(
        ({"id": b.id, "label": b.label} for g in c.grids for b in g.buildings), key=lambda b: b["label"])}
        for c in db.session.scalars(select(Community).order_by(Community.id))]
    return {"templates": templates, "ask_on_submit": [templates[k] for k in ASK_ON_SUBMIT if k in templates],
            "photo_max_count": PHOTO_MAX_COUNT, "photo_max_bytes": current_app.config["PHOTO_MAX_BYTES"],
            "places": [p for p in places if p["buildings"]]}


def login(code: str) -> dict:
    """code2session → resident (created on first sight) → resident token. The session_key is
    dropped here: nothing in this backend needs it, and a key we never keep cannot leak."""
    resident = resident_from_wechat(lambda: wx.get_client().wxa.code_to_session(code), "code2session",
                                    invalid="the WeChat login code is invalid or was already used",
                                    unavailable="WeChat login is unavailable, try again")
    return tokens.issue("resident", resident.id, version=resident.session_version or 0)


def resident_from_wechat(fetch, what: str, *, invalid: str, unavailable: str) -> Resident:
    """The resident behind a WeChat identity answer (code2session, web OAuth): `fetch()` returns
    WeChat's JSON with the openid. A bad or used code is 401 `invalid`; WeChat failing or out of
    reach is 503 `unavailable` (logged without the code)."""
    try:
        answer = fetch()
    except WeChatException as exc:
        if exc.errcode in (wx.INVALID_CODE, wx.CODE_USED):
            raise Unauthorized(invalid, code="invalid_wechat_code") from None
        log.warning("%s failed with errcode %s", what, exc.errcode)
        raise WechatUnavailable(unavailable) from None
    except requests.RequestException as exc:
        log.warning("%s unreachable: %s", what, type(exc).__name__)
        raise WechatUnavailable(unavailable) from None
    openid = answer.get("openid")
    if not openid:
        raise WechatUnavailable(unavailable)
    return resident_for_openid(openid, answer.get("unionid"))


def resident_for_openid(openid: str, unionid: str | None = None) -> Resident:
    resident = db.session.scalar(select(Resident).where(Resident.openid == openid))
    if resident is None:
        resident = Resident(openid=openid, unionid=unionid, created_at=clock.now())
        db.session.add(resident)
        try:
            db.session.commit()
            return resident
        except IntegrityError:  # the same user logging in twice at once
            db.session.rollback()
            resident = db.session.scalar(select(Resident).where(Resident.openid == openid))
    if unionid and resident.unionid != unionid:
        resident.unionid = unionid
        db.session.commit()
    return resident


# --- the callback ----------------------------------------------------------------------------

_INSERT_PUSH = insert(WechatInbound.__table__)
NONCE_KEY = "wechat:nonce:{}:{}"


class ReplayedPush(DomainError):
    status = 403
    code = "replayed"


def take_nonce(timestamp: str, nonce: str, body: bytes) -> str | None:
    """Use a signed (timestamp, nonce) pair for one body: the pair with another body is refused
    (403 replayed). The same body again passes on to the push dedupe, which answers it once: a
    node killed after taking the pair must not turn WeChat's retry of it into a refusal.
    Remembered while the timestamp window could still accept it. Redis down: the window alone
    holds (logged), as the push dedupe falls back to the database."""
    key, digest, seconds = _nonce(timestamp, nonce, body)
    try:
        taken = redis.set(key, digest, nx=True, ex=seconds)
        if not taken and _decoded(redis.get(key)) != digest:
            raise ReplayedPush("this push's timestamp and nonce were used already")
    except ReplayedPush:
        raise
    except Exception as exc:
        log.warning("redis unavailable for the push nonce (%s): only the timestamp window holds",
                    type(exc).__name__)
        return None
    return key if taken else None


def _nonce(timestamp: str, nonce: str, body: bytes) -> tuple[str, str, int]:
    """The pair's key, the body's digest kept under it, and how long it is remembered."""
    window = current_app.config["WECHAT_TIMESTAMP_WINDOW_SECONDS"]
    return NONCE_KEY.format(timestamp, nonce[:64]), hashlib.sha256(body).hexdigest()[:32], 2 * window + 60


class Checked:
    """What Redis said of a push before it is stored (`check_push`): the nonce key this push took
    (None: taken before by the same body, or Redis down), the push's dedupe key (None: Redis down)
    and whether that mark is there (a duplicate)."""
    __slots__ = ("nonce_key", "dedupe_key", "marked")

    def __init__(self, nonce_key, dedupe_key, marked):
        self.nonce_key, self.dedupe_key, self.marked = nonce_key, dedupe_key, marked


def check_push(message: dict, timestamp: str, nonce: str, body: bytes) -> Checked:
    """`take_nonce` and the push's dedupe mark in one round trip (a pipeline: SET NX of the pair,
    GET of whose body holds it, EXISTS of the mark) instead of two; the same answers: 403 replayed
    for the pair with another body, and with Redis down the timestamp window and the database
    decide (logged)."""
    key, digest, seconds = _nonce(timestamp, nonce, body)
    dedupe_key = DEDUPE_KEY.format(msg_key(message))
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.set(key, digest, nx=True, ex=seconds)
        pipe.get(key)
        pipe.exists(dedupe_key)
        taken, holder, marked = pipe.execute()
    except Exception as exc:
        log.warning("redis unavailable for the push nonce and dedupe (%s): only the timestamp window "
                    "holds, the database decides", type(exc).__name__)
        return Checked(None, None, False)
    if not taken and _decoded(holder) != digest:
        raise ReplayedPush("this push's timestamp and nonce were used already")
    return Checked(key if taken else None, dedupe_key, bool(marked))


def _decoded(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def forget_nonce(key: str | None) -> None:
    _forget(key)


def accept_push(message: dict, checked: Checked, enqueue) -> int | None:
    """Store a push once. Returns the new row's id, or None for a duplicate.

    `checked`: what `check_push` asked Redis before (a mark there answers WeChat's retry without
    touching the database); the unique msg_key decides when Redis is down or lost the key.
    `enqueue(inbound_id, marks)`: queues the new row's job with the dedupe mark in one MULTI/EXEC
    after the commit (the caller's, so that this module does not import the jobs that call it). The
    mark is written only after the row is committed: a node killed between the two leaves no mark,
    so WeChat's retry is stored rather than acknowledged into oblivion."""
    if checked.marked:
        return None
    # A Core INSERT of fixed shape, not an ORM object: the acknowledgement needs only the new id,
    # and the unit of work (identity map, flush plan, expiry on commit) was a third of the
    # callback's CPU; the statement is built once, so its compiled form comes from the cache.
    params = dict(
        msg_key=msg_key(message), openid=str(message["FromUserName"]), msg_type=str(message["MsgType"]).lower(),
        event=(str(message["Event"]).lower() if message.get("Event") else None),
        content=message.get("Content"), media_id=message.get("MediaId"),
        payload=message, status="pending", attempts=0, created_at=clock.now())
    try:
        inbound_id = db.session.execute(_INSERT_PUSH, params).inserted_primary_key[0]
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    except Exception:
        db.session.rollback()
        raise
    # The mark rides with the job: both or neither (Redis down: the row is the work item, the
    # sweep queues it, the database still dedupes).
    ttl = current_app.config["WECHAT_DEDUPE_TTL"]
    enqueue(inbound_id, {checked.dedupe_key: ttl} if checked.dedupe_key else None)
    return inbound_id


def _forget(redis_key):
    if redis_key:
        try:
            redis.delete(redis_key)
        except Exception:
            pass


# --- the worker side ---------------------------------------------------------------------------

def claim_inbound(inbound_id: int) -> WechatInbound | None:
    """Atomically take a row for processing; a second job (or the sweep) for it gets None."""
    now = clock.now()
    result = db.session.execute(
        update(WechatInbound)
        .where(WechatInbound.id == inbound_id,
               (WechatInbound.status == "pending")
               | ((WechatInbound.status == "processing") & (WechatInbound.claimed_at < now - _stale_claim())))
        .values(status="processing", claimed_at=now, attempts=WechatInbound.attempts + 1))
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(WechatInbound, inbound_id)


def release_inbound(inbound_id: int) -> None:
    """A push that used up its attempts gets a fresh set (the console's 重试 of its failed job)."""
    db.session.execute(update(WechatInbound).where(WechatInbound.id == inbound_id,
                                                   WechatInbound.status == "failed")
                       .values(status="pending", attempts=0, claimed_at=None))
    db.session.commit()


def process_inbound(inbound_id: int) -> list[int]:
    """Run one push: the bot turn for text, the photo for images, subscriptions for events.
    Returns the ids of the Notification rows (replies) to deliver."""
    row = claim_inbound(inbound_id)
    if row is None:
        return []
    try:
        resident = resident_for_openid(row.openid)
        row.resident_id = resident.id
        # Commit before the turn: the action server creates this resident's order through our API
        # in its own transaction, and must see a resident created just now.
        db.session.commit()
        handler = _HANDLERS.get(row.event if row.msg_type == "event" else row.msg_type, _ignore)
        replies = handler(row, resident) or []
        notes = [_reply_row(resident.id, reply, row) for reply in replies]
        row.status = "done"
        row.processed_at = clock.now()
        db.session.commit()
        return [n.id for n in notes]
    except Exception as exc:
        db.session.rollback()
        attempts = db.session.scalar(select(WechatInbound.attempts).where(WechatInbound.id == inbound_id))
        db.session.execute(update(WechatInbound).where(WechatInbound.id == inbound_id).values(
            status="failed" if attempts >= MAX_INBOUND_ATTEMPTS else "pending",
            last_error=describe(exc)))
        db.session.commit()
        raise


def _reply_row(resident_id: int, reply: str | dict, row: WechatInbound) -> Notification:
    """One reply as a customer-service message: a text, or a text with choices — a menu message, whose
    tap comes back as a text push with the choice's words (附议 / 不是一回事); or, to a resident who
    wrote through the mini-program's customer service (which sends no menu messages), the text with
    the choices written out (`written`), answered by their number (`_chosen`)."""
    order = None
    if row.order_number:
        order = db.session.scalar(select(Order).where(Order.number == row.order_number))
    text, menu = (reply["text"], reply["menu"]) if isinstance(reply, dict) else (reply, None)
    payload = {"text": text, "inbound_id": row.id}
    if menu:
        payload["menu"] = menu
        if through_miniprogram(row.payload or {}, current_app.config["WECHAT_MINIPROGRAM_ID"]):
            payload.update(text=with_choices_written(text, menu), written=True)
    note = notifications.notify("resident", resident_id, "reply", order=order, channel="wechat_cs", payload=payload)
    db.session.flush()
    return note


def with_choices_written(text: str, menu: list[str]) -> str:
    """The text with its choices to answer by number: 「…\n回复 1 附议，回复 2 不是一回事」."""
    return text + "\n" + "，".join(f"回复 {i} {title}" for i, title in enumerate(menu, 1))


def _chosen(content: str, resident_id: int) -> str:
    """A reply of just a number (1, 2; full-width too) to the choices written out in the last reply
    this resident was sent is the choice's words, as a menu tap would push them; anything else is
    itself."""
    number = unicodedata.normalize("NFKC", content or "").strip()
    if not (number.isascii() and number.isdigit()):
        return content
    last = db.session.scalar(select(Notification).where(
        Notification.recipient_type == "resident", Notification.recipient_id == resident_id,
        Notification.channel == "wechat_cs", Notification.kind == "reply").order_by(Notification.id.desc()).limit(1))
    menu = (last.payload or {}).get("menu") if last is not None and (last.payload or {}).get("written") else None
    if menu and 1 <= int(number) <= len(menu):
        return menu[int(number) - 1]
    return content


def _text(row: WechatInbound, resident: Resident) -> list[str]:
    from ..chat import services as chat
    # The push's MsgId is the turn's key: a retried row (its worker died) finds the order it made.
    text = _chosen(row.content or "", resident.id)  # 「回复 1 附议」 answered with 1: the bot reads 附议
    result = chat.handle_message(resident.id, text, channel="wechat", key=f"wechat:{row.msg_key}")
    row.order_number = result.get("order_number")
    replies: list = list(result.get("replies") or [])
    if replies and result.get("buttons"):  # the choices go with the last reply, as a menu message
        replies[-1] = {"text": replies[-1], "menu": [b["title"] for b in result["buttons"]]}
    return replies


def _image(row: WechatInbound, resident: Resident) -> list[str]:
    order = _recent_open_order(resident.id)
    if order is not None and any(e.action == "attach" and (e.data or {}).get("push") == row.msg_key
                                 for e in order.events):
        row.order_number = order.number  # a retry after a crash: this push's photo is there already
        return [render_template("notifications/wechat/photo_attached.txt", order=order).strip()]
    try:
        photo = save_media(row.media_id)
    except photos.PhotoRefused as refused:
        # Sending it again changes nothing: tell the resident instead of retrying.
        return [render_template("notifications/wechat/photo_refused.txt", reason=refused.message).strip()]
    row.attachment_path = photo.pop("key")  # the file store's key
    if order is None:
        return [render_template("notifications/wechat/photo_no_order.txt").strip()]
    row.order_number = order.number
    orders.perform(Actor.for_resident(resident), order, "attach", channel="wechat", push=row.msg_key,
                   photos=[photo])
    return [render_template("notifications/wechat/photo_attached.txt", order=order).strip()]


def _recent_open_order(resident_id: int) -> Order | None:
    # A photo sent right after describing a problem belongs to that problem.
    since = clock.now() - timedelta(hours=24)
    return db.session.scalar(
        select(Order).where(Order.resident_id == resident_id, Order.state.in_(states.OPEN_STATES),
                            Order.created_at >= since).order_by(Order.id.desc()).limit(1))


def save_media(media_id: str) -> dict:
    """Fetch a temporary media file from WeChat (it expires after 3 days) into the file store, if its
    bytes are a photo we accept (photos.PhotoRefused otherwise: WeChat's header is not trusted)."""
    response = wx.get_client().media.download(media_id)
    if isinstance(response, dict):  # wechatpy returns JSON bodies as dicts: an error answer
        raise RuntimeError(f"media/get answered {response.get('errcode')}")
    return photos.store(response.content, "wechat")


def _subscription_event(row: WechatInbound, resident: Resident) -> list[str]:
    for template_id, answer in subscription_answers(row.payload):
        record_subscription(resident.id, template_id, answer)
    return []


def _ignore(row: WechatInbound, resident: Resident) -> list[str]:
    log.info("wechat push %s of type %s/%s needs no answer", row.id, row.msg_type, row.event)
    return []


_HANDLERS = {
    "text": _text,
    "image": _image,
    "subscribe_msg_popup_event": _subscription_event,
    "subscribe_msg_change_event": _subscription_event,
    "user_enter_tempsession": _ignore,
    "subscribe": _ignore,
    "unsubscribe": _ignore,
}
KNOWN_TYPES = {"text", "image", "event"}


def record_subscription(resident_id: int, template_id: str, answer: str) -> WechatSubscription:
    sub = subscription_for(resident_id, template_id)
    if sub is None:
        sub = WechatSubscription(resident_id=resident_id, template_id=template_id, status=answer, grants=0)
        db.session.add(sub)
    sub.status = answer if answer in ("accept", "reject", "ban") else "reject"
    # One-time subscriptions: each accept allows one more message; a reject withdraws them all.
    sub.grants = (sub.grants or 0) + 1 if sub.status == "accept" else 0
    sub.updated_at = clock.now()
    db.session.flush()
    return sub


def subscription_for(resident_id: int, template_id: str) -> WechatSubscription | None:
    return db.session.scalar(select(WechatSubscription).where(
        WechatSubscription.resident_id == resident_id, WechatSubscription.template_id == template_id))


# --- content security --------------------------------------------------------------------------

CHECKED = ("content_check", "content_flag")  # WeChat's verdict on an order's text, either way


def _checked(order) -> object:
    """SQL: WeChat's verdict on this order's text is recorded (`order`: Order.id in a query of
    orders)."""
    return exists().where(OrderEvent.order_id == order, OrderEvent.action.in_(CHECKED))


# Its twin for the order being recorded, once its row is locked (engine.perform_record's `unless`).
_CHECKED_ALREADY = select(exists().where(OrderEvent.order_id == bindparam("subject_id"),
                                         OrderEvent.action.in_(CHECKED)))


def check_order_content(order_id: int) -> str:
    """msg_sec_check on what the resident wrote; a flagged order is kept for staff only. (One
    order; `check_new_orders` runs a batch of them.)"""
    found = db.session.execute(select(Order.text, Order.location_text)
                               .where(Order.id == order_id, ~_checked(Order.id))).first()
    db.session.commit()  # no transaction held open across WeChat's answer
    if found is None:
        return "skipped"
    return _record_verdict(order_id, _verdict(wx.get_client(), found.text, found.location_text))


def _verdict(client, text: str | None, location_text: str | None) -> str:
    """WeChat's answer: "pass" or "risky"; WeChat failing or out of reach raises (WeChatException,
    requests.RequestException): the order stays unchecked and unpublished until a later run."""
    try:
        client.wxa.check_text_security(" ".join(filter(None, [text, location_text])))
        return "pass"
    except WeChatClientException as exc:
        if exc.errcode != wx.RISKY_CONTENT:
            raise
        return "risky"


def _record_verdict(order_id: int, verdict: str) -> str:
    """The verdict as the order's event, once: a check another job recorded meanwhile (a duplicate
    job, the sweep's) is found under the order's lock and this one is dropped ("skipped"). A pass is
    a record (written without loading the order); a flag hides the order, through `perform`."""
    done = orders.record(SYSTEM, order_id, "content_flag" if verdict == "risky" else "content_check",
                         unless=_CHECKED_ALREADY, check="msg_sec_check", verdict=verdict)
    return verdict if done else "skipped"


def is_publishable(order: Order) -> bool:
    """Public pages show an order's text only after WeChat's check passed and nobody flagged it."""
    if "content_flagged" in (order.flags or []):
        return False
    return any(e.action == "content_check" and (e.data or {}).get("verdict") == "pass" for e in order.events)


# --- recovery --------------------------------------------------------------------------------

def sweep_candidates(now=None) -> dict:
    """What a lost enqueue (Redis down, worker died) left behind, for the sweep job to re-enqueue
    (outbox rows have the notifications service's own sweep)."""
    now = now or clock.now()
    inbound = db.session.scalars(select(WechatInbound.id).where(
        ((WechatInbound.status == "pending") & (WechatInbound.created_at <= now - SWEEP_GRACE))
        | ((WechatInbound.status == "processing") & (WechatInbound.claimed_at < now - _stale_claim()))
    ).order_by(WechatInbound.id).limit(500)).all()
    return {"inbound": list(inbound), "orders": unchecked_orders(now, 500, older_than=SWEEP_GRACE)}


def unchecked_orders(now, limit: int, older_than: timedelta = timedelta(0)) -> list[int]:
    """Ids of this week's orders whose text WeChat has not judged yet, oldest first."""
    return [order_id for order_id, _, _ in _unchecked(now, limit, older_than)]


def _unchecked(now, limit: int, older_than: timedelta = timedelta(0)) -> list:
    """(id, text, location_text) of this week's orders whose text WeChat has not judged yet, oldest
    first: what a check needs, in one query, without loading an order or its events. NOT EXISTS per
    order (an index probe) rather than NOT IN every checked id, which grows with all history."""
    return db.session.execute(select(Order.id, Order.text, Order.location_text).where(
        Order.created_at <= now - older_than, Order.created_at >= now - timedelta(days=7),
        ~_checked(Order.id)).order_by(Order.id).limit(limit)).all()


CHECK_BATCH = 100


def check_new_orders() -> dict:
    """The content checks of every order not yet checked, up to CHECK_BATCH of them, one transaction
    each (`_record_verdict`), through one WeChat client (one HTTP session kept alive); `more` when
    others are left (the job asks for itself again)."""
    found = _unchecked(clock.now(), CHECK_BATCH)
    db.session.commit()  # no transaction held open across WeChat's answers
    client = wx.get_client() if found else None
    verdicts = {}
    for order_id, text, location_text in found:
        try:
            verdict = _verdict(client, text, location_text)
        except (WeChatException, requests.RequestException) as exc:
            # WeChat could not judge now: this order waits for the next run or the sweep, the
            # rest of the batch goes on.
            db.session.rollback()
            log.warning("content check of order %s failed: %s", order_id, exc)
            verdicts[order_id] = "failed"
            continue
        verdicts[order_id] = _record_verdict(order_id, verdict)
    return {"checked": verdicts, "more": len(found) == CHECK_BATCH}
