"""Console sessions: a signed cookie holding the staff id, and a CSRF token for every form."""
import secrets
from functools import wraps

from flask import abort, g, redirect, request, session, url_for

from ..accounts import services as accounts, sessions
from ..accounts.actors import Actor
from ..accounts.models import Staff
from ..csrf import csrf_ok, csrf_token  # noqa: F401  (the console's templates and views use both)


def login_user(staff: Staff) -> None:
    session.clear()
    sessions.sign_in(session, "staff", staff)
    session["csrf"] = secrets.token_urlsafe(24)


def logout_user(staff: Staff) -> None:
    """Out of this browser and every other: a copied cookie of this account stops working too."""
    accounts.logout(Actor.for_staff(staff))
    session.clear()


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        staff = sessions.signed_in(session, "staff", Staff)
        if staff is None or not staff.active:
            return redirect(url_for("console.login", next=request.path))
        if request.method == "POST" and not csrf_ok():
            abort(400, "表单已过期，请刷新页面后重试")
        g.staff = staff
        g.actor = Actor.for_staff(staff)
        return view(*args, **kwargs)
    return wrapped
