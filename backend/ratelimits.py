"""Rate limits (Flask-Limiter) on the project's Redis, limits from the config.

They fail open: when Redis does not answer, every request passes unlimited, because refusing a
resident's request for want of a counter would lose it. That is said once per outage as a warning
(Flask-Limiter itself would log a traceback per request)."""
import logging
import math
import time
from functools import wraps

from flask import current_app, make_response, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItemPerSecond, parse, parse_many
from redis.commands.core import Script

from .errors import DomainError
from .extensions import limiter, redis, sentinels

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


def _default_storage(cfg) -> str:
    """The app's Redis: REDIS_URL, or through its Sentinels (limits' redis+sentinel:// scheme)."""
    if not cfg.get("REDIS_SENTINELS"):
        return cfg["REDIS_URL"]
    hosts = ",".join(f"{h}:{p}" for h, p in sentinels(cfg))
    return f"redis+sentinel://{hosts}/{cfg.get('REDIS_SENTINEL_MASTER') or 'mymaster'}"


def init_app(app) -> None:
    cfg = app.config
    cfg.setdefault("RATELIMIT_STORAGE_URI", cfg.get("RATE_LIMIT_STORAGE_URL") or _default_storage(cfg))
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


# --- logins ---------------------------------------------------------------------------------
# A community office shares one address: the address is limited only for what no office does —
# guessing at accounts that do not exist, or at many different accounts — and never for an account
# that signed in from it lately. Each account is limited on its own failures.
ACCOUNT_LOCKED = ("这个账号连续多次密码错误，为保护账号已暂时锁定，请{wait}后再试。同一台电脑上的其他账号不受影响；"
                  "忘记密码请联系社区或街道管理员重置。")
ADDRESS_UNKNOWN = "这个网络地址多次用不存在的账号登录，已暂停登录，请{wait}后再试。最近在这里登录过的账号不受影响。"
ADDRESS_MANY = "这个网络地址短时间内有很多个账号登录失败，已暂停登录，请{wait}后再试。最近在这里登录过的账号不受影响。"
KNOWN_DAYS = 30  # how long a successful sign-in from an address counts as "lately"


def _wait(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes}分钟"


class _LoginGuard:
    """The counters of one login attempt: `check` before the password is read (a refused attempt
    answers 429 whatever the password, so guessing cannot go on by watching for a 200), then
    `failed` or `succeeded`."""

    def __init__(self, username: str, address: str):
        cfg = current_app.config
        self.prefix, self.username, self.address = cfg["RATELIMIT_KEY_PREFIX"], username, address
        self.strategy = limiter.limiter
        self.account = parse_many(cfg["RATE_LIMIT_LOGIN_ACCOUNT"])
        self.lock = parse(f"1 per {cfg['RATE_LIMIT_LOGIN_LOCK_MINUTES']} minutes")
        self.unknown = parse_many(cfg["RATE_LIMIT_LOGIN_IP"])
        self.many = parse_many(cfg["RATE_LIMIT_LOGIN_IP_ACCOUNTS"])

    def _ids(self, scope: str, *key) -> tuple:
        return (self.prefix, scope, *key)

    def _refuse(self, message: str, item, ids):
        reset, _ = self.strategy.get_window_stats(item, *ids)
        retry = max(1, reset - time.time())
        raise RateLimited(message.format(wait=_wait(retry)), retry_after=retry)

    def check(self) -> None:
        lock_ids = self._ids("login-account-lock", self.username)
        if not self.strategy.test(self.lock, *lock_ids):
            self._refuse(ACCOUNT_LOCKED, self.lock, lock_ids)
        for item in self.account:
            if not self.strategy.test(item, *self._ids("login-account", self.username)):
                self.strategy.hit(self.lock, *lock_ids)  # this refusal starts the lock, for its full length
                self._refuse(ACCOUNT_LOCKED, self.lock, lock_ids)
        if self._known_here():
            return
        for items, scope, message in ((self.unknown, "login-ip-unknown", ADDRESS_UNKNOWN),
                                      (self.many, "login-ip-accounts", ADDRESS_MANY)):
            for item in items:
                ids = self._ids(scope, self.address)
                if not self.strategy.test(item, *ids):
                    self._refuse(message, item, ids)

    def failed(self, account_exists: bool) -> None:
        if not account_exists:
            for item in self.unknown:
                self.strategy.hit(item, *self._ids("login-ip-unknown", self.address))
            return
        for item in self.account:
            self.strategy.hit(item, *self._ids("login-account", self.username))
        for item in self.many:
            # One more account failing from here, counted once per account within the window.
            first = RateLimitItemPerSecond(1, item.get_expiry())
            if self.strategy.hit(first, *self._ids("login-ip-pair", self.address, self.username)):
                self.strategy.hit(item, *self._ids("login-ip-accounts", self.address))

    def _known_key(self) -> str:
        return f"{self.prefix}:login-known:{self.address}"

    def _known_here(self) -> bool:
        return bool(redis.sismember(self._known_key(), self.username))

    def succeeded(self) -> None:
        key = self._known_key()
        pipe = redis.pipeline()
        pipe.sadd(key, self.username)
        pipe.expire(key, KNOWN_DAYS * 86400)
        pipe.execute()


def _guarded(step, *args) -> None:
    """A counter step that fails open: Redis down never keeps anyone out."""
    try:
        step(*args)
    except RateLimited:
        raise
    except Exception as exc:
        storage_failed(exc)
    else:
        storage_answered()


def login_limits(account_exists):
    """A login view's limits, counted together for the API and the console:
    - per account: after RATE_LIMIT_LOGIN_ACCOUNT failures the next attempt is refused and the
      account locked for RATE_LIMIT_LOGIN_LOCK_MINUTES, whatever password comes;
    - per address, only for RATE_LIMIT_LOGIN_IP failures on accounts that do not exist, or failures on
      RATE_LIMIT_LOGIN_IP_ACCOUNTS different accounts; an account that signed in from the address in
      the last KNOWN_DAYS days passes the address's limits (its own still hold).
    `account_exists(username)` is asked after a failure only. A 429 says why and for how long."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if request.method != "POST" or not limiter.enabled:
                return view(*args, **kwargs)
            guard = _LoginGuard(login_username(), remote_address())
            _guarded(guard.check)
            try:
                response = make_response(view(*args, **kwargs))
            except DomainError as error:
                if error.status == 401:
                    _guarded(lambda: guard.failed(account_exists(guard.username)))
                raise
            if response.status_code == 401:
                _guarded(lambda: guard.failed(account_exists(guard.username)))
            elif response.status_code < 400:
                _guarded(guard.succeeded)
            return response
        return wrapped
    return decorate
