"""The retention tick on the dispatch queue, as often as the archive tick."""
import logging

from . import services

log = logging.getLogger(__name__)


def retention_tick() -> dict:
    done = services.retention_tick()
    if done["anonymised"]:
        log.info("retention tick: %s", done)
    return done


def register() -> None:
    from .. import worker
    worker.register_periodic("retention-tick", "ARCHIVE_TICK_SECONDS", "dispatch", retention_tick)
