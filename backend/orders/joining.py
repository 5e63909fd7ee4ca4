"""附议 (issue 20, item 2): a resident about to report a problem another resident has reported
already follows that order instead of making a second one.

Before a report is stored, its draft (text and place) is routed and classified as `create_order`
would, without storing anything, and the open orders that may be the same problem are named
(`candidates_for`: duplicates.py's rule, open orders only, none the resident is already on). The
resident decides: 附议 (`join`: the lifecycle's `join` row — a co-reporter row, an audited event with
their own words as its note) or 不是一回事 (the ordinary intake, unchanged). A resident sees a
candidate's number and that it is being handled, never its text, place or reporter; they may join
only an order named for their own draft, so a number guessed or copied from 公示 is refused."""
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..accounts.actors import Actor
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..grids.routing import place
from ..lifecycle import refuse
from ..text import clean, is_clean
from . import duplicates, merging, services, states
from .models import Order

NOT_A_CANDIDATE = "这张工单和您要反映的问题对不上，请直接提交新的诉求"
# Two residents joining the same order at the same moment: one loses on the order's version and
# simply tries again (the other's co-reporter row is in by then).
ATTEMPTS = 3


def draft(text: str | None, location_text: str | None = None, building_id: int | None = None):
    """What a report about to be made would be for the duplicate check: its place and category as
    create_order would find them. Nothing is stored."""
    from ..categories import classifier
    text, location_text = clean(text) or "", clean(location_text)
    placement = place(location_text, building_id)
    prediction = classifier.classify(" ".join(filter(None, [text, location_text])))
    confident = classifier.is_confident(prediction, current_app.config["CATEGORY_CONFIDENCE_THRESHOLD"])
    return SimpleNamespace(id=None, text=text, grid_id=placement.grid_id, building_id=placement.building_id,
                           category=prediction.path if confident else None)


def candidates_for(actor: Actor, text: str | None, location_text: str | None = None,
                   building_id: int | None = None) -> list[dict]:
    """The open orders a resident's draft may repeat, best first: [{"number", "state"}] — no score,
    no text, nothing of who reported it."""
    found = duplicates.candidates(draft(text, location_text, building_id), among=states.OPEN_STATES,
                                  resident_id=actor.id)
    return [{"number": c["number"], "state": c["state"]} for c in found]


def join(actor: Actor, number: str, *, text: str, location_text: str | None = None,
         building_id: int | None = None, channel: str = "h5") -> Order:
    """附议: `actor` follows order `number` as a co-reporter. The order must be one `candidates_for`
    names for this draft (else 422 on `join`); joining again answers the same (`replayed`)."""
    for attempt in range(ATTEMPTS):
        order = _order(number)
        if order is not None and order.resident_id != actor.id and merging.follows(actor.id, order):
            order.replayed = True  # a retry, or a second tap: already on it
            return order
        if order is None or number not in {c["number"] for c in candidates_for(actor, text, location_text,
                                                                               building_id)}:
            refuse(NOT_A_CANDIDATE, ValidationFailed, fields={"join": ["不是您要反映的问题的疑似重复工单"]})
        try:
            services.perform(actor, order, "join", note=text, channel=channel, location_text=location_text)
        except Conflict as exc:  # someone else joined (or staff acted) in between: read it again
            if exc.code != "concurrent_change" or attempt == ATTEMPTS - 1:
                raise
            continue
        except IntegrityError:  # the same resident's twin request won the unique row
            db.session.rollback()
            continue
        order.replayed = False
        return order
    raise Conflict("这张工单刚刚有变化，请再试一次", code="concurrent_change")


def _order(number: str) -> Order | None:
    db.session.expire_all()  # a retry reads what the winner committed
    return db.session.scalar(select(Order).where(Order.number == number)) if is_clean(number) else None
