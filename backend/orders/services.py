"""Every write to an order happens here, through the lifecycle table (`lifecycle.py`):
`create_order` for a new one, `perform` for everything after. One transaction per change, with its
audit event; the one signal `order_changed` is sent inside it, before the commit."""
import logging
import uuid
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached, selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import clock, lifecycle as engine, rows
from ..accounts.actors import SCOPE_RUNG, Actor, in_scope, may_hold, scope_column, scope_value
from ..accounts.models import mask_name
from ..text import clean, is_clean
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..grids.property import company_id_for_building, is_property_work
from ..grids.routing import place
from ..kinds import predict_kind
from ..masking import mask
from . import deadlines, emergencies, lifecycle, meaningless, merging, numbers, rota, states
from .inputs import SCORE_SATISFACTION
from .models import RESIDENT_CHANNELS, SATISFACTIONS, Attachment, Order, OrderEvent
from .numbers import next_number
from .signals import order_changed

log = logging.getLogger(__name__)

def _commit(order: Order, action: str, event: OrderEvent, expire: bool = True, flushed=None, more=()) -> None:
    """A new order's commit: numbered once its row is in, `order_changed` sent inside it (and for
    each (action, event) of `more` the same transaction made, e.g. 轮派's assign)."""
    session = db.session()
    try:
        if not _insert_new(session, order, event):
            db.session.flush()  # receivers see ids (a new order's grid, community) as the database will
        if flushed is not None:
            flushed()
        order_changed.send(order, action=action, event=event, row=lifecycle.ACTIONS[action])
        for then, then_event in more:
            order_changed.send(order, action=then, event=then_event, row=lifecycle.ACTIONS[then])
        # A new order holds only what this transaction wrote: reading it all back after the commit
        # (to answer, to queue it) would cost a transaction of its own. Changes keep expiring, so
        # an answer after `perform` shows what concurrent writers made of the row too.
        session.expire_on_commit = expire
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("这张工单刚被别人改过，请刷新后重试", code="concurrent_change") from None
    except Exception:
        db.session.rollback()
        raise
    finally:
        session.expire_on_commit = True


def _insert_new(session, order: Order, event: OrderEvent) -> bool:
    """A new order and its submit event, when they are all the transaction has to write, as two Core
    statements (`INSERT … RETURNING` each, backend/rows.py) instead of the unit of work: for two rows
    it costs more CPU than the rest of the intake's database work together (relationship bookkeeping
    for the order's 15 relationships, dependency sorting, history). Both then join the session as
    persistent, as a flush would have left them: receivers of `order_changed` add rows pointing at
    them, a later change UPDATEs them. Anything else pending (photos, 轮派's assign, a settle) takes
    the unit of work, which orders those rows. False: nothing done, flush as usual."""
    if len(session.new) != 2 or order not in session.new or event not in session.new:
        return False
    session.expunge(order)  # cascades to the event: both transient again, nothing left to flush
    connection = session.connection()
    rows.insert_row(order, connection)
    event.order_id = order.id
    rows.insert_row(event, connection)
    make_transient_to_detached(order)
    make_transient_to_detached(event)
    session.add(order)  # persistent again (the event with it), their history clean
    return True


_refuse = engine.refuse  # nothing read or half-set may leak into the next change


def _classify(text: str):
    """The category prediction when it is confident enough, else None (a worker sets it)."""
    from ..categories import classifier
    prediction = classifier.classify(text)
    return prediction if classifier.is_confident(
        prediction, current_app.config["CATEGORY_CONFIDENCE_THRESHOLD"]) else None


def create_order(actor: Actor, *, text: str, kind: str | None = None, channel: str = "h5",
                 location_text: str | None = None, building_id: int | None = None,
                 grade: str = "normal", category: str | None = None, contact: str | None = None,
                 photos: list[str] | None = None, resident_id: int | None = None,
                 flags: list[str] | None = None, idempotency_key: str | None = None,
                 caller_name: str | None = None, note: str | None = None, settle: str | None = None,
                 event_data: dict | None = None) -> Order:
    """Store, classify, route and time-limit a new order in one transaction.

    `note` goes on the submit event (what a patrol already did); `settle`, the result of a patrol
    report settled on the spot, resolves it in the same transaction through the lifecycle's
    `settle` row, so it is audited and counted but never waits in a queue.

    With an idempotency key, a second call with the same key (a retry after a crash, a duplicate
    sent at the same moment) returns the first order with `replayed` set instead of making one:
    the unique index on the key decides between concurrent ones.

    Without a `kind` (nobody chose one), the kind is predicted from the text (backend/kinds) and the
    submit event says so (`kind_from_text`)."""
    submit = lifecycle.ACTIONS["submit"]
    if lifecycle.refusal(actor, _NEW, submit) == "role":
        engine.refuse_row(lifecycle.TABLE, actor, _NEW, submit, "role")
    if actor.kind in ("resident", "bot") and channel not in RESIDENT_CHANNELS:
        # A hotline call, a walk-in or a photo report is what staff record; a resident claiming
        # one would jump the channel statistics and the hotline's own follow-up rules.
        _refuse("居民只能通过微信、小程序或H5提交诉求", ValidationFailed, code="channel_not_allowed",
                fields={"channel": [f"must be one of {', '.join(RESIDENT_CHANNELS)}"]})
    text, location_text, contact = clean(text), clean(location_text), clean(contact)
    caller_name, note = clean(caller_name), clean(note)
    if not (text or "").strip():
        _refuse("请写下诉求内容", ValidationFailed, fields={"text": ["must not be blank"]})
    if actor.kind in ("resident", "bot") and meaningless.is_meaningless(text):
        # "0", ".ô", a formula: asked back, never an order (staff intake keeps free text)
        _refuse(meaningless.question(), ValidationFailed, code="meaningless", fields={"text": ["describe the problem"]})
    if actor.is_resident:
        resident_id = actor.id
    if photos and actor.kind in ("resident", "bot"):
        photos = _own_photos(actor, resident_id, photos)
    # Classify before touching the database: CPU work must not hold a write transaction open.
    confident = None if category else _classify(" ".join(filter(None, [text, location_text])))
    kind_from_text = not kind
    if kind_from_text:
        kind = predict_kind(text)
    key = _stored_key(actor, resident_id, idempotency_key)
    # No look-up of the key first: a retry is rare, and the key's unique index finds it anyway (the
    # INSERT fails, the except below answers with the first order), so a new order saves a round trip.
    now = clock.now()
    # Numbered in the INSERT itself where the database can (PostgreSQL); elsewhere only once the row
    # is in (see _number), and until then a placeholder no number looks like.
    number = numbers.in_insert()
    order = Order(number=number if number is not None else f"~{uuid.uuid4().hex[:31]}", idempotency_key=key, channel=channel, kind=kind, grade=grade,
                  text=text, location_text=location_text, contact=contact, caller_name=caller_name,
                  resident_id=resident_id, reporter_id=actor.id if actor.is_staff else None,
                  state=states.SUBMITTED, rung="grid_worker", flags=list(flags or []),
                  created_at=now, updated_at=now,
                  attachments=[], co_reporters=[])  # known empty: the answer must not query for the photos of a new order
    if category:
        order.category, order.category_confidence = category, 1.0
    elif confident:
        order.category, order.category_confidence = confident.path, round(confident.confidence, 3)
    else:
        order.add_flag("unclassified")
    placement = place(location_text, building_id)
    # The ids as routing's snapshot has them: loading the rows behind them would cost a query.
    order.building_id, order.grid_id = placement.building_id, placement.grid_id
    order.community_id, order.street_id = placement.community_id, placement.street_id
    order.known_names = {"grid": (placement.grid_id, placement.grid_name),  # the answer's, with no query
                         "community": (placement.community_id, placement.community_name)}
    if order.grid_id is None:
        order.add_flag("unplaced")
    danger = emergencies.find(text, placement.community_id)
    if danger is not None:  # 燃气泄漏, 着火, a blocked fire exit …: urgent, the community told at once
        order.grade = "urgent"
        order.add_flag("emergency")
        event_data = {**(event_data or {}), "emergency": danger.kind, "emergency_word": danger.word}
    offered_to = _property_first(order)
    deadlines.set_for_rung(order, now)
    order.due_at = deadlines.current_due(order)
    db.session.add(order)
    ctx = SimpleNamespace(actor=actor, now=now, data={"note": note, "photos": photos}, event={})
    event = engine.record(lifecycle.TABLE, order, actor, "submit", None, ctx, flags=list(order.flags),
                          grid=placement.grid_code, **(event_data or {}),
                          **({"kind_from_text": True} if kind_from_text else {}),
                          **({"property": offered_to} if offered_to else {}))
    lifecycle.TABLE.recorded(order, submit, event, ctx)
    if settle is not None:
        perform(actor, order, "settle", result=settle, commit=False)
    # 轮派: in a grid with the rule on, to the on-duty worker with the fewest open orders, now
    assigned = rota.assign_at_intake(order) if settle is None else None
    try:
        _commit(order, "submit", event, expire=False, flushed=None if number is not None else lambda: _number(order),
                more=(("assign", assigned),) if assigned is not None else ())
    except IntegrityError:  # rolled back; a concurrent twin with the same key may have won
        first = _first_for(key, resident_id) if key else None
        if first is None:
            raise
        return _replay(actor, first)
    return present(actor, order)


def _own_photos(actor: Actor, resident_id: int | None, photos: list) -> list:
    """What a resident (or the bot for them) may attach by URL: only photos of this site that
    they uploaded to an order of their own (`POST /orders/<number>/photos`, WeChat images). Any
    other address — another site's, which staff would open as a link, or another resident's upload,
    which attaching would make readable — is refused to a resident (422) and dropped from what the
    bot took down in chat (the order is still made: a typed link is no photo)."""
    urls = [p["url"] if isinstance(p, dict) else p for p in photos]
    own = set(db.session.scalars(
        select(Attachment.url).join(Order, Order.id == Attachment.order_id)
        .where(Attachment.url.in_(urls), Order.resident_id == resident_id))) if resident_id is not None else set()
    foreign = [u for u in urls if u not in own]
    if foreign and actor.is_resident:
        _refuse("照片请通过上传添加，不能填写网址", ValidationFailed, code="photo_not_uploaded",
                fields={"photos": ["only photos uploaded to your own orders"]})
    if foreign:
        log.info("bot order: %d photo address(es) not uploaded by the resident dropped", len(foreign))
    return [p for p, u in zip(photos, urls) if u in own]


def _property_first(order: Order) -> int | None:
    """Property work (PROPERTY_CATEGORIES) in a compound with a property company starts at the
    property's rung (小区吹哨、物业报到); anything else, or a compound without one, at the grid."""
    if order.building_id is None or not is_property_work(order.category):
        return None
    company_id = company_id_for_building(order.building_id)
    if company_id is not None:
        order.property_company_id, order.rung = company_id, "property"
    return company_id


def _number(order: Order) -> None:
    """SQLite's number, taken once the INSERT has passed the idempotency key's unique index (a twin
    that loses there spends none) and last, because the day's counter row stays locked until the
    commit. PostgreSQL numbers in the INSERT itself (numbers.in_insert): a refused retry spends a
    number there, a gap as any rolled-back order leaves. The receivers of order_changed, which run
    next, see the real number either way."""
    order.number = next_number()
    db.session.flush()


def _stored_key(actor: Actor | None, resident_id: int | None, key: str | None) -> str | None:
    """Keys are the resident's own: the same key from another resident names another order. The
    bot and the chat's fallback store one message under the same key, so a turn makes one order."""
    if not key:
        return None
    owner = resident_id if resident_id is not None else f"{actor.kind}{actor.id or ''}"
    return f"{owner}:{key}"


def find_by_key(resident_id: int, key: str) -> Order | None:
    """The order an intake with this key already made for this resident, if any."""
    return db.session.scalar(select(Order).where(Order.idempotency_key == _stored_key(None, resident_id, key)))


def _first_for(key: str, resident_id: int | None) -> Order | None:
    first = db.session.scalar(select(Order).where(Order.idempotency_key == key))
    if first is not None and first.resident_id != resident_id:
        _refuse("这个幂等键已用于另一张工单", Conflict, code="idempotency_key_reused")
    return first


def _replay(actor: Actor, order: Order) -> Order:
    log.info("intake retried with the key of %s: answered with it, no second order", order.number)
    order.replayed = True
    return present(actor, order)


_NEW = SimpleNamespace(state=None, resident_id=None)  # the order that does not exist yet


def present(actor: Actor, found):
    """Attach, for `actor`, the actions they may ask for now to an order or a list of orders: every
    order response carries them, and the console's buttons and the bot read nothing else. The
    caller's phone and name come along as the actor may see them."""
    for order in ([found] if isinstance(found, Order) else found):
        order.allowed_actions = lifecycle.allowed_actions(actor, order)
        # A co-reporter reads the order in their own view: the reporter's words masked, their
        # photos, score and comment left out (OrderSchema, the H5 page).
        order.co_view = merging.is_co_reporter(actor, order) if actor.is_resident else False
        order.co_viewer = actor.id if order.co_view else None
        plain = needs_contact(actor, order)
        order.contact_shown = order.contact if plain else mask(order.contact)
        order.caller_shown = order.caller_name if plain else mask_name(order.caller_name)
    return found


def needs_contact(actor: Actor, order: Order) -> bool:
    """Whose work needs the caller's number: the resident's own, its assignee, and staff who could
    take it at its rung (who would call back). Admins above, liaisons and the sysadmin see it masked."""
    if actor.is_resident:
        return order.resident_id == actor.id
    if not actor.is_staff or actor.role == "sysadmin":
        return False
    return order.assignee_id == actor.id or (in_scope(actor, order) and may_hold(actor, order))


def get_order(actor: Actor, number: str) -> Order:
    # A number with control characters names no order (and PostgreSQL refuses a NUL in a query).
    order = db.session.scalar(select(Order).where(Order.number == number)) if is_clean(number) else None
    # Out of scope looks the same as missing: do not confirm that a number exists. A resident also
    # sees the orders they co-reported (附议, or merged in), in their own view (`present`).
    if order is None or not (in_scope(actor, order) or merging.is_co_reporter(actor, order)):
        raise NotFound("没有找到这张工单")
    return present(actor, order)


def scope_filter(actor: Actor):
    """The SQL twin of `in_scope`, derived from the same rule (actors.scope_column, SCOPE_RUNG)."""
    from sqlalchemy import and_, false, true
    if actor.kind in ("system", "bot") or actor.role == "sysadmin":
        return true()
    if actor.is_resident:
        return Order.resident_id == actor.id
    value = scope_value(actor)
    if value is None:
        return false()
    rung = SCOPE_RUNG.get(actor.role)
    column = getattr(Order, scope_column(actor)) == value
    return and_(column, Order.rung == rung) if rung is not None else column


def figures_filter(actor: Actor):
    """What the actor's dashboard counts: its scope, except that a property company counts every
    order it was given, also those that left it (returned, missed, reopened): its figures — how many
    it was offered, reported in time, returned — are about them. Counts only: no text is read here."""
    if actor.is_staff and SCOPE_RUNG.get(actor.role) is not None and scope_value(actor) is not None:
        return getattr(Order, scope_column(actor)) == scope_value(actor)
    return scope_filter(actor)


def list_orders(actor: Actor, *, state: str | None = None, limit: int = 50, offset: int = 0):
    # The list shows each order's photos, grid and assignee: load them in a few queries, not per order.
    query = select(Order).order_by(Order.id.desc()).options(
        selectinload(Order.attachments), selectinload(Order.grid), selectinload(Order.community),
        selectinload(Order.assignee), selectinload(Order.co_reporters))
    if actor.is_resident:  # their own orders and those they co-reported (issue 20)
        query = query.where(or_(Order.resident_id == actor.id, Order.id.in_(merging.co_reported(actor.id))))
    elif not actor.is_staff or actor.role != "sysadmin":
        raise Forbidden("工作人员请在工单队列中查看", code="use_the_queue")
    if state:
        query = query.where(Order.state == state)
    return present(actor, db.session.scalars(query.limit(limit).offset(offset)).all())


# --- perform: the one way an existing order changes -------------------------------------------

def perform(actor: Actor, order: Order, action: str, *, commit: bool = True, **given) -> Order | OrderEvent:
    """The row's change through the engine (backend/lifecycle.py): checked (role 403, state 409,
    scope rule 403, input 422), applied, `due_at` kept, audited, `order_changed` sent and committed —
    or nothing changed. With commit=False the event joins the caller's transaction (e.g. an outbox
    row's status) and is returned."""
    done = engine.perform(lifecycle.TABLE, order, actor, action, commit=commit, **given)
    return present(actor, done) if commit else done


def record(actor: Actor, order_id: int, action: str, *, unless=None, **given) -> bool:
    """An action on an order known by its id, at most once (`unless`: a SELECT of one boolean with
    the parameter `subject_id`, run once the order is locked, true when it was done already): a
    record row (WeChat's content check) without loading the order, any other through `perform`
    (engine.perform_record). True when done."""
    return engine.perform_record(lifecycle.TABLE, order_id, actor, action, unless=unless, **given)


def rate(actor: Actor, order: Order, satisfaction: str | None = None, comment: str | None = None,
         score: int | None = None) -> Order:
    """回访评价: 满意 / 基本满意 rate and close the loop; 不满意 reopens the order."""
    satisfaction = satisfaction or SCORE_SATISFACTION.get(score)
    if satisfaction not in SATISFACTIONS:
        _refuse("请选择满意、基本满意或不满意", ValidationFailed, fields={"satisfaction": ["required"]})
    action = "rate" if satisfaction in lifecycle.CLOSING_SATISFACTIONS else "reopen"
    return perform(actor, order, action, satisfaction=satisfaction, comment=comment, score=score)
