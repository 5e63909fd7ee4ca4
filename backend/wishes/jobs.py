"""The wish tick (every SLA_TICK_SECONDS on the worker): claims past their limit go back to the
board, wishes nobody claimed are offered to the partner units, wishes past their date expire.
Idempotent: each change is a lifecycle row from a state the change leaves (or, for the offer, a
precondition it clears), so a second run, or two workers at once, change nothing twice."""
import logging

from flask import current_app
from sqlalchemy import select

from .. import clock
from ..accounts.actors import SYSTEM
from ..errors import DomainError
from ..extensions import db
from . import lifecycle, services, states
from .models import Wish

log = logging.getLogger(__name__)


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


def wish_tick() -> dict:
    now = clock.now()
    done = {"expire": 0, "lapse": 0, "offer": 0}
    for wish_id, action in _due(now):
        wish = db.session.get(Wish, wish_id)
        try:
            services.perform(SYSTEM, wish, action)
            done[action] += 1
        except DomainError:  # another worker got there first: nothing to do twice
            db.session.rollback()
    if any(done.values()):
        log.info("wish tick: %s", done)
    return done


def register() -> None:
    from .. import worker
    worker.register_periodic("wish-tick", "SLA_TICK_SECONDS", "dispatch", wish_tick)
