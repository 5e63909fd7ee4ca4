"""Staff login and resident accounts."""
from sqlalchemy import select

from .. import text
from ..errors import Unauthorized
from ..extensions import db
from . import tokens
from .models import Staff


def authenticate(username: str, password: str) -> Staff:
    # No username has control characters, and PostgreSQL refuses a NUL in a query: nobody by that name.
    staff = db.session.scalar(select(Staff).where(Staff.username == username)) if text.is_clean(username) else None
    # Same answer for unknown user and wrong password: do not reveal which usernames exist.
    if staff is None or not staff.active or not staff.check_password(password):
        raise Unauthorized("wrong username or password", code="bad_credentials")
    return staff


def login(username: str, password: str) -> dict:
    staff = authenticate(username, password)
    return {**tokens.issue("staff", staff.id, staff.role), "name": staff.name}
