"""The dispute stall tick, run by the workers' ticker on the SLA tick's interval."""
import logging

from . import services

log = logging.getLogger(__name__)


def stall_tick() -> dict:
    """Each step past its limit goes one level up once. Idempotent like the SLA tick."""
    done = services.stall_tick()
    if done["escalated"] or done["overdue"]:
        log.info("dispute stall tick: %s", done)
    return done


def register() -> None:
    from .. import worker
    worker.register_periodic("dispute-stall-tick", "SLA_TICK_SECONDS", "dispatch", stall_tick)
