"""Where the files behind our own /uploads/ URLs live (photos we stored under UPLOAD_DIR)."""
from pathlib import Path

from flask import current_app

PREFIX = "/uploads/"


def path_of(url: str) -> Path | None:
    """The stored file behind an /uploads/ URL, or None: another site's URL, a path that would leave
    UPLOAD_DIR, or a file that is not there (any more)."""
    if not url or not url.startswith(PREFIX):
        return None
    root = Path(current_app.config["UPLOAD_DIR"]).resolve()
    path = (root / url[len(PREFIX):]).resolve()
    return path if root in path.parents and path.is_file() else None
