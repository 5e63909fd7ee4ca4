"""A resident's session version without the database on every request (issue 22 item 5).

The token check needs, per request, whether the resident still exists and the session version their
token carries is still theirs (accounts/sessions.py). The version changes rarely (a logout), the check
runs on every request: it is kept in Redis under `rm:sv:resident:<id>`, read with one GET.

- A miss reads the database (as before) and stores what it read with SET NX and a TTL.
- A change of a resident's `session_version` (or a deleted resident) writes the new value with a
  plain SET once its transaction commits, after deleting the key at the flush. A reader that read
  the old version before the commit cannot put it back over the new one (NX), and one that read it
  after finds the new one. If Redis fails exactly between the commit and that SET, a stale entry lives
  at most TTL seconds; with Redis down the check reads the database, as before.
- A missing resident is never stored: the database answers each time (401)."""
import logging

from redis.exceptions import RedisError
from sqlalchemy import event, inspect, select

from ..extensions import db, redis
from .models import Resident

log = logging.getLogger(__name__)

TTL = 300
_PREFIX = "rm:sv:resident:"
_CHANGED = "rm_resident_versions"


def resident_version(resident_id: int) -> int | None:
    """The resident's session version, or None when there is no such resident."""
    key = f"{_PREFIX}{resident_id}"
    try:
        known = redis.get(key)
    except RedisError:
        known = None
        key = None
    if known is not None:
        return int(known)
    row = db.session.execute(select(Resident.session_version).where(Resident.id == resident_id)).first()
    if row is None:
        return None
    version = row.session_version or 0
    if key is not None:
        try:
            redis.set(key, version, nx=True, ex=TTL)
        except RedisError:
            pass
    return version


@event.listens_for(db.session, "after_flush")
def _flushed(session, _context):
    changed = {}
    for obj in session.dirty:
        if isinstance(obj, Resident) and inspect(obj).attrs.session_version.history.has_changes():
            changed[obj.id] = obj.session_version or 0
    for obj in session.deleted:
        if isinstance(obj, Resident):
            changed[obj.id] = None
    if changed:
        session.info.setdefault(_CHANGED, {}).update(changed)
        _write({k: None for k in changed})  # no reader trusts the old value from here on


@event.listens_for(db.session, "after_commit")
def _committed(session):
    changed = session.info.pop(_CHANGED, None)
    if changed:
        _write(changed)


@event.listens_for(db.session, "after_rollback")
def _rolled_back(session):
    session.info.pop(_CHANGED, None)


def _write(versions: dict) -> None:
    try:
        pipe = redis.pipeline(transaction=False)
        for resident_id, version in versions.items():
            if version is None:
                pipe.delete(f"{_PREFIX}{resident_id}")
            else:
                pipe.set(f"{_PREFIX}{resident_id}", version, ex=TTL)
        pipe.execute()
    except RedisError:
        log.warning("redis down: session versions of residents %s not written (the database decides "
                    "once Redis is back, within %s s)", sorted(versions), TTL)


def forget_all() -> None:
    """Drop every stored version (after residents' rows changed behind the ORM's back: a bulk SQL
    change, a restored backup, the tests' table wipes); the next request of each reads the database."""
    try:
        for key in redis.scan_iter(f"{_PREFIX}*", count=1000):
            redis.delete(key)
    except RedisError:
        log.warning("redis down: stored session versions not dropped (they expire within %s s)", TTL)
