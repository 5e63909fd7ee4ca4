"""Revocable sessions. Tokens and session cookies are signed, not stored: each carries its account's
session version, and bumping the version (logout, password reset, deactivation, reactivation) ends
every token and cookie issued before, on every device. A session cookie also carries when it was
signed in: after SESSION_LIFETIME_SECONDS (a working day) it ends, however it is used meanwhile."""
from flask import current_app

from .. import clock
from ..extensions import db

# The session cookie's key holding each kind of subject's id (console: staff, H5 pages: residents).
KEYS = {"staff": "staff_id", "resident": "resident_id"}


def version(subject) -> int:
    return subject.session_version or 0


def revoke(subject) -> None:
    """End every session of this account (the caller commits)."""
    subject.session_version = version(subject) + 1


def sign_in(store, kind: str, subject) -> None:
    """Put the subject into a session cookie (`store`: flask.session, or a test's session)."""
    key = KEYS[kind]
    store[key] = subject.id
    store[f"{key}.v"] = version(subject)
    store[f"{key}.since"] = int(clock.now().timestamp())


def sign_out(store, kind: str) -> None:
    key = KEYS[kind]
    for name in (key, f"{key}.v", f"{key}.since"):
        store.pop(name, None)


def signed_in(store, kind: str, model):
    """The subject of the session cookie, or None when there is none, it is gone, its version was
    bumped since, or the session is older than the lifetime (a cookie without those marks is from
    before sessions were revocable: signed out too)."""
    key = KEYS[kind]
    subject_id = store.get(key)
    subject = db.session.get(model, subject_id) if isinstance(subject_id, int) else None
    if subject is None:
        return None
    since = store.get(f"{key}.since")
    age = clock.now().timestamp() - since if isinstance(since, int) else None
    if age is None or age > current_app.config["SESSION_LIFETIME_SECONDS"] or store.get(f"{key}.v") != version(subject):
        sign_out(store, kind)
        return None
    return subject
