"""Every write to an order happens here, through the lifecycle table (`lifecycle.py`):
`create_order` for a new one, `perform` for everything after. One transaction per change, with its
audit event; the one signal `order_changed` is sent inside it, before the commit."""
import logging
import uuid
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import clock
from ..accounts.actors import Actor, in_scope, may_hold, scope_column, scope_value
from ..accounts.models import Staff, mask_name
from ..text import clean, for_matching, is_clean
from ..errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from ..extensions import db
from ..grids.models import Building, Grid
from ..grids.property import company_id_for_building, is_property_work
from ..grids.routing import place
from ..kinds import predict_kind
from ..masking import mask
from ..types import INT32_MAX
from . import deadlines, ladder, lifecycle, numbers, states
from .models import GRADES, RESIDENT_CHANNELS, SATISFACTIONS, Attachment, Order, OrderEvent
from .numbers import next_number
from .signals import order_changed

log = logging.getLogger(__name__)

# The 1–5 score some clients still send, mapped once onto the 12345 scale.
SCORE_SATISFACTION = {5: "satisfied", 4: "satisfied", 3: "basically_satisfied", 2: "unsatisfied",
                      1: "unsatisfied"}


def _event(order: Order, actor: Actor, action: str, from_state, to_state, note=None, **data) -> OrderEvent:
    event = OrderEvent(order=order, actor_type=actor.kind, actor_id=actor.id, action=action,
                       from_state=from_state, to_state=to_state, note=note, data=data,
                       created_at=clock.now())
    db.session.add(event)
    return event


def _attach(order: Order, event: OrderEvent, photos: list | None, now) -> None:
    """Photos as URLs, or dicts with url, content_type and size (files we stored ourselves)."""
    for photo in photos or []:
        details = photo if isinstance(photo, dict) else {"url": photo}
        order.attachments.append(Attachment(kind="photo", event=event, created_at=now, **details))


def _commit(order: Order, action: str, event: OrderEvent, expire: bool = True, flushed=None) -> None:
    session = db.session()
    try:
        db.session.flush()  # receivers see ids (a new order's grid, community) as the database will
        if flushed is not None:
            flushed()
        order_changed.send(order, action=action, event=event, row=lifecycle.ACTIONS[action])
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


def _refuse(message: str, error=Forbidden, **kwargs):
    db.session.rollback()  # nothing read or half-set may leak into the next change
    raise error(message, **kwargs)


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
    if lifecycle.refusal(actor, _NEW, lifecycle.ACTIONS["submit"]) == "role":
        _refuse(f"a {actor.role or actor.kind} may not submit an order")
    if actor.kind in ("resident", "bot") and channel not in RESIDENT_CHANNELS:
        # A hotline call, a walk-in or a photo report is what staff record; a resident claiming
        # one would jump the channel statistics and the hotline's own follow-up rules.
        _refuse("居民只能通过微信或H5提交诉求", ValidationFailed, code="channel_not_allowed",
                fields={"channel": [f"must be one of {', '.join(RESIDENT_CHANNELS)}"]})
    text, location_text, contact = clean(text), clean(location_text), clean(contact)
    caller_name, note = clean(caller_name), clean(note)
    if not (text or "").strip():
        _refuse("请写下诉求内容", ValidationFailed, fields={"text": ["must not be blank"]})
    if actor.is_resident:
        resident_id = actor.id
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
                  attachments=[])  # known empty: the answer must not query for the photos of a new order
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
    offered_to = _property_first(order)
    deadlines.set_for_rung(order, now)
    order.due_at = deadlines.current_due(order)
    db.session.add(order)
    event = _event(order, actor, "submit", None, states.SUBMITTED, note or None, flags=list(order.flags),
                   grid=placement.grid_code, **(event_data or {}),
                   **({"kind_from_text": True} if kind_from_text else {}),
                   **({"property": offered_to} if offered_to else {}))
    _attach(order, event, photos, now)
    if settle is not None:
        perform(actor, order, "settle", result=settle, commit=False)
    try:
        _commit(order, "submit", event, expire=False, flushed=None if number is not None else lambda: _number(order))
    except IntegrityError:  # rolled back; a concurrent twin with the same key may have won
        first = _first_for(key, resident_id) if key else None
        if first is None:
            raise
        return _replay(actor, first)
    return present(actor, order)


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
    # Out of scope looks the same as missing: do not confirm that a number exists.
    if order is None or not in_scope(actor, order):
        raise NotFound(f"no order {number}")
    return present(actor, order)


def scope_filter(actor: Actor):
    """The SQL twin of `in_scope`, derived from the same one-column rule (actors.scope_column)."""
    from sqlalchemy import false, true
    if actor.kind in ("system", "bot") or actor.role == "sysadmin":
        return true()
    if actor.is_resident:
        return Order.resident_id == actor.id
    value = scope_value(actor)
    return getattr(Order, scope_column(actor)) == value if value is not None else false()


def list_orders(actor: Actor, *, state: str | None = None, limit: int = 50, offset: int = 0):
    # The list shows each order's photos, grid and assignee: load them in a few queries, not per order.
    query = select(Order).order_by(Order.id.desc()).options(
        selectinload(Order.attachments), selectinload(Order.grid), selectinload(Order.community),
        selectinload(Order.assignee))
    if actor.is_resident:
        query = query.where(Order.resident_id == actor.id)
    elif not actor.is_staff or actor.role != "sysadmin":
        raise Forbidden("use the queue endpoint")
    if state:
        query = query.where(Order.state == state)
    return present(actor, db.session.scalars(query.limit(limit).offset(offset)).all())


# --- perform: the one way an existing order changes -------------------------------------------

def perform(actor: Actor, order: Order, action: str, *, note: str | None = None, photos=None,
            commit: bool = True, **given) -> Order | OrderEvent:
    """Check the lifecycle row (who, from which state, under which rule, with what input), apply its
    effect, keep `due_at`, append the event, send `order_changed` and commit — or change nothing.

    Statuses: role not allowed 403, wrong state 409, scope rule 403, missing or bad input 422.
    With commit=False the event joins the caller's transaction (e.g. an outbox row's status)."""
    try:
        row = lifecycle.ACTIONS[action]
    except KeyError:
        _refuse(f"unknown action {action}", ValidationFailed, code="unknown_action")
    why = lifecycle.refusal(actor, order, row)
    if why == "state":
        _refuse(f"不能对{_label('states', order.state)}（{order.state}）的工单执行{_label('actions', action)}（{action}）",
                InvalidTransition,
                code="top_rung" if action == "escalate" and order.state in row.sources else "invalid_transition")
    if why:
        _refuse(_FORBIDDEN.get(action, "无权执行此操作") if why == "rule" else f"{actor.role or actor.kind} 无权执行「{action}」")
    data = _checked_input(actor, order, row, note=note, photos=photos, **given)
    from_state, now = order.state, clock.now()
    ctx = SimpleNamespace(actor=actor, now=now, data=data, event={})
    try:
        # No flush halfway: the database checks hold for the finished change, not its steps.
        with db.session.no_autoflush:
            if row.effect:
                row.effect(order, ctx)
        if row.target:
            order.state = row.target
        order.due_at = deadlines.current_due(order)
        order.updated_at = now
    except Exception:
        db.session.rollback()
        raise
    text = data.get("result") or data.get("reason") or data.get("note") or data.get("comment")
    extra = {k: v for k, v in given.items() if k not in _INPUTS}  # e.g. the SLA tick's key
    event = _event(order, actor, action, from_state, order.state, text, **ctx.event, **extra)
    _attach(order, event, photos, now)
    if not commit:
        return event
    _commit(order, action, event)
    return present(actor, order)


_FORBIDDEN = {
    "claim": "这张工单不在你能接的层级", "assign": "这张工单不在你能派的层级",
    "release": "只有接单人或其上级可以退回", "progress": "只有接单人或其上级可以记录进展",
    "resolve": "只有接单人或其上级可以办结", "escalate": "只有接单人或其上级可以上报",
    "transfer": "只有接单人或其上级可以转派",
    "settle": "只能当场解决自己网格里的事：请选择楼栋，或写明小区和楼号",
}
_INPUTS = {"note", "reason", "result", "satisfaction", "comment", "score", "category", "grade",
           "assignee", "assignee_id", "grid", "grid_id", "building_id", "photos"}


def _label(group: str, key: str) -> str:
    from ..labels import label
    return label(group, key) or key


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _checked_input(actor: Actor, order: Order, row, **given) -> dict:
    """The action's input, required fields present, targets looked up and checked against scope."""
    given = {k: clean(v) for k, v in given.items()}  # the console's forms come here unvalidated too
    long = [k for k in _TEXTS if isinstance(given.get(k), str) and len(given[k]) > TEXT_MAX]
    if long:
        _refuse(f"不能超过 {TEXT_MAX} 字", ValidationFailed, fields={k: [f"at most {TEXT_MAX} characters"] for k in long})
    if given.get("score") is not None and _blank(given.get("satisfaction")):
        given["satisfaction"] = SCORE_SATISFACTION.get(given["score"])
    target_given = any(given.get(k) for k in ("grid", "grid_id", "building_id"))
    missing = [name for name in row.required_for(actor)
               if (not target_given if name == "grid" else
                   _blank(given.get(name)) and not (name == "assignee" and given.get("assignee_id")))]
    if missing:
        _refuse("请填写：" + "、".join(_FIELD_LABELS.get(m, m) for m in missing), ValidationFailed,
                fields={m: ["required"] for m in missing})
    data = {k: (v.strip() if isinstance(v, str) else v) for k, v in given.items() if not _blank(v)}
    if "satisfaction" in row.required_for(actor):
        if not lifecycle.check_satisfaction(row.name, data["satisfaction"]):
            _refuse("评价与操作不符", ValidationFailed, fields={"satisfaction": [f"not valid for {row.name}"]})
    if row.name == "escalate":
        data["next_rung"] = ladder.next_rung(order)
    if "grid" in row.required_for(actor):
        data["grid"] = _target_grid(actor, order, given)
    if "assignee" in row.required_for(actor):
        data["assignee"] = _target_worker(order, given.get("assignee_id") or given.get("assignee"))
    if row.name == "correct_category":
        data["category"] = _valid_category(order, data["category"])
    if row.name == "set_grade" and (data["grade"] not in GRADES or data["grade"] == order.grade):
        _refuse("等级无效或未改变", ValidationFailed, fields={"grade": ["unknown or unchanged"]})
    return data


TEXT_MAX = 2000  # as the API's schemas (required_text)
_TEXTS = ("note", "reason", "result", "comment")
_FIELD_LABELS = {"note": "说明", "reason": "原因", "result": "办理结果", "satisfaction": "满意度",
                 "category": "类别", "grade": "等级", "assignee": "派给谁", "grid": "目标网格", "photos": "照片"}


def _target_grid(actor: Actor, order: Order, given: dict):
    building = db.session.get(Building, given["building_id"]) if given.get("building_id") else None
    if building is not None:
        grid = building.grid
    elif given.get("grid_id"):
        grid = db.session.get(Grid, given["grid_id"])
    else:
        code = for_matching(given.get("grid"))  # ｓｊｃ－２ typed on a phone is sjc-2
        grid = db.session.scalar(select(Grid).where(Grid.code == code)) if code else None
    if grid is None:
        _refuse("没有这个网格或楼栋", ValidationFailed, fields={"grid": ["unknown grid"]})
    if actor.is_staff and not _may_send_to(actor, grid):
        _refuse("目标网格不在你的管辖范围内", Forbidden, code="target_out_of_scope")
    if grid.id == order.grid_id:
        _refuse("工单已在这个网格", ValidationFailed, fields={"grid": ["same grid"]})
    return grid, building


def _may_send_to(actor: Actor, grid: Grid) -> bool:
    """Where an actor may transfer or place an order: grid workers and leaders to the grids of their
    own community (a neighbour's grid they know), admins within their own scope."""
    if actor.role == "sysadmin":
        return True
    if actor.role in ("grid_worker", "grid_leader"):
        own = db.session.get(Grid, actor.grid_id) if actor.grid_id else None
        return own is not None and own.community_id == grid.community_id
    if actor.role == "community_admin":
        return grid.community_id == actor.community_id
    if actor.role == "street_admin":
        return grid.community.street_id == actor.street_id
    return False


def _target_worker(order: Order, who) -> Staff:
    worker = None
    if isinstance(who, str) and who.isascii() and who.isdigit():
        who = int(who)
    if isinstance(who, int):
        # A number past the id column's range names nobody (and SQLite's driver refuses it).
        worker = db.session.get(Staff, who) if 0 < who <= INT32_MAX else None
    elif isinstance(who, str):
        worker = db.session.scalar(select(Staff).where(Staff.username == for_matching(who)))
    if worker is None or not worker.active or worker.role not in ("grid_worker", "grid_leader") \
            or order.grid_id is None or worker.grid_id != order.grid_id:
        _refuse("只能派给本网格在岗的网格员或网格长", ValidationFailed, fields={"assignee": ["not a worker of this grid"]})
    return worker


def _valid_category(order: Order, path: str) -> str:
    from ..categories import taxonomy
    path = taxonomy.normalize_path(path)
    if not taxonomy.is_valid(path) or path == order.category:
        _refuse("类别无效或未改变", ValidationFailed, fields={"category": ["unknown or unchanged"]})
    return path


def rate(actor: Actor, order: Order, satisfaction: str | None = None, comment: str | None = None,
         score: int | None = None) -> Order:
    """回访评价: 满意 / 基本满意 rate and close the loop; 不满意 reopens the order."""
    satisfaction = satisfaction or SCORE_SATISFACTION.get(score)
    if satisfaction not in SATISFACTIONS:
        _refuse("请选择满意、基本满意或不满意", ValidationFailed, fields={"satisfaction": ["required"]})
    action = "rate" if satisfaction in lifecycle.CLOSING_SATISFACTIONS else "reopen"
    return perform(actor, order, action, satisfaction=satisfaction, comment=comment, score=score)
