"""合并工单: staff close a duplicate into the order it repeats (the lifecycle's `merge` row) and undo
it while the original is open (`unmerge`). One transaction each, an event on both orders.

What a merge does: the duplicate goes to `merged` (merged_into_id names the original); its
reporter, and its own co-reporters, become co-reporters of the original (CoReporter rows carrying
from_order_id, so the undo takes back exactly these); its photos stay on it (nothing is deleted);
督办 asked of it goes to the original (dispatch.claims.act). The original's row is touched too
(updated_at), so a concurrent change to it makes one of the two lose on its version."""
from sqlalchemy import exists, select

from ..accounts.actors import in_scope
from ..errors import InvalidTransition, ValidationFailed
from ..extensions import db
from ..lifecycle import refuse
from . import deadlines, states
from .models import CoReporter, Order, OrderEvent


def check_original(actor, order: Order, data: dict) -> Order:
    """The order named as the original: one the actor sees, open, not this one, not itself merged.
    A duplicate that others were merged into is refused (undo those first): no chains."""
    number = str(data.get("original") or "").strip()
    original = db.session.scalar(select(Order).where(Order.number == number)) if number else None
    if original is None or not in_scope(actor, original):
        refuse("没有找到原工单", ValidationFailed, fields={"original": ["没有找到这张工单"]})
    if original.id == order.id:
        refuse("不能合并到工单自身", ValidationFailed, fields={"original": ["不能是本工单"]})
    if original.state not in states.OPEN_STATES:
        refuse("原工单已办结或已关闭，不能再合并进去", ValidationFailed, fields={"original": ["原工单不在办理中"]})
    if db.session.scalar(select(exists().where(Order.merged_into_id == order.id))):
        refuse("已有工单合并到这张工单，请先撤销那些合并", InvalidTransition, code="has_merged_orders")
    return original


def _touch(original: Order, ctx, action: str, **data) -> None:
    """The original's side of the change: its own event, and its row touched (version)."""
    original.updated_at = ctx.now
    db.session.add(OrderEvent(order=original, actor_type=ctx.actor.kind, actor_id=ctx.actor.id, action=action,
                              from_state=original.state, to_state=original.state, note=ctx.data.get("note")
                              or ctx.data.get("reason"), data=data, created_at=ctx.now))


def merge(order: Order, ctx) -> None:
    original: Order = ctx.data["original"]
    taken = {original.resident_id, *(c.resident_id for c in original.co_reporters)}
    joined = []
    for resident_id in (order.resident_id, *(c.resident_id for c in order.co_reporters)):
        if resident_id is not None and resident_id not in taken:
            taken.add(resident_id)
            joined.append(resident_id)
            original.co_reporters.append(CoReporter(resident_id=resident_id, from_order_id=order.id,
                                                    created_at=ctx.now))
    order.merged_into_id = original.id
    order.assignee_id = None
    ctx.event.update(original=original.number, co_reporters=joined, photos=len(order.attachments))
    _touch(original, ctx, "merge", duplicate=order.number, co_reporters=joined)


def unmerge(order: Order, ctx) -> None:
    original: Order = order.merged_into
    gone = [c for c in original.co_reporters if c.from_order_id == order.id]
    left = [c.resident_id for c in gone]
    for co_reporter in gone:
        original.co_reporters.remove(co_reporter)  # delete-orphan: the row goes with the change
    order.merged_into_id = None
    # Back in its own queue at its rung, with fresh limits: it is a problem of its own after all.
    deadlines.set_for_rung(order, ctx.now)
    ctx.event.update(original=original.number, co_reporters=left)
    _touch(original, ctx, "unmerge", duplicate=order.number, co_reporters=left)


def follows(resident_id: int, order: Order) -> bool:
    """The resident reported it, or follows it as a co-reporter (附议 or merged)."""
    return order.resident_id == resident_id or any(c.resident_id == resident_id for c in order.co_reporters)


def join(order: Order, ctx) -> None:
    """附议: the resident follows this order as a co-reporter (from_order_id None: no order of
    theirs came with them); their own words are the event's note, for the staff."""
    order.co_reporters.append(CoReporter(resident_id=ctx.actor.id, from_order_id=None, created_at=ctx.now))
    ctx.event.update(co_reporter=ctx.actor.id)  # the caller's channel and place pass through too


def original_open(order: Order) -> bool:
    """its original is still open"""
    return order.merged_into_id is not None and order.merged_into.state in states.OPEN_STATES


# --- co-reporters followed (issue 20, item 4) ------------------------------------------------------

def reporters(order: Order) -> list[int]:
    """Every resident who raised the order's problem: its reporter, then its co-reporters (附议, or
    merged in). Each is told of its claim, escalation, resolution and reopening, and may rate it."""
    ids = [order.resident_id] if order.resident_id is not None else []
    return ids + [c.resident_id for c in order.co_reporters if c.resident_id not in ids]


def is_co_reporter(actor, order: Order) -> bool:
    """A resident who co-reported the order (not its reporter): they see it in their own view."""
    return (actor.is_resident and order.resident_id != actor.id
            and any(c.resident_id == actor.id for c in order.co_reporters))


def co_reported(resident_id: int):
    """SQL: the ids of the orders a resident co-reported (for their list of orders)."""
    return select(CoReporter.order_id).where(CoReporter.resident_id == resident_id)


def rated_since_resolution(order: Order) -> set[int]:
    """The residents who have answered since the order was last resolved (rated it, or reopened it
    with 不满意); the reporter too when staff recorded their answer by phone (回访)."""
    answered: set[int] = set()
    for event in reversed(order.events):
        if event.action in ("resolve", "settle"):
            break
        if event.action in ("rate", "reopen") and event.actor_type == "resident":
            answered.add(event.actor_id)
        elif event.action in ("callback", "callback_reopen") and order.resident_id is not None:
            answered.add(order.resident_id)
    return answered


def may_rate(actor, order: Order) -> bool:
    """A reporter or co-reporter of the order who has not answered since its last resolution (on an
    order nobody co-reported, the state and `rating_open` decide, as before co-reporters: 409)."""
    if not actor.is_resident or actor.id not in reporters(order):
        return False
    if order.state != states.RATED or not order.co_reporters:
        return True
    return actor.id not in rated_since_resolution(order)


def rating_open(order: Order) -> bool:
    """resolved, or rated while a co-reporter has not rated"""
    if order.state == states.RESOLVED:
        return True
    return bool(order.co_reporters) and bool(set(reporters(order)) - rated_since_resolution(order))


def supervision_target(order: Order) -> Order:
    """督办 of a merged duplicate presses whoever holds its original."""
    return order.merged_into if order.state == states.MERGED and order.merged_into is not None else order
