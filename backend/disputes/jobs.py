"""The dispute stall tick, run by the workers' ticker on the SLA tick's interval."""
from . import services


def stall_tick() -> dict:
    """Each step past its limit goes one level up once. Idempotent like the SLA tick (the engine's
    tick runner logs what it did)."""
    return services.stall_tick()


def register() -> None:
    from .. import worker
    worker.register_periodic("dispute-stall-tick", "SLA_TICK_SECONDS", "dispatch", stall_tick)
