"""Redis claim queues: the fast path. The database decides; everything here is rebuilt from it.

One ZSET per queue, member = order number, score = due time (epoch seconds), so a listing is
already sorted by urgency:
    rm:q:grid:<grid id>         waiting for the grid's workers (rung grid_worker)
    rm:q:leader:<grid id>       escalated to the grid leader
    rm:q:pool:<community id>    not placed in a grid yet (someone must place it)
    rm:q:community:<id>         at the community rung
    rm:q:street:<id>            at the sub-district rung (吹哨)
    rm:q:dept:<department id>   whistled-in department, until it reports (报到)
    rm:q:prop:<company id>      given to a compound's property company, until it reports (报到)
The hash rm:q:where maps order number → the queue it is in, so a move is one atomic script.
A claim takes rm:claim:<number> (SET NX EX) and leaves the queue in the same script: of two
racing workers only one reaches the database; the loser gets 409 at once. The database
transition (optimistic lock on Order.version) is still what makes the winner the winner."""
import logging

from redis.exceptions import RedisError
from sqlalchemy import select

from ..extensions import db, redis
from ..orders import states

log = logging.getLogger(__name__)

PREFIX = "rm:q:"
WHERE = "rm:q:where"
LOCK_TTL = 30
_NO_DUE = 32503680000  # year 3000: sorts last

_SYNC = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old and old ~= ARGV[2] then redis.call('ZREM', old, ARGV[1]) end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('ZADD', ARGV[2], ARGV[3], ARGV[1])
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 1
"""

_CLAIM = """
if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'EX', ARGV[3]) then return 0 end
local old = redis.call('HGET', KEYS[2], ARGV[1])
if old then
  redis.call('ZREM', old, ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
end
return 1
"""

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def key_for(order) -> str | None:
    """The queue an order waits in, or None when nobody needs to take it."""
    if order.state not in states.UNCLAIMED_STATES:
        return None
    rung = order.rung
    if rung == "property" and order.property_company_id:
        return f"{PREFIX}prop:{order.property_company_id}"
    if rung == "department" and order.department_id:
        return f"{PREFIX}dept:{order.department_id}"
    if rung in ("street", "department") and order.street_id:
        return f"{PREFIX}street:{order.street_id}"
    if rung == "community" and order.community_id:
        return f"{PREFIX}community:{order.community_id}"
    if order.grid_id is None:
        return f"{PREFIX}pool:{order.community_id}" if order.community_id else None
    if rung == "grid_leader":
        return f"{PREFIX}leader:{order.grid_id}"
    return f"{PREFIX}grid:{order.grid_id}"


def score_for(order) -> float:
    return order.due_at.timestamp() if order.due_at else _NO_DUE


def sync(number: str, key: str | None, score: float) -> None:
    redis.eval(_SYNC, 1, WHERE, number, key or "", score)


def stash(order) -> None:
    """Move the order to the queue it belongs in once the change commits (a rolled-back change
    must not move anything), in the commit's one round trip to Redis (worker.after_commit_redis)."""
    from ..worker import after_commit_redis
    number, key, score = order.number, key_for(order), score_for(order)

    def moved(replies):
        if isinstance(replies, Exception) or any(isinstance(r, Exception) for r in replies):
            # The database has the change; `flask rebuild-queues` (or the next change) fixes Redis.
            log.warning("redis down: queue for %s not updated", number)
    after_commit_redis(lambda pipe: pipe.eval(_SYNC, 1, WHERE, number, key or "", score), moved)


def try_lock(number: str, token: str) -> bool | None:
    """True: we may go to the database; False: someone else is claiming it now; None: Redis down."""
    try:
        return bool(redis.eval(_CLAIM, 2, f"rm:claim:{number}", WHERE, number, token, LOCK_TTL))
    except RedisError:
        return None


def unlock(number: str, token: str) -> None:
    try:
        redis.eval(_UNLOCK, 1, f"rm:claim:{number}", token)
    except RedisError:
        pass


def members(keys: list[str], limit: int = 200) -> list[tuple[str, float, str]]:
    """(number, due score, queue key) across the given queues, most urgent first."""
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.zrange(key, 0, limit - 1, withscores=True)
    found = []
    for key, rows in zip(keys, pipe.execute()):
        found += [(number, score, key) for number, score in rows]
    found.sort(key=lambda row: row[1])
    return found[:limit]


def rebuild() -> int:
    """Drop every queue structure and refill it from the database; returns how many orders."""
    from ..orders.models import Order
    stale = list(redis.scan_iter(match=PREFIX + "*", count=500))
    for i in range(0, len(stale), 500):
        redis.delete(*stale[i:i + 500])
    count = 0
    orders = db.session.scalars(select(Order).where(Order.state.in_(states.UNCLAIMED_STATES))
                                .order_by(Order.id)).all()
    pipe = redis.pipeline(transaction=False)
    for order in orders:
        key = key_for(order)
        if key:
            pipe.zadd(key, {order.number: score_for(order)})
            pipe.hset(WHERE, order.number, key)
            count += 1
    pipe.execute()
    db.session.rollback()
    return count
