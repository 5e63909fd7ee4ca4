"""Links to this site that leave it (WeChat OAuth's redirect_uri, Open311's discovery): built on
the configured PUBLIC_URL, never on the request's Host header, which whoever sends the request
chooses (a forged Host would send a resident's OAuth code to another site). Only development,
where PUBLIC_URL is empty, falls back to the request's own address; production requires it
(config.check_production), so there it is always https."""
from flask import current_app, request


def external_url(path: str) -> str:
    """The absolute URL of `path` (a path of this app, e.g. from url_for)."""
    base = current_app.config.get("PUBLIC_URL") or request.url_root
    return base.rstrip("/") + "/" + path.lstrip("/")
