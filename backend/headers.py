"""Security headers. Every answer: no MIME sniffing. HTML pages also: a Content-Security-Policy
allowing scripts, styles and images from this site only (no inline script, so stored text that
slipped through as markup still could not run), no framing (clickjacking), no referrer to others.
In production every answer also carries HSTS."""
from flask import current_app

CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
])

_HTML = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


# Production is served over HTTPS only: browsers are told to never try plain HTTP for a year (a
# first visit over HTTP could otherwise be downgraded and its session cookie or login read).
HSTS = "max-age=31536000; includeSubDomains"


def secure(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if current_app.config.get("ENV_NAME") == "production":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if response.mimetype == "text/html":
        for name, value in _HTML.items():
            response.headers.setdefault(name, value)
    return response


def register(app) -> None:
    app.after_request(secure)
