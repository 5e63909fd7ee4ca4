"""The wish tick (every SLA_TICK_SECONDS on the worker): claims past their limit go back to the
board, wishes nobody claimed are offered to the partner units, wishes past their date expire.
Idempotent: each change is a lifecycle row from a state the change leaves (or, for the offer, a
precondition it clears), so a second run, or two workers at once, change nothing twice."""
from flask import current_app
from sqlalchemy import select

from .. import clock, lifecycle as engine
from ..accounts.actors import SYSTEM
from ..extensions import db
from . import lifecycle, services, states
from .models import Wish


def _due(now) -> list[tuple[int, str]]:
    today = clock.local(now, current_app.config["TIMEZONE"]).date()
    found = []
    for wish in db.session.scalars(select(Wish).where(Wish.state.in_(states.OPEN))):
        if wish.wanted_by is not None and wish.wanted_by < today:  # its "by when" has passed
            found.append((wish.id, "expire"))
        elif wish.state == states.CLAIMED and wish.claim_due_at <= now:
            found.append((wish.id, "lapse"))
        elif wish.state == states.PUBLISHED and wish.offered_at is None and lifecycle.working_days_after(
                wish.published_at, current_app.config["WISH_OFFER_AFTER_DAYS"]) <= now:
            found.append((wish.id, "offer"))
    db.session.rollback()
    return found


def _apply(wish_id: int, action: str) -> str:
    services.perform(SYSTEM, db.session.get(Wish, wish_id), action)
    return action


def wish_tick() -> dict:
    done = engine.tick("wish tick", lambda: _due(clock.now()), _apply, {"expire": 0, "lapse": 0, "offer": 0})
    done.pop("skipped", None)  # another worker got there first: nothing to do twice
    return done


def register() -> None:
    from .. import worker
    worker.register_periodic("wish-tick", "SLA_TICK_SECONDS", "dispatch", wish_tick)
