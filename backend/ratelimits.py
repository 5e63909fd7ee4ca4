"""Rate limits (Flask-Limiter) on the project's Redis, limits from the config.

They fail open: when Redis does not answer, every request passes unlimited, because refusing a
resident's request for want of a counter would lose it. That is said once per outage as a warning
(Flask-Limiter itself would log a traceback per request)."""
import logging
import time

from flask import current_app, request
from flask_limiter import MetaLimit
from flask_limiter.util import get_remote_address
from limits import parse_many
from redis.commands.core import Script

from .errors import DomainError
from .extensions import limiter, redis

log = logging.getLogger(__name__)


class RateLimited(DomainError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


MESSAGE = "操作太频繁，请稍后再试"


class _FailOpen(logging.Filter):
    """Turns Flask-Limiter's per-request 'swallowing error' tracebacks into one warning per outage."""

    def __init__(self):
        super().__init__()
        self.down = False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR or not record.exc_info:
            return True
        storage_failed(record.exc_info[1])
        return False


_fail_open = _FailOpen()


def storage_failed(error: BaseException) -> None:
    if not _fail_open.down:
        _fail_open.down = True
        log.warning("rate limits are OFF (fail open): their Redis does not answer (%s); requests pass "
                    "unlimited until it does", type(error).__name__)


def storage_answered() -> None:
    if _fail_open.down:
        _fail_open.down = False
        log.warning("rate limits are back on: their Redis answers again")


def init_app(app) -> None:
    cfg = app.config
    cfg.setdefault("RATELIMIT_STORAGE_URI", cfg.get("RATE_LIMIT_STORAGE_URL") or cfg["REDIS_URL"])
    cfg.setdefault("RATELIMIT_STRATEGY", "moving-window")  # "5 in any 15 minutes", no window edges
    cfg.setdefault("RATELIMIT_HEADERS_ENABLED", True)  # Retry-After on every 429
    cfg.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    cfg.setdefault("RATELIMIT_KEY_PREFIX", "rm:rl")
    # A Redis of their own must not hang a request when it stops answering either.
    cfg.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 2, "socket_connect_timeout": 2})
    limiter.init_app(app)
    if not limiter.enabled:
        return
    if cfg["RATELIMIT_STORAGE_URI"] == cfg["REDIS_URL"]:
        _use_app_redis(limiter.storage)
    logging.getLogger("flask-limiter").addFilter(_fail_open)

    @app.after_request
    def _limits_answered(response):
        if limiter.current_limits:  # only set when the storage answered this request's check
            storage_answered()
        return response


def _use_app_redis(storage) -> None:
    """Count in the app's own Redis client (one pool per process, its timeouts), Lua scripts
    included: they are bound to the client that registered them, so bind them to our proxy."""
    storage.storage = redis
    for name, value in list(vars(storage).items()):
        if isinstance(value, Script):
            setattr(storage, name, Script(redis, value.script))


def configured(name: str):
    """The limit string from the config, read per request so a test or a deploy may change it."""
    return lambda: current_app.config[name]


def remote_address() -> str:
    """The client's address. Behind TRUSTED_PROXY_HOPS reverse proxies it is the one the outermost
    of them saw (X-Forwarded-For, counted from the right: entries further left are the client's
    word and could name anyone); without proxies the header is ignored."""
    hops = current_app.config["TRUSTED_PROXY_HOPS"]
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return get_remote_address() or "-"


def check(name: str, scope: str, key: str) -> None:
    """Count one hit of `key` against the configured limit `name`, inside a view (for keys known only
    after reading the body, e.g. a WeChat push's openid). RateLimited (429) past it; open on failure."""
    if not limiter.enabled:
        return
    ids = (current_app.config["RATELIMIT_KEY_PREFIX"], scope, key)
    try:
        for item in parse_many(current_app.config[name]):
            if not limiter.limiter.hit(item, *ids):
                reset, _ = limiter.limiter.get_window_stats(item, *ids)
                raise RateLimited(MESSAGE, retry_after=reset - time.time())
    except RateLimited:
        raise
    except Exception as exc:  # Redis down: never block intake
        storage_failed(exc)
        return
    storage_answered()


def limit(name: str, key_func, **kwargs):
    """A decorator: the configured limit `name`, counted per key_func(), answering MESSAGE."""
    return limiter.limit(configured(name), key_func=key_func, error_message=MESSAGE, **kwargs)


def login_username() -> str:
    """The account a login names (JSON for the API, the form for the console)."""
    body = request.get_json(silent=True) if request.is_json else request.form
    name = body.get("username") if hasattr(body, "get") else None
    return name[:40] if isinstance(name, str) and name else "-"


def _failed_login(response) -> bool:
    return response.status_code == 401


def _lockout() -> str:
    # A meta limit of one breach: the first refused attempt starts the lock, and for this long
    # every attempt on the account is refused, even once its oldest failures have aged out.
    return f"1 per {current_app.config['RATE_LIMIT_LOGIN_LOCK_MINUTES']} minutes"


def login_limits(view):
    """Failed logins per account (then the account is locked) and per client address, counted
    together for the API and the console. The check runs before the password is, so a locked
    account answers 429 whatever password comes: guessing cannot go on by watching for a 200."""
    lock = MetaLimit(_lockout, key_function=login_username, scope="login-account-lock", error_message=MESSAGE,
                     exempt_when=lambda: request.method != "POST")
    for name, scope, key, meta in (("RATE_LIMIT_LOGIN_ACCOUNT", "login-account", login_username, [lock]),
                                   ("RATE_LIMIT_LOGIN_IP", "login-ip", remote_address, None)):
        view = limiter.shared_limit(configured(name), scope=scope, key_func=key, methods=["POST"],
                                    deduct_when=_failed_login, error_message=MESSAGE, meta_limits=meta)(view)
    return view
