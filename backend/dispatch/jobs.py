"""RQ jobs of dispatch. The worker runs each in a fresh app context (backend.worker.AppWorker)."""
import logging

from . import ticks

log = logging.getLogger(__name__)


def sla_tick() -> dict:
    """Find missed deadlines and move each order one rung up. Idempotent: run it twice, or after an
    outage, and every missed deadline still causes exactly one escalation."""
    done = ticks.sla_tick()
    if done["escalated"] or done["overdue"] or done["returned_from_property"]:
        log.info("SLA tick: %s", done)
    return done


def due_soon_tick() -> dict:
    """Tell the holders of orders whose limit comes within DUE_SOON_SECONDS, once per limit."""
    done = ticks.due_soon_tick()
    if done["reminded"]:
        log.info("due-soon tick: %s", done)
    return done


def archive_tick() -> dict:
    """归档 rated orders after a delay and resolved ones nobody rated (未评价). Idempotent."""
    done = ticks.archive_tick()
    if done["rated"] or done["unrated"]:
        log.info("archive tick: %s", done)
    return done


def register() -> None:
    from .. import worker
    worker.register_periodic("sla-tick", "SLA_TICK_SECONDS", "dispatch", sla_tick)
    worker.register_periodic("due-soon-tick", "SLA_TICK_SECONDS", "dispatch", due_soon_tick)
    worker.register_periodic("archive-tick", "ARCHIVE_TICK_SECONDS", "dispatch", archive_tick)
