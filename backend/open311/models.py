"""Partner systems that file requests through Open311 GeoReport v2, each with its own api_key."""
import hashlib
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import db
from ..types import UTCDateTime


def key_digest(api_key: str) -> str:
    """Keys are stored as their SHA-256: a leaked table gives nobody a working key. (A key is 32
    random bytes, so a plain hash is enough; a slow password hash would only slow every POST.)"""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


class Partner(db.Model):
    __tablename__ = "partners"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(8))  # shown to staff to tell keys apart
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
