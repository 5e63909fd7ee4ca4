"""A CSRF token per browser session, checked on every form post of the console and the H5 pages."""
import hmac
import secrets

from flask import request, session


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def csrf_ok() -> bool:
    sent, expected = request.form.get("csrf", ""), session.get("csrf", "")
    return bool(expected) and hmac.compare_digest(sent, expected)
