"""Every write to an order happens here: one transaction per change, with its audit event."""
import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import clock
from ..accounts.actors import Actor, check_action, in_scope
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..grids.routing import place
from ..dispatch import deadlines
from . import states
from .models import Attachment, Order, OrderEvent
from .numbers import next_number
from .signals import order_changed, order_changing

log = logging.getLogger(__name__)


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


def _commit(order: Order, action: str, event: OrderEvent) -> None:
    try:
        order_changing.send(order, action=action, event=event)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("the order was changed by someone else; reload and try again",
                       code="concurrent_change") from None
    except Exception:
        db.session.rollback()
        raise
    try:
        order_changed.send(order, action=action)
    except Exception:  # side effects must never undo or hide a committed change
        log.exception("order_changed receiver failed for %s", order.number)


def _classify(text: str):
    """The category prediction when it is confident enough, else None (a worker sets it)."""
    from ..categories import classifier  # trained lazily on first use
    prediction = classifier.classify(text)
    return prediction if classifier.is_confident(
        prediction, current_app.config["CATEGORY_CONFIDENCE_THRESHOLD"]) else None


def create_order(actor: Actor, *, text: str, kind: str = "complaint", channel: str = "h5",
                 location_text: str | None = None, building_id: int | None = None,
                 grade: str = "normal", category: str | None = None, contact: str | None = None,
                 photos: list[str] | None = None, resident_id: int | None = None,
                 flags: list[str] | None = None) -> Order:
    """Store, classify, route and time-limit a new order in one transaction."""
    if actor.is_resident:
        resident_id = actor.id
    # Classify before touching the database: CPU work must not hold a write transaction open.
    confident = None if category else _classify(" ".join(filter(None, [text, location_text])))
    now = clock.now()
    order = Order(number=next_number(), channel=channel, kind=kind, grade=grade, text=text,
                  location_text=location_text, contact=contact, resident_id=resident_id,
                  state=states.SUBMITTED, rung="grid_worker", flags=list(flags or []),
                  created_at=now, updated_at=now)
    if category:
        order.category, order.category_confidence = category, 1.0
    elif confident:
        order.category, order.category_confidence = confident.path, round(confident.confidence, 3)
    else:
        order.add_flag("unclassified")
    placement = place(location_text, building_id)
    order.building = placement.building
    order.grid = placement.grid
    order.community = placement.community
    if order.grid is None:
        order.add_flag("unplaced")
    deadlines.set_for_rung(order, now)
    db.session.add(order)
    event = _event(order, actor, "submit", None, states.SUBMITTED, flags=list(order.flags),
                   grid=order.grid.code if order.grid else None)
    _attach(order, event, photos, now)
    _commit(order, "submit", event)
    return order


def get_order(actor: Actor, number: str) -> Order:
    order = db.session.scalar(select(Order).where(Order.number == number))
    # Out of scope looks the same as missing: do not confirm that a number exists.
    if order is None or not in_scope(actor, order):
        raise NotFound(f"no order {number}")
    return order


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
    return db.session.scalars(query.limit(limit).offset(offset)).all()


def change(actor: Actor, order: Order, action: str, *, note: str | None = None,
           photos: list[str] | None = None, apply=None, **data) -> Order:
    """Apply one state-machine action: permission, transition table, fields, event, commit.

    `apply(order, now)` lets a caller (dispatch) set more fields — rung, grid, deadlines — in the
    same transaction, after the permission and transition checks have passed."""
    check_action(actor, action, order)
    to_state = states.transition(order.state, action)

    def fields(order: Order, now) -> None:
        order.state = to_state
        _APPLY.get(action, _no_fields)(order, actor, now, note, data)
        if apply:
            apply(order, now)
    return _write(actor, order, action, fields, note, photos, data)


def record(actor: Actor, order: Order, action: str, *, note: str | None = None,
           photos: list[str] | None = None, apply=None, **data) -> Order:
    """An audited action that is not a state transition (place, supervise, overdue): permission,
    optional field changes, event, commit — the same transaction shape as `change`."""
    check_action(actor, action, order)
    return _write(actor, order, action, apply, note, photos, data)


def _write(actor: Actor, order: Order, action: str, fields, note, photos, data) -> Order:
    """Set the fields, append the event (and photos), commit — or leave nothing half-changed."""
    from_state, now = order.state, clock.now()
    try:
        order.updated_at = now
        if fields:
            fields(order, now)
    except Exception:
        db.session.rollback()
        raise
    event = _event(order, actor, action, from_state, order.state, note, **data)
    _attach(order, event, photos, now)
    _commit(order, action, event)
    return order


def note_event(actor: Actor, order: Order, action: str, note: str | None = None, **data) -> OrderEvent:
    """An audit event in the caller's transaction, without a state change and without committing:
    for a record that must commit or roll back with another row (e.g. an undelivered message kept
    in the order's history together with its outbox row's status)."""
    check_action(actor, action, order)
    order.updated_at = clock.now()
    return _event(order, actor, action, order.state, order.state, note, **data)


def _no_fields(order, actor, now, note, data):
    pass


def _claim(order, actor, now, note, data):
    order.assignee_id = actor.id


def _release(order, actor, now, note, data):
    order.assignee_id = None


def _resolve(order, actor, now, note, data):
    if not note:
        raise ValidationFailed("a result is required to resolve an order", fields={"result": ["required"]})
    order.result = note
    order.resolved_at = now


def _rate(order, actor, now, note, data):
    order.rating_score = data.get("score")
    order.rating_comment = note


def _reopen(order, actor, now, note, data):
    _rate(order, actor, now, note, data)
    order.reopen_count += 1
    order.assignee_id = None
    order.resolved_at = None
    order.department_id = None
    order.add_flag("reopened")
    # Back to the same grid with fresh limits; once it has been reopened twice the grid has had
    # its chances and the community takes it.
    order.rung = "community" if order.reopen_count >= 2 or order.grid_id is None else "grid_worker"
    deadlines.set_for_rung(order, now)


def _transfer(order, actor, now, note, data):
    order.assignee_id = None
    order.rung = "grid_worker"


def _escalate(order, actor, now, note, data):
    order.assignee_id = None


_APPLY = {"claim": _claim, "release": _release, "resolve": _resolve, "rate": _rate,
          "reopen": _reopen, "transfer": _transfer, "escalate": _escalate}


def rate(actor: Actor, order: Order, score: int, comment: str | None = None) -> Order:
    """回访评价: 4–5 closes the loop as rated; 1–3 means unsatisfied and reopens the order."""
    action = "rate" if score >= 4 else "reopen"
    return change(actor, order, action, note=comment, score=score, satisfied=score >= 4)
