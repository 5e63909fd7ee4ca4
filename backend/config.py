"""Configuration from the environment. Defaults are for `make run` on a developer machine."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


class Config:
    ENV_NAME = "development"
    SECRET_KEY = _env("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL", f"sqlite:///{VAR / 'red-mailbox.sqlite3'}")
    REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6379/0")
    # Redis behind Sentinel: "host:port,host:port" of the Sentinels; the app then asks them for the
    # primary of REDIS_SENTINEL_MASTER (REDIS_URL still gives the database number and password).
    REDIS_SENTINELS = _env("REDIS_SENTINELS", "")
    REDIS_SENTINEL_MASTER = _env("REDIS_SENTINEL_MASTER", "mymaster")
    RASA_URL = _env("RASA_URL", "http://127.0.0.1:5005")
    # The backend's key to Rasa: its HTTP API (rasa run --auth-token) and its REST webhook
    # (bot/secure_channel.py) answer nobody else.
    RASA_AUTH_TOKEN = _env("RASA_AUTH_TOKEN", "dev-rasa-auth-token")
    BOT_TIMEOUT_SECONDS = float(_env("BOT_TIMEOUT_SECONDS", "8"))
    BOT_SERVICE_TOKEN = _env("BOT_SERVICE_TOKEN", "dev-bot-service-token")
    # Unset: the category model's own threshold, calibrated on held-out data at build time.
    CATEGORY_CONFIDENCE_THRESHOLD = (float(_env("CATEGORY_CONFIDENCE_THRESHOLD", "")) if
                                     _env("CATEGORY_CONFIDENCE_THRESHOLD", "") else None)
    TIMEZONE = _env("TIMEZONE", "Asia/Shanghai")
    # 知识库 (backend/knowledge): a question scoring at least KNOWLEDGE_ANSWER_SCORE (cosine of char
    # and word n-grams) is answered; from KNOWLEDGE_OFFER_SCORE up the two closest entries are offered;
    # below, the bot says it does not know and the question joins the console's 待补充 list.
    # Tuned on bench/knowledge_eval.yml (BENCHMARKS.md).
    KNOWLEDGE_ANSWER_SCORE = float(_env("KNOWLEDGE_ANSWER_SCORE", "0.34"))
    KNOWLEDGE_OFFER_SCORE = float(_env("KNOWLEDGE_OFFER_SCORE", "0.2"))
    # The seed the bot's own model chose at least this confidently is answered between the two offered,
    # and between the two closest seeds when the 知识库 answered the other (knowledge.services.follow_hint).
    KNOWLEDGE_HINT_CONFIDENCE = float(_env("KNOWLEDGE_HINT_CONFIDENCE", "0.5"))
    # How often a process looks whether another one changed an entry (its own changes count at once).
    KNOWLEDGE_REFRESH_SECONDS = float(_env("KNOWLEDGE_REFRESH_SECONDS", "5"))
    ORDER_NUMBER_PREFIX = _env("ORDER_NUMBER_PREFIX", "HX")
    # A session (API token, console or H5 cookie) lasts a working day from its login, then the person
    # logs in again; logout, a new password or deactivation end it before (accounts/sessions.py).
    SESSION_LIFETIME_SECONDS = int(_env("SESSION_LIFETIME_SECONDS", str(10 * 3600)))
    TOKEN_MAX_AGE_SECONDS = int(_env("TOKEN_MAX_AGE_SECONDS", str(SESSION_LIFETIME_SECONDS)))
    # Flask's bound on the session cookie's signature (a cookie is re-signed whenever it changes, so
    # the login time it carries is what sets the lifetime).
    PERMANENT_SESSION_LIFETIME = SESSION_LIFETIME_SECONDS
    MAX_CONTENT_LENGTH = int(_env("MAX_CONTENT_LENGTH", str(8 * 1024 * 1024)))
    DEMO_PASSWORD = _env("DEMO_PASSWORD", "demo-pass-2026")
    WECHAT_APPID = _env("WECHAT_APPID", "wxdev0000000000000")
    WECHAT_SECRET = _env("WECHAT_SECRET", "dev-wechat-secret")
    WECHAT_TOKEN = _env("WECHAT_TOKEN", "devtoken")
    WECHAT_AES_KEY = _env("WECHAT_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
    WECHAT_API_BASE = _env("WECHAT_API_BASE", "http://127.0.0.1:5100/")
    # The mini-program's 原始ID (gh_…, 小程序后台 → 设置 → 基本设置). A push addressed to it (its
    # ToUserName) came through the mini-program's customer service, whose send API takes no menu
    # message: the bot's choices (附议 / 不是一回事) are then written out in the text ("回复 1 附议，
    # 回复 2 不是一回事") and a reply of 1 or 2 is read as the choice. Empty: the pushes are taken as an
    # official account's, and get menu messages.
    WECHAT_MINIPROGRAM_ID = _env("WECHAT_MINIPROGRAM_ID", "")
    # 企业微信 (WeCom) application messages to staff (issue 24, backend/wechat/wecom.py): off while
    # WECOM_CORP_ID is empty. A staff member's WeCom userid is their username. WECOM_KINDS: which
    # staff notices go there too (督办, 不满意 reopened, a limit about to pass or missed, an order
    # given to them).
    WECOM_CORP_ID = _env("WECOM_CORP_ID", "")
    WECOM_SECRET = _env("WECOM_SECRET", "")
    WECOM_AGENT_ID = int(_env("WECOM_AGENT_ID", "0"))
    WECOM_API_BASE = _env("WECOM_API_BASE", "http://127.0.0.1:5100/")
    WECOM_KINDS = _env("WECOM_KINDS", "supervise,reopened,due_soon,overdue,assigned_to_you")
    # Web OAuth for the resident H5 pages (open.weixin.qq.com/connect/ in production).
    WECHAT_OAUTH_BASE = _env("WECHAT_OAUTH_BASE", "http://127.0.0.1:5100/connect/")
    # Where residents and partners reach the site, e.g. https://mailbox.example.cn: WeChat OAuth's
    # redirect_uri and Open311's discovery are built on it, never on the request's Host header
    # (which the caller chooses). Empty in development: the Host of the request. Required (https) in production.
    PUBLIC_URL = _env("PUBLIC_URL", "")
    UPLOAD_DIR = _env("UPLOAD_DIR", str(VAR / "uploads"))
    # Photos on storage every web node reaches: s3://bucket[/prefix] on an S3-compatible server
    # (S3_ENDPOINT_URL unless AWS; credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
    # Empty: the local UPLOAD_DIR, for a single web node.
    STORAGE_URL = _env("STORAGE_URL", "")
    S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL", "")
    S3_REGION = _env("S3_REGION", "us-east-1")
    # A phone photo is 2–5 MB; WeChat's own limit for an image message is 10 MB.
    PHOTO_MAX_BYTES = int(_env("PHOTO_MAX_BYTES", str(5 * 1024 * 1024)))
    WECHAT_QUEUE = _env("WECHAT_QUEUE", "wechat")
    WECHAT_HTTP_TIMEOUT = float(_env("WECHAT_HTTP_TIMEOUT", "4"))
    # WeChat retries an unanswered push 3 times within ~15 s; a day covers every retry with margin.
    WECHAT_DEDUPE_TTL = int(_env("WECHAT_DEDUPE_TTL", str(24 * 3600)))
    # A push's signed timestamp must be this close to our clock (either way), and each signed
    # (timestamp, nonce) pair is taken once: remembered in Redis while the window could accept it.
    WECHAT_TIMESTAMP_WINDOW_SECONDS = int(_env("WECHAT_TIMESTAMP_WINDOW_SECONDS", "300"))
    # Safe mode (安全模式): pushes must come AES-encrypted, whose msg_signature covers the body; a
    # plaintext push's signature covers only timestamp and nonce, so its body could be anything.
    # Required in production; off here so that tests and the stub may push plaintext.
    WECHAT_SAFE_MODE = _env("WECHAT_SAFE_MODE", "0").lower() in ("1", "true", "on", "yes")
    # A push is a few KB (a 2,000-character text, encrypted, is under 12 KB): bigger bodies are refused
    # before they are read.
    WECHAT_MAX_PUSH_BYTES = int(_env("WECHAT_MAX_PUSH_BYTES", str(64 * 1024)))
    # Subscribe-message templates (from the mini-program's console) per notification kind; empty = not sent.
    WECHAT_TEMPLATES = {
        "claimed": _env("WECHAT_TEMPLATE_CLAIMED", "tmpl-claimed"),
        "escalated": _env("WECHAT_TEMPLATE_ESCALATED", "tmpl-escalated"),
        "resolved": _env("WECHAT_TEMPLATE_RESOLVED", "tmpl-resolved"),
        "reopened": _env("WECHAT_TEMPLATE_REOPENED", "tmpl-reopened"),
        # A reply that missed the 48-hour customer-service window goes out on this template.
        "reply": _env("WECHAT_TEMPLATE_REPLY", "tmpl-reply"),
    }
    # Template field → value source (number, text, status, note, time); the keys must match the
    # template's keywords, which differ per template, so they are configuration too.
    WECHAT_TEMPLATE_FIELDS = _env(
        "WECHAT_TEMPLATE_FIELDS",
        "character_string1=number;thing2=text;phrase3=status;thing4=note;time5=time")
    WECHAT_TEMPLATE_PAGE = _env("WECHAT_TEMPLATE_PAGE", "pages/orders/detail?number={number}")

    # flask-smorest / OpenAPI
    API_TITLE = "红色信箱 Red Mailbox API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/vendor/swagger-ui/"
    # A database error's message lists the statement's parameters: residents' phone numbers and
    # texts, password hashes. Keep them out of logs and error columns. After a database restart the
    # first request on each dropped pooled connection answers 503 (a client retries with its
    # Idempotency-Key, WeChat retries its push) and the whole pool is replaced at once, so service
    # resumes by itself. DATABASE_PRE_PING=1 tests each connection before use instead, which saves
    # that one 503 at the price of a round trip to the database on every request.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"hide_parameters": True,
                                       "pool_pre_ping": _env("DATABASE_PRE_PING", "0") == "1"}
    # A PostgreSQL streaming replica (hot standby) for the heavy reads that may be a few seconds old:
    # the dashboard's figures, 公示, 考核 and the exports (backend/replica.py). Empty: everything on
    # DATABASE_URL. A replica that is down or further behind than REPLICA_MAX_LAG_SECONDS is
    # skipped (the primary answers, a warning is logged); its state is measured at most once per
    # REPLICA_CHECK_SECONDS per process. REPLICA_READS names the services that may use it.
    DATABASE_REPLICA_URL = _env("DATABASE_REPLICA_URL", "")
    REPLICA_MAX_LAG_SECONDS = float(_env("REPLICA_MAX_LAG_SECONDS", "5"))
    REPLICA_CHECK_SECONDS = float(_env("REPLICA_CHECK_SECONDS", "2"))
    REPLICA_CONNECT_TIMEOUT = int(_env("REPLICA_CONNECT_TIMEOUT", "2"))
    REPLICA_READS = _env("REPLICA_READS", "dashboard,public,assessment,export")

    # Dispatch: working time for time limits (限时办理). Grades in SLA_CALENDAR_GRADES run on
    # calendar time; the others only count working hours (a "day" is one working day's hours).
    WORK_DAYS = _env("WORK_DAYS", "1,2,3,4,5")  # ISO weekdays, Monday = 1
    WORK_HOURS = _env("WORK_HOURS", "08:30-17:30")
    # Which days are worked: the State Council's holidays and 调休 days from the chinese-calendar
    # package ("official", the default; "weekdays": WORK_DAYS only), then these local overrides.
    WORK_CALENDAR = _env("WORK_CALENDAR", "official")
    WORK_HOLIDAYS = _env("WORK_HOLIDAYS", "")  # "2026-10-01,2026-10-02": no work on these dates
    WORK_EXTRA_DAYS = _env("WORK_EXTRA_DAYS", "")  # dates worked although the calendar rests
    SLA_CALENDAR_GRADES = _env("SLA_CALENDAR_GRADES", "urgent")
    # 延期: at most this many extensions per order, each moving resolve-by at most this many
    # working days; 挂起: a worker's pause planned longer than this needs a leader's approval.
    ORDER_EXTENSION_MAX_COUNT = int(_env("ORDER_EXTENSION_MAX_COUNT", "2"))
    ORDER_EXTENSION_MAX_DAYS = float(_env("ORDER_EXTENSION_MAX_DAYS", "10"))
    ORDER_PAUSE_LIMIT_DAYS = float(_env("ORDER_PAUSE_LIMIT_DAYS", "3"))
    # Per-category overrides, JSON: {"城乡建设/城市建设和市政管理": {"claim": "30m", "resolve": "8h"}};
    # a top-level key ("城乡建设") covers its whole subtree, the longest match wins.
    SLA_CATEGORY_LIMITS = _env("SLA_CATEGORY_LIMITS", "{}")
    SLA_TICK_SECONDS = int(_env("SLA_TICK_SECONDS", "60"))
    # Property companies (物业): these categories (taxonomy paths, comma-separated; a path covers
    # its subtree) go to the compound's property company first when it has one; its own limits,
    # JSON per grade: {"normal": {"acknowledge": "2h", "resolve": "2d"}} (working time like the rest).
    PROPERTY_CATEGORIES = _env("PROPERTY_CATEGORIES", "城乡建设/住房保障与房地产/物业服务")
    SLA_PROPERTY_LIMITS = _env("SLA_PROPERTY_LIMITS", "{}")
    DUE_SOON_SECONDS = int(_env("DUE_SOON_SECONDS", "3600"))
    # 归档: rated orders after this many days; resolved orders nobody rated after this many (未评价).
    ARCHIVE_RATED_AFTER_DAYS = float(_env("ARCHIVE_RATED_AFTER_DAYS", "3"))
    ARCHIVE_UNRATED_AFTER_DAYS = float(_env("ARCHIVE_UNRATED_AFTER_DAYS", "7"))
    # 电话回访: staff may record a callback once a resident with an account has not rated this many
    # days after the resolution (at once for orders whose reporter has no resident account).
    CALLBACK_AFTER_DAYS = float(_env("CALLBACK_AFTER_DAYS", "3"))
    # 疑似重复 at intake (orders/duplicates.py): orders of the same grid and level-2 category created
    # or resolved within this many days whose text scores at least DUPLICATE_MIN_SCORE (0–1).
    DUPLICATE_WINDOW_DAYS = float(_env("DUPLICATE_WINDOW_DAYS", "7"))
    DUPLICATE_MIN_SCORE = float(_env("DUPLICATE_MIN_SCORE", "0.3"))
    ARCHIVE_TICK_SECONDS = int(_env("ARCHIVE_TICK_SECONDS", "3600"))
    # 个人信息保护: closed and cancelled orders older than this are anonymised by the retention tick
    # (the order and its figures stay). 0 keeps personal data for ever.
    RESIDENT_DATA_RETENTION_MONTHS = int(_env("RESIDENT_DATA_RETENTION_MONTHS", "36"))
    # 公示 pages: computed at most once per this many seconds (Redis), and how many results they list.
    PUBLIC_CACHE_SECONDS = int(_env("PUBLIC_CACHE_SECONDS", "300"))
    # 考核 on the dashboard: the scope's month row is reused this long (Redis); the ranking and its
    # report are computed on every request
    ASSESSMENT_CACHE_SECONDS = int(_env("ASSESSMENT_CACHE_SECONDS", "300"))
    PUBLIC_RECENT_LIMIT = int(_env("PUBLIC_RECENT_LIMIT", "20"))
    # 微心愿: a claimant fulfils within WISH_FULFIL_DAYS working days or the wish goes back to the
    # board; one member holds at most WISH_MAX_OPEN_CLAIMS at once; a wish nobody claimed within
    # WISH_OFFER_AFTER_DAYS working days of its publication is offered to the community's partner units.
    WISH_FULFIL_DAYS = int(_env("WISH_FULFIL_DAYS", "5"))
    WISH_MAX_OPEN_CLAIMS = int(_env("WISH_MAX_OPEN_CLAIMS", "2"))
    WISH_OFFER_AFTER_DAYS = int(_env("WISH_OFFER_AFTER_DAYS", "3"))
    # Open311 GeoReport v2 discovery: who to ask, and how partners get an api_key.
    OPEN311_CONTACT = _env("OPEN311_CONTACT", "红色信箱运维 ops@example.org")
    OPEN311_KEY_SERVICE = _env("OPEN311_KEY_SERVICE", "向街道信息中心申请：flask issue-partner-key <平台名称>")
    # Outbox delivery: retries with exponential backoff, then "failed" (visible, never silent).
    NOTIFY_SWEEP_SECONDS = int(_env("NOTIFY_SWEEP_SECONDS", "30"))
    # A pending notification whose delivery job has not claimed it within this is enqueued again by
    # the sweep (the job may have died with its worker or been lost in a Redis failover); the
    # attempt claim in `deliver` keeps a second job from sending twice.
    NOTIFY_REQUEUE_SECONDS = int(_env("NOTIFY_REQUEUE_SECONDS", "120"))
    WECHAT_SWEEP_SECONDS = int(_env("WECHAT_SWEEP_SECONDS", "60"))
    # A push whose worker has held it this long is taken to be from a dead worker and retried.
    WECHAT_STALE_CLAIM_SECONDS = int(_env("WECHAT_STALE_CLAIM_SECONDS", "600"))
    NOTIFY_MAX_ATTEMPTS = int(_env("NOTIFY_MAX_ATTEMPTS", "5"))
    NOTIFY_BACKOFF_SECONDS = int(_env("NOTIFY_BACKOFF_SECONDS", "30"))
    NOTIFY_STAFF_CHANNEL = _env("NOTIFY_STAFF_CHANNEL", "console")
    # Grades whose new orders are pushed to the grid's workers (the rest wait in the queue list).
    NOTIFY_NEW_ORDER_GRADES = _env("NOTIFY_NEW_ORDER_GRADES", "urgent")
    # Modules imported by the worker so their register_channel() calls run, comma-separated.
    NOTIFY_CHANNEL_MODULES = _env("NOTIFY_CHANNEL_MODULES", "")
    # RQ queues a worker started without --queues listens on, highest priority first. The Procfile
    # starts one worker group per kind of work instead (inbound, outbound, ticks, bulk), so a job
    # that hangs in one queue stalls nothing in another.
    WORKER_QUEUES = _env("WORKER_QUEUES", "wechat,notifications,dispatch,default")
    # The longest one job of a queue may run before the worker kills it (queue=seconds, comma-
    # separated; a queue not named gets QUEUE_TIMEOUT_DEFAULT). A killed or failing job lands in the
    # failed list on the console (后台任务), where it is retried or discarded.
    QUEUE_TIMEOUTS = _env("QUEUE_TIMEOUTS", "wechat=60,notifications=60,dispatch=600,default=1800")
    QUEUE_TIMEOUT_DEFAULT = int(_env("QUEUE_TIMEOUT_DEFAULT", "600"))

    # Rate limits: Flask-Limiter strings, several joined by ";". Counted in Redis (REDIS_URL unless
    # RATE_LIMIT_STORAGE_URL); when Redis does not answer they fail open, with one warning logged.
    RATELIMIT_ENABLED = _env("RATE_LIMITS_ENABLED", "1") not in ("0", "false", "off")
    RATE_LIMIT_STORAGE_URL = _env("RATE_LIMIT_STORAGE_URL")
    # Failed logins (API and console together): per account, then the account waits (any password);
    # per client address, whichever accounts it tries — a success resets neither.
    RATE_LIMIT_LOGIN_ACCOUNT = _env("RATE_LIMIT_LOGIN_ACCOUNT", "5 per 15 minutes")
    # Per client address only what no office does: failures on accounts that do not exist, and
    # failures on many different accounts (counted once each); accounts that signed in from the
    # address in the last 30 days pass both (a community office shares one address).
    RATE_LIMIT_LOGIN_IP = _env("RATE_LIMIT_LOGIN_IP", "20 per 15 minutes")
    RATE_LIMIT_LOGIN_IP_ACCOUNTS = _env("RATE_LIMIT_LOGIN_IP_ACCOUNTS", "10 per 15 minutes")
    # How long an account stays locked once RATE_LIMIT_LOGIN_ACCOUNT refused an attempt.
    RATE_LIMIT_LOGIN_LOCK_MINUTES = int(_env("RATE_LIMIT_LOGIN_LOCK_MINUTES", "15"))
    # Reverse proxies (nginx …) in front of the app: their X-Forwarded-For names the client address
    # the limits count by. 0: the TCP peer, and the header is ignored (a client could forge it).
    TRUSTED_PROXY_HOPS = int(_env("TRUSTED_PROXY_HOPS", "0"))
    RATE_LIMIT_CHAT = _env("RATE_LIMIT_CHAT", "20 per minute;300 per day")  # chat messages per resident
    RATE_LIMIT_ORDERS = _env("RATE_LIMIT_ORDERS", "10 per hour;30 per day")  # API-created orders per resident
    RATE_LIMIT_WECHAT = _env("RATE_LIMIT_WECHAT", "20 per minute;300 per day")  # WeChat pushes per openid
    RATE_LIMIT_OPEN311 = _env("RATE_LIMIT_OPEN311", "120 per minute;20000 per day")  # Open311 POSTs per partner

    # The console's and the H5 pages' session cookie: no script may read it (HttpOnly), and another
    # site's form posts or images do not carry it (Lax; CSRF tokens guard the forms as well).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # development serves plain HTTP; production sets it


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True  # production is served over HTTPS only: the cookie never goes in clear
    WECHAT_SAFE_MODE = _env("WECHAT_SAFE_MODE", "1").lower() in ("1", "true", "on", "yes")


class ConfigurationError(RuntimeError):
    pass


# Secrets whose development default is public (it is in this file): production must set its own.
# BOT_SERVICE_TOKEN lets its bearer act for any resident through the bot API; RASA_AUTH_TOKEN lets
# its bearer read any conversation and talk as any resident to the bot (scripts/bot-env.sh refuses
# the bot's development defaults, ACTIONS_SECRET included, in production as well).
_DEV_DEFAULTS = {
    "WECHAT_APPID": Config.WECHAT_APPID, "WECHAT_SECRET": Config.WECHAT_SECRET,
    "WECHAT_TOKEN": Config.WECHAT_TOKEN, "WECHAT_AES_KEY": Config.WECHAT_AES_KEY,
    "SECRET_KEY": Config.SECRET_KEY, "BOT_SERVICE_TOKEN": Config.BOT_SERVICE_TOKEN,
    "RASA_AUTH_TOKEN": Config.RASA_AUTH_TOKEN,
}


def check_production(config) -> None:
    """Production must talk to the real WeChat with real secrets: a stub URL or a development
    default there would silently drop every message or accept forged pushes and bot calls."""
    problems = []
    for name, dev_value in _DEV_DEFAULTS.items():
        value = config.get(name)
        if not value or value == dev_value:
            problems.append(f"{name} is missing")
    base = (config.get("WECHAT_API_BASE") or "").lower()
    if not base.startswith("https://") or any(h in base for h in ("127.0.0.1", "localhost", "[::1]")):
        problems.append("WECHAT_API_BASE must be WeChat's https API, not a local stub")
    oauth = (config.get("WECHAT_OAUTH_BASE") or "").lower()
    if not oauth.startswith("https://") or any(h in oauth for h in ("127.0.0.1", "localhost", "[::1]")):
        problems.append("WECHAT_OAUTH_BASE must be WeChat's https OAuth, not a local stub")
    if config.get("WECOM_CORP_ID") and not (config.get("WECOM_API_BASE") or "").lower().startswith("https://qyapi.weixin.qq.com"):
        problems.append("WECOM_API_BASE must be WeCom's https API (https://qyapi.weixin.qq.com/), not a local stub")
    public = (config.get("PUBLIC_URL") or "").lower()
    if not public.startswith("https://") or any(h in public for h in ("127.0.0.1", "localhost", "[::1]")):
        problems.append("PUBLIC_URL must be the site's own https address (OAuth and Open311 links are built on it)")
    if not config.get("WECHAT_SAFE_MODE"):
        problems.append("WECHAT_SAFE_MODE must be on (plaintext pushes can be replayed with any body)")
    key = config.get("WECHAT_AES_KEY") or ""
    if len(key) != 43:
        problems.append("WECHAT_AES_KEY must be the 43-character EncodingAESKey")
    if problems:
        raise ConfigurationError("refusing to start in production: " + "; ".join(problems))


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = _env("TEST_DATABASE_URL", "sqlite:///" + str(VAR / "test.sqlite3"))
    REDIS_URL = _env("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    RASA_URL = _env("TEST_RASA_URL", "http://127.0.0.1:1")  # nothing listens: bot down unless a test starts it
    BOT_TIMEOUT_SECONDS = 3.0
    SECRET_KEY = "test-secret"
    BOT_SERVICE_TOKEN = "test-bot-token"
    RASA_AUTH_TOKEN = "test-rasa-token"
    # Raised far past what any test sends; tests/ratelimits/test_rate_limits.py sets the real ones.
    RATE_LIMIT_LOGIN_ACCOUNT = RATE_LIMIT_LOGIN_IP = RATE_LIMIT_LOGIN_IP_ACCOUNTS = RATE_LIMIT_CHAT = "100000 per hour"
    RATE_LIMIT_ORDERS = RATE_LIMIT_WECHAT = RATE_LIMIT_OPEN311 = "100000 per hour"
    # Tests delete rows behind the services' back: the 知识库's index looks at its stamp every question.
    KNOWLEDGE_REFRESH_SECONDS = 0.0


def config_for(name: str | None):
    return {"production": ProductionConfig, "test": TestConfig}.get(name or "", Config)
