"""RQ jobs of dispatch. The worker runs each in a fresh app context (dispatch.worker.AppWorker)."""
import logging

from . import services

log = logging.getLogger(__name__)


def sla_tick() -> dict:
    """Find missed deadlines and move each order one rung up. Idempotent: run it twice, or after an
    outage, and every missed deadline still causes exactly one escalation."""
    done = services.sla_tick()
    if done["escalated"] or done["overdue"]:
        log.info("SLA tick: %s", done)
    return done
