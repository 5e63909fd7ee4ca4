"""Extensions are created here and bound to the app in create_app()."""
from urllib.parse import urlparse

import redis as redis_lib
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy import MetaData


class Base(DeclarativeBase):
    # Stable constraint names so Alembic migrations work the same on SQLite and PostgreSQL.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


def sentinels(config) -> list[tuple[str, int]]:
    """REDIS_SENTINELS "host:port,host:port" as (host, port) pairs; empty: Redis at REDIS_URL."""
    found = []
    for part in filter(None, (p.strip() for p in str(config.get("REDIS_SENTINELS") or "").split(","))):
        host, _, port = part.rpartition(":")
        found.append((host or "127.0.0.1", int(port)))
    return found


def redis_client(config, *, decode_responses: bool = False, timeout: float | None = 2) -> redis_lib.Redis:
    """A Redis client of the app's Redis: REDIS_URL, or with REDIS_SENTINELS the primary that the
    Sentinels name for REDIS_SENTINEL_MASTER (database number and password still from REDIS_URL).
    Through Sentinel a command that meets a dead or demoted primary asks the Sentinels again and
    is retried for a few seconds, so a failover looks like a slow answer rather than an error."""
    found = sentinels(config)
    if not found:
        return redis_lib.Redis.from_url(config["REDIS_URL"], socket_timeout=timeout, socket_connect_timeout=2,
                                        decode_responses=decode_responses)
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError
    from redis.retry import Retry
    from redis.sentinel import Sentinel
    url = urlparse(config["REDIS_URL"])
    db_number = int((url.path or "/0").lstrip("/") or 0)
    sentinel = Sentinel(found, sentinel_kwargs={"socket_timeout": 1, "socket_connect_timeout": 1})
    return sentinel.master_for(
        config.get("REDIS_SENTINEL_MASTER") or "mymaster", db=db_number, password=url.password,
        socket_timeout=timeout, socket_connect_timeout=2, decode_responses=decode_responses,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), 8),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, redis_lib.ReadOnlyError])


class FlaskRedis:
    """One connection pool per process, shared by every request and job."""

    def __init__(self):
        self.client: redis_lib.Redis | None = None

    def init_app(self, app):
        self.client = redis_client(app.config, decode_responses=True)
        app.extensions["redis"] = self

    def __getattr__(self, name):
        if self.client is None:
            raise RuntimeError("redis is not initialised: call init_app first")
        return getattr(self.client, name)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
redis = FlaskRedis()
# Limits, keys and storage come from the config (backend.ratelimits binds them in create_app).
limiter = Limiter(key_func=get_remote_address)
