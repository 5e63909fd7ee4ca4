"""Extensions are created here and bound to the app in create_app()."""
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


class FlaskRedis:
    """One connection pool per process, shared by every request and job."""

    def __init__(self):
        self.client: redis_lib.Redis | None = None

    def init_app(self, app):
        self.client = redis_lib.Redis.from_url(
            app.config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2, decode_responses=True)
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
