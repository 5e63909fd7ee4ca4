"""Domain errors and the one JSON error contract: {"error": {"code", "message", "fields"?}}.

Services raise DomainError subclasses; the handlers below turn them (and every HTTP error) into
JSON with the right status, or an HTML page on console and public paths. Never a stack trace."""
import logging
import re
from datetime import timedelta

from flask import current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from . import clock

log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields
        if code:
            self.code = code


class InvalidTransition(DomainError):
    status = 409
    code = "invalid_transition"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


_HTML_PREFIXES = ("/console", "/public", "/m/")
# Where an error page sends people back to: residents to their pages, the public to the 公示 index.
_HOMES = (("/m/", "/m/"), ("/public", "/public/"))

# What a person reads for each status when nothing more precise was said (the code stays English).
HTTP_MESSAGES = {
    400: "请求有误", 401: "请先登录", 403: "没有权限这样操作", 404: "没有找到这个页面或数据",
    405: "不支持这种请求方式", 409: "与当前状态冲突，请刷新后重试", 413: "内容太大了",
    415: "不支持这种文件格式", 422: "请检查填写的内容", 429: "操作太频繁，请稍后再试",
    500: "系统出错了，请稍后再试", 503: "服务暂时不可用，请稍后再试",
}

_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_failed", 429: "too_many_requests",
    500: "internal_error", 503: "unavailable",
}


def _wants_html() -> bool:
    return request.path.startswith(_HTML_PREFIXES)


def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   headers: dict | None = None):
    if _wants_html():
        home = next((h for prefix, h in _HOMES if request.path.startswith(prefix)), "/console/")
        wait = until = None
        if status == 429 and headers and headers.get("Retry-After"):
            seconds = int(headers["Retry-After"])
            wait = max(1, -(-seconds // 60))
            until = clock.local(clock.now() + timedelta(seconds=seconds), current_app.config["TIMEZONE"]).strftime("%H:%M")
        return render_template("errors/error.html", status=status, code=code, message=message,
                               fields=fields, home=home, wait=wait, until=until), status, headers or {}
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify({"error": body}), status, headers or {}


def _fields_of(error: HTTPException) -> dict | None:
    # webargs/flask-smorest put marshmallow messages under data["messages"][location].
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if not messages:
        return None
    if isinstance(messages, dict) and len(messages) == 1 and next(iter(messages)) in (
            "json", "query", "form", "files", "headers", "view_args"):
        return next(iter(messages.values()))
    return messages


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    code = _HTTP_CODES.get(status, "error")
    fields = _fields_of(error)
    # A description our code gave (abort(400, "页面已过期…")) is said as is; werkzeug's own English
    # default is for logs, a person reads the status's words.
    given = isinstance(error.description, str) and error.description != type(error).description and status != 422
    message = error.description if given else HTTP_MESSAGES.get(status, HTTP_MESSAGES[400 if status < 500 else 500])
    return error_response(status, code, message, fields)


def handle_domain_error(error: DomainError):
    retry_after = getattr(error, "retry_after", None)  # a 429 says when to come back
    return error_response(error.status, error.code, error.message, error.fields,
                          {"Retry-After": str(retry_after)} if retry_after else None)


def handle_database_unavailable(error: Exception):
    """The database refused or dropped the connection (restart, failover): nothing was committed,
    so the client may retry. Anything else SQLAlchemy raises stays a 500."""
    from .extensions import db
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the pool drops it
        pass
    if not _is_disconnect(error):
        return handle_unexpected(error)
    log.warning("database unavailable on %s %s: %s", request.method, request.path, type(error).__name__)
    return error_response(503, "database_unavailable", "数据库暂时不可用，请稍后再试",
                          headers={"Retry-After": "5"})


def _is_disconnect(error: Exception) -> bool:
    from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError, InterfaceError
    if isinstance(error, DisconnectionError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    # Connect refused or server gone: psycopg reports these as OperationalError/InterfaceError.
    # SQLite's OperationalError ("database is locked", "no such table") is not an outage.
    return isinstance(error, (OperationalError, InterfaceError)) and "sqlite" not in type(error.orig).__module__


def handle_unexpected(error: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", HTTP_MESSAGES[500])


# A requests error names the URL it failed on, and WeChat's URLs carry credentials as query
# parameters (access_token on every call, secret on the token fetch); a bearer token or a password
# must not reach a log line either, whoever wrote it.
_URL_CREDENTIALS = re.compile(r"\b(access_token|secret|js_code|password|token)=[^&\s'\"()]+")
_BEARER = re.compile(r"\b(Bearer)\s+[A-Za-z0-9._~+/=-]+")


def redact(message: str) -> str:
    return _BEARER.sub(r"\1 ***", _URL_CREDENTIALS.sub(r"\1=***", message))


def describe(error: Exception, limit: int = 500) -> str:
    """`Type: message` of an exception for logs and error columns, credentials blanked."""
    return redact(f"{type(error).__name__}: {error}")[:limit]


class Redact(logging.Filter):
    """Credentials blanked in every record a handler writes, its traceback included."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def redact_logs() -> None:
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, Redact) for f in handler.filters):
            handler.addFilter(Redact())


def register(app):
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    from sqlalchemy.exc import DBAPIError, DisconnectionError
    app.register_error_handler(DBAPIError, handle_database_unavailable)
    app.register_error_handler(DisconnectionError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
