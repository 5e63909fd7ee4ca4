"""Photos people send: the type is read from the file's first bytes, never from its name or from
a Content-Type header (both are whatever the sender says), and the size is bounded. Anything that
is not a JPEG, PNG or WebP image is refused (422) and never written to disk."""
import uuid
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import select

from .. import clock
from ..accounts.actors import in_scope
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..text import is_clean
from . import files
from .models import Attachment

# content type → (file suffix, what its bytes start with)
_KINDS = {
    "image/jpeg": (".jpg", lambda b: b[:3] == b"\xff\xd8\xff"),
    "image/png": (".png", lambda b: b[:8] == b"\x89PNG\r\n\x1a\n"),
    "image/webp": (".webp", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
}


class PhotoRefused(ValidationFailed):
    code = "photo_refused"


def sniff(body: bytes) -> str | None:
    """The image type the bytes are, or None."""
    return next((kind for kind, (_, test) in _KINDS.items() if test(body)), None)


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)} KB"


def check(body: bytes) -> str:
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if not body:
        raise PhotoRefused("请选择一张照片", fields={"photo": ["empty"]})
    if len(body) > limit:
        raise PhotoRefused(f"照片不能超过 {_size(limit)}", fields={"photo": ["too large"]})
    kind = sniff(body)
    if kind is None:
        raise PhotoRefused("只能接收 JPEG、PNG 或 WebP 格式的照片", fields={"photo": ["not a JPEG, PNG or WebP image"]})
    return kind


def store(body: bytes, folder: str) -> dict:
    """Check, then store as <folder>/<day>/<a name of our own> in the file store (backend/storage.py).
    Returns the attachment's fields (url, content_type, size) and the file's key."""
    kind = check(body)
    key = f"{folder}/{clock.now().strftime('%Y%m%d')}/{uuid.uuid4().hex}{_KINDS[kind][0]}"
    files.store().put(key, body, kind)
    return {"url": files.PREFIX + key, "content_type": kind, "size": len(body), "key": key}


def _remove(keys) -> None:
    for key in keys:
        files.store().delete(key)


def attach(actor, order, body: bytes):
    """A resident's photo for their own order (the lifecycle's `attach` row). The bytes are judged
    and the row's checks run before a file is written; a refused change leaves no file behind."""
    from . import lifecycle, services
    check(body)
    if lifecycle.refusal(actor, order, lifecycle.ACTIONS["attach"]):
        return services.perform(actor, order, "attach")  # refuses with the row's status
    photo = store(body, "orders")
    key = photo.pop("key")
    try:
        return services.perform(actor, order, "attach", photos=[photo])
    except Exception:
        _remove([key])
        raise


def file_for(actor, name: str) -> tuple[str, str]:
    """The stored file behind the photo URL /uploads/<name>, for someone who may see its order.
    Anyone else, and any name that is not a stored photo's, gets 404: a URL is no permission."""
    url = "/uploads/" + name
    attachment = (db.session.scalar(select(Attachment).where(Attachment.url == url))
                  if is_clean(url) and len(url) <= 500 else None)
    if attachment is None or not in_scope(actor, attachment.order):
        raise NotFound("没有这张照片")
    key = files.stored_key(url)  # a stored URL, but only a name we make
    if key is None:
        raise NotFound("没有这张照片")
    return key, attachment.content_type or "application/octet-stream"


def act_with_photos(actor, order, action: str, bodies: list[bytes], **given):
    """A staff action whose lifecycle row accepts photos (a progress note, a resolution) with
    photos taken on the phone. Like `attach`: every photo is judged and the row's checks run before
    a file is written, and a refused change leaves no file behind."""
    from . import lifecycle, services
    row = lifecycle.ACTIONS[action]
    if bodies and "photos" not in row.accepts:
        raise PhotoRefused("这一步不能附照片", fields={"photo": ["not accepted by this action"]})
    for body in bodies:
        check(body)
    if lifecycle.refusal(actor, order, row):
        return services.perform(actor, order, action, **given)  # refuses with the row's status
    stored = [store(body, "orders") for body in bodies]
    keys = [photo.pop("key") for photo in stored]
    try:
        return services.perform(actor, order, action, photos=stored, **given)
    except Exception:
        _remove(keys)
        raise


@contextmanager
def stored_for(bodies: list[bytes]):
    """Photos for an order about to be made (a photo report entered by staff): every one judged
    first, then written; if making the order fails, the files are removed again."""
    for body in bodies:
        check(body)
    stored = [store(body, "orders") for body in bodies]
    keys = [photo.pop("key") for photo in stored]
    try:
        yield stored
    except Exception:
        _remove(keys)
        raise
