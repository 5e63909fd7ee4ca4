"""Staff login and resident accounts."""
import logging

from sqlalchemy import select

from .. import text
from ..errors import Unauthorized
from ..extensions import db
from . import sessions, tokens
from .actors import Actor
from .models import Resident, Staff

log = logging.getLogger(__name__)


def authenticate(username: str, password: str) -> Staff:
    # No username has control characters, and PostgreSQL refuses a NUL in a query: nobody by that name.
    staff = db.session.scalar(select(Staff).where(Staff.username == username)) if text.is_clean(username) else None
    # Same answer for unknown user and wrong password: do not reveal which usernames exist.
    if staff is None or not staff.active or not staff.check_password(password):
        raise Unauthorized("wrong username or password", code="bad_credentials")
    return staff


def login(username: str, password: str) -> dict:
    staff = authenticate(username, password)
    return {**tokens.issue("staff", staff.id, staff.role, sessions.version(staff)), "name": staff.name}


def logout(actor: Actor) -> None:
    """End every session of the actor's account: all its tokens and session cookies, this one too."""
    model = Staff if actor.is_staff else Resident
    subject = db.session.get(model, actor.id)
    if subject is None:
        raise Unauthorized("unknown account")
    sessions.revoke(subject)
    db.session.commit()
    log.info("%s %s logged out: session version now %s", actor.kind, actor.id, subject.session_version)
