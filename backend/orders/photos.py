"""Photos residents and staff upload: the type is read from the file's first bytes (never from its
name or the browser's word for it), the size is limited, and the file lands under UPLOAD_DIR with a
random name. Only JPEG, PNG and WebP are accepted: what phones take, and nothing a browser would run."""
import uuid
from pathlib import Path

from flask import current_app

from .. import clock
from ..errors import ValidationFailed

_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, suffix) of an image by its magic bytes, or None."""
    for magic, content_type, suffix in _SIGNATURES:
        if head.startswith(magic):
            return content_type, suffix
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)} KB"


def store(data: bytes, folder: str = "h5") -> dict:
    """Keep an uploaded photo; returns what an Attachment records (url, content_type, size)."""
    limit = int(current_app.config["PHOTO_MAX_BYTES"])
    if not data:
        raise ValidationFailed("请选择一张照片", fields={"photo": ["empty"]})
    if len(data) > limit:
        raise ValidationFailed(f"照片不能超过 {_size(limit)}", fields={"photo": ["too large"]})
    kind = sniff(data[:16])
    if kind is None:
        raise ValidationFailed("只能上传 JPEG、PNG 或 WebP 格式的照片", fields={"photo": ["not an image"]})
    content_type, suffix = kind
    relative = Path(folder) / clock.now().strftime("%Y%m%d") / f"{uuid.uuid4().hex}{suffix}"
    target = Path(current_app.config["UPLOAD_DIR"]) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return {"url": "/uploads/" + relative.as_posix(), "content_type": content_type, "size": len(data)}


def path_of(url: str) -> Path | None:
    """The file behind an /uploads/ URL we stored ourselves (None for anything else)."""
    if not url.startswith("/uploads/"):
        return None
    root = Path(current_app.config["UPLOAD_DIR"]).resolve()
    target = (root / url[len("/uploads/"):]).resolve()
    return target if root in target.parents and target.is_file() else None
