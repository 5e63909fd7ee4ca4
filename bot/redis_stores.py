"""Rasa's Redis tracker and lock stores (bot/endpoints.yml names these classes), their connections
retried across a Redis failover.

Rasa 3.6 reaches Redis at one host:port; with Sentinels that is a TCP front following the primary
(HAProxy checking `role:master`, bench/cluster.py). While the Sentinels promote the replica (2-3 s
here) the front has no server, and Rasa's stores, which never retry, failed the turn: the tracker
store "fell back to InMemoryTrackerStore", the lock store's release raised, and the REST channel
still answered the resident — a turn answered but kept only in one replica's memory, missing from
the shared tracker (the cluster drill lost 2 of 20 turns so). Here every command, and the
connect with its SELECT, is retried with exponential backoff up to 1 s, about 10 s in all, as the
backend's own Redis client does (backend/extensions.py): the commands the stores send (GET, SET,
DELETE of one key) are safe to repeat."""
from contextvars import ContextVar
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, ReadOnlyError, TimeoutError
from redis.retry import Retry

from rasa.core.lock_store import RedisLockStore
from rasa.core.tracker_store import RedisTrackerStore

RETRY_ON = [ConnectionError, TimeoutError, ReadOnlyError]
# Set in the task of a turn whose tracker could not be saved even so. Rasa's FailSafeTrackerStore then
# keeps the tracker in this replica's memory only and the turn goes on as if saved; the REST channel
# (secure_channel.TokenRestInput) reads this and answers 503 instead, so the backend does not take the
# turn for kept (it stores the message as an order, its fallback).
TURN_NOT_KEPT: ContextVar[bool] = ContextVar("turn_not_kept", default=False)
TRIES = 12


def _retry() -> Retry:
    return Retry(ExponentialBackoff(cap=1.0, base=0.05), TRIES)


class FailoverConnection(redis.Connection):
    """A connection whose connect (the socket and the first commands, SELECT among them) is retried:
    redis-py retries a command's send and read, but not the connect before it, and a front with no
    primary yet accepts the socket and closes it."""

    def connect(self):
        return _retry().call_with_retry(super().connect, lambda error: self.disconnect())


def retrying(client: redis.Redis) -> redis.Redis:
    """The same client's settings, with retries on every command and connect."""
    kwargs: dict[str, Any] = dict(client.connection_pool.connection_kwargs)
    kwargs.update(retry=_retry(), retry_on_error=RETRY_ON)
    connection_class = client.connection_pool.connection_class
    if connection_class is redis.Connection:
        connection_class = FailoverConnection
    return redis.Redis(connection_pool=redis.ConnectionPool(connection_class=connection_class, **kwargs))


class FailoverRedisTrackerStore(RedisTrackerStore):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.red = retrying(self.red)

    async def save(self, tracker) -> None:
        try:
            await super().save(tracker)
        except Exception:
            TURN_NOT_KEPT.set(True)
            raise


class FailoverRedisLockStore(RedisLockStore):
    """Rasa builds a custom lock store from its endpoint config alone."""

    def __init__(self, endpoint_config=None, **kwargs):
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self.red = retrying(self.red)
