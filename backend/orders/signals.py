"""The one signal of the order lifecycle.

`order_changed(order, action, event, row)` is sent by `services.perform` (and `create_order`) inside
the change's transaction, before the commit (not for a record written by `services.record`, which
changes nothing of the order: lifecycle.Row.record): receivers add rows that must commit or roll back with
it (notifications, outbox messages) and register work for after the commit with `after_commit`
(Redis queue moves, jobs), which a rollback discards."""
from blinker import Namespace
from sqlalchemy import event

from ..extensions import db

_signals = Namespace()
order_changed = _signals.signal("order-changed")
# `contact_shown(actor, orders, surface)`: a staff member was shown these orders' contacts unmasked
# (a desk export); backend.privacy audits it. A signal, because privacy sits above orders.
contact_shown = _signals.signal("contact-shown")

_AFTER_COMMIT = "rm_after_commit"


def after_commit(fn, *args) -> None:
    """Run fn(*args) once the current transaction commits; never if it rolls back. A failure is
    logged and never undoes the committed change."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append((fn, args))


@event.listens_for(db.session, "after_commit")
def _run(session):
    import logging
    for fn, args in session.info.pop(_AFTER_COMMIT, None) or ():
        try:
            fn(*args)
        except Exception:  # side effects must never undo or hide a committed change
            logging.getLogger(__name__).exception("after-commit %s failed", getattr(fn, "__name__", fn))


@event.listens_for(db.session, "after_rollback")
def _drop(session):
    session.info.pop(_AFTER_COMMIT, None)
