"""Signed bearer tokens (itsdangerous) carrying subject, role and expiry."""
import hmac

from flask import current_app, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..errors import Unauthorized
from ..ratelimits import remote_address
from ..extensions import db
from .actors import Actor
from . import versions
from .models import Staff

_SALT = "red-mailbox-token"
_ACTOR_KEY = "red_mailbox.actor"


_serializers: dict = {}


def _serializer():
    # One per secret: building it derives the signing key, which every request would pay again.
    key = current_app.config["SECRET_KEY"]
    serializer = _serializers.get(key)
    if serializer is None:
        serializer = _serializers[key] = URLSafeTimedSerializer(key, salt=_SALT)
    return serializer


def issue(kind: str, subject_id: int, role: str | None = None, version: int = 0) -> dict:
    """A token for the subject, carrying its session version (accounts/sessions.py)."""
    token = _serializer().dumps({"k": kind, "id": subject_id, "r": role, "v": version})
    return {"token": token, "token_type": "Bearer", "role": role or kind,
            "expires_in": current_app.config["TOKEN_MAX_AGE_SECONDS"]}


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip() or None
    return None


def rate_key() -> str:
    """Whom a request counts against for rate limits: the subject its token names (checked, no
    database read: this runs before the view), else its client address."""
    token = _bearer()
    if token:
        try:
            claims = _serializer().loads(token, max_age=current_app.config["TOKEN_MAX_AGE_SECONDS"])
            return f"{claims.get('k')}:{claims.get('id')}"
        except BadSignature:  # expired ones too: the view answers 401
            pass
    return f"ip:{remote_address()}"


def current_actor(required: bool = True) -> Actor | None:
    # Kept per request (not on flask.g, which can outlive a request): authenticate_first reads it first.
    actor = request.environ.get(_ACTOR_KEY) or _read_actor(required)
    if actor is not None:
        request.environ[_ACTOR_KEY] = actor
    return actor


def _read_actor(required: bool) -> Actor | None:
    token = _bearer()
    if token is None:
        if required:
            raise Unauthorized("请先登录")
        return None
    if hmac.compare_digest(token.encode(), current_app.config["BOT_SERVICE_TOKEN"].encode()):
        return Actor("bot")
    try:
        claims = _serializer().loads(token, max_age=current_app.config["TOKEN_MAX_AGE_SECONDS"])
    except SignatureExpired:
        raise Unauthorized("登录已过期，请重新登录", code="token_expired") from None
    except BadSignature:
        raise Unauthorized("登录凭证无效，请重新登录", code="invalid_token") from None
    try:
        return _actor_for(claims)
    finally:
        # The Actor is a plain value: on SQLite end this read so the request's write transaction
        # starts fresh (a transaction there holds the database lock until it ends). PostgreSQL
        # reads take no such lock, and a rollback would cost each request a round trip.
        if db.session.get_bind().dialect.name == "sqlite":
            db.session.rollback()


def _ended() -> Unauthorized:
    return Unauthorized("这次登录已结束，请重新登录", code="session_ended")


def _actor_for(claims: dict) -> Actor:
    if claims.get("k") == "staff":
        staff = db.session.get(Staff, claims["id"])
        if staff is None or not staff.active:
            raise Unauthorized("账号已停用")
        if claims.get("v", 0) != (staff.session_version or 0):
            raise _ended()
        return Actor.for_staff(staff)
    if claims.get("k") == "resident":
        # Only whether the resident still exists (deleted ones' tokens die with them) and the session
        # version: the Actor is the id. Read from Redis, the database only on a miss (versions.py):
        # the read was a fifth of an order's CPU.
        version = versions.resident_version(claims["id"])
        if version is None:
            raise Unauthorized("没有这个居民账号，请重新登录")
        if claims.get("v", 0) != version:
            raise _ended()
        return Actor("resident", claims["id"])
    raise Unauthorized("登录凭证无效，请重新登录")


def require(*kinds: str) -> Actor:
    actor = current_actor()
    if actor.kind not in kinds:
        from ..errors import Forbidden
        from ..labels import label
        raise Forbidden("这个接口只供" + "、".join(label("actor_kinds", k) or k for k in kinds) + "使用")
    return actor


def authenticate_first(blueprint) -> None:
    """Every request to the blueprint needs a valid bearer token, checked before its input is read:
    a caller without one gets 401, not a list of what the endpoint would accept."""
    blueprint.before_request(lambda: current_actor() and None)
