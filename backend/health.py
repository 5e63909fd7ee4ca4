"""GET /healthz — the state of each part, separately."""
import requests
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from . import clock, replica
from .extensions import db, redis
from .workdays import WorkCalendar

bp = Blueprint("health", __name__)


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # report, never raise: health must answer when parts are down
        return f"down: {type(exc).__name__}"


def _bot():
    response = requests.get(current_app.config["RASA_URL"].rstrip("/") + "/", timeout=1.5)
    response.raise_for_status()


@bp.get("/healthz")
def healthz():
    parts = {
        "db": _check(lambda: db.session.execute(text("select 1"))),
        "redis": _check(redis.ping),
        "bot": _check(_bot),
    }
    # The service is usable as long as the database answers: orders are stored and routed.
    status = "ok" if all(v == "ok" for v in parts.values()) else ("degraded" if parts["db"] == "ok" else "down")
    # The read replica is reported, never judged: when it is down or behind, the primary answers
    # its reads (backend/replica.py), so it neither degrades nor fails the node.
    return jsonify({"status": status, **parts, "replica": _replica(), "calendar": _calendar()}), \
        200 if parts["db"] == "ok" else 503


def _calendar() -> dict:
    """Which years the working calendar knows the State Council's holidays for (reported, never
    judged: a year nobody named is counted on ordinary weeks, see workdays.py)."""
    try:
        calendar = WorkCalendar.from_config(current_app.config)
        return calendar.coverage(clock.now().astimezone(calendar.tz).date())
    except Exception as exc:  # noqa: BLE001 — health must answer
        return {"calendar": f"unknown: {type(exc).__name__}"}


def _replica() -> dict:
    try:
        state = replica.state()
    except Exception as exc:  # noqa: BLE001 — health must answer
        return {"state": "unknown", "shown": f"unknown: {type(exc).__name__}"}
    served = replica.current().served
    return {"state": state.state, "shown": state.shown(),
            "lag_seconds": None if state.lag_seconds in (None, float("inf")) else round(state.lag_seconds, 3),
            # what this process's read-only services read where since it started
            "reads": {f"{purpose}:{where}": n for (purpose, where), n in sorted(served.items())}}
