"""Staff login and resident accounts."""
import logging
import secrets

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import text
from ..errors import Unauthorized
from ..extensions import db
from . import sessions, tokens
from .actors import Actor
from .models import Resident, Staff

log = logging.getLogger(__name__)


_DUMMY_HASH: list[str] = []


def _dummy_hash() -> str:
    """A hash of nothing anyone knows, made as Staff.set_password makes theirs (same method, same
    cost): checked when there is no account, so an unknown name takes as long as a wrong password."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash(secrets.token_urlsafe(16)))
    return _DUMMY_HASH[0]


def authenticate(username: str, password: str) -> Staff:
    # No username has control characters, and PostgreSQL refuses a NUL in a query: nobody by that name.
    staff = db.session.scalar(select(Staff).where(Staff.username == username)) if text.is_clean(username) else None
    # Same answer for unknown user and wrong password: do not reveal which usernames exist — nor by
    # the time it takes. The hash is always checked (a dummy one when there is no account, and for
    # a deactivated one too): skipping it answered unknown names 12 times faster than known ones.
    matches = staff.check_password(password) if staff is not None else check_password_hash(_dummy_hash(), password)
    if staff is None or not staff.active or not matches:
        raise Unauthorized("用户名或密码不对", code="bad_credentials")
    return staff


def staff_exists(username: str) -> bool:
    """Is there a staff account by this name (the login limits count failures on names that do not
    exist against the address, on those that do against the account)?"""
    return text.is_clean(username) and db.session.scalar(select(Staff.id).where(Staff.username == username)) is not None


def login(username: str, password: str) -> dict:
    staff = authenticate(username, password)
    return {**tokens.issue("staff", staff.id, staff.role, sessions.version(staff)), "name": staff.name}


def logout(actor: Actor) -> None:
    """End every session of the actor's account: all its tokens and session cookies, this one too."""
    model = Staff if actor.is_staff else Resident
    subject = db.session.get(model, actor.id)
    if subject is None:
        raise Unauthorized("没有这个账号")
    sessions.revoke(subject)
    db.session.commit()
    log.info("%s %s logged out: session version now %s", actor.kind, actor.id, subject.session_version)
