"""The one place the application reads the time, so tests and drills can move it.

Production reads the wall clock. Tests set an offset (`travel`) — it is per-process, which is
what a test needs; a deployment never sets it."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(timezone.utc) + _offset


def travel(delta: timedelta) -> None:
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)


def local(dt: datetime, tz: str = "Asia/Shanghai") -> datetime:
    return dt.astimezone(ZoneInfo(tz))
