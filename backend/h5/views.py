"""/m/: the resident's pages in a phone browser (WeChat's in-app browser): chat with the bot, my
orders with their timeline and deadlines, withdraw, rate, add photos. The same services as the API
and the mini-program; identity only through WeChat web OAuth — there is no other way in."""
import secrets
from functools import wraps

from flask import (Blueprint, abort, flash, g, redirect, render_template, request,
                   session, url_for)

from .. import pages, ratelimits, storage
from ..accounts import services as accounts, sessions
from ..accounts.actors import Actor
from ..accounts.models import Resident
from ..chat import services as chat
from ..chat.schemas import ChatSchema
from ..csrf import csrf_ok, csrf_token
from ..labels import label
from ..orders import photos, services as orders, timeline
from ..orders.schemas import RatingSchema
from ..urls import external_url
from ..pages import back_to, load, upload
from ..wechat import oauth

bp = Blueprint("h5", __name__, url_prefix="/m")
pages.register(bp)  # one DomainError handler: a refused page or a flashed refusal (pages.back_to)


@bp.record_once
def _template_globals(state):
    state.app.jinja_env.globals.update(csrf_token=csrf_token, label=label)


def resident_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        resident = sessions.signed_in(session, "resident", Resident)
        if resident is None:
            return redirect(url_for("h5.login", next=request.path))
        if request.method == "POST" and not csrf_ok():
            abort(400, "页面已过期，请刷新后重试")
        g.resident, g.actor = resident, Actor.for_resident(resident)
        return view(*args, **kwargs)
    return wrapped


@bp.get("/login")
def login():
    """Off to WeChat, which sends the resident back to oauth_callback with a code."""
    state = secrets.token_urlsafe(16)
    session["oauth_state"], session["after_login"] = state, _safe_next(request.args.get("next"))
    return redirect(oauth.authorize_url(external_url(url_for("h5.oauth_callback")), state))


def _safe_next(target: str | None) -> str:
    # Our own pages only, and no line break (it would go into the Location header: a 500).
    ours = target and target.startswith("/m/") and not target.startswith("//") and target.isprintable()
    return target if ours else url_for("h5.home")


@bp.get("/oauth/callback")
def oauth_callback():
    state, code = request.args.get("state", ""), request.args.get("code", "")
    expected = session.pop("oauth_state", None)
    if not code or not expected or not secrets.compare_digest(state, expected):
        abort(400, "微信授权未完成，请从微信里重新打开页面")
    resident = oauth.resident_for_code(code)
    target = session.pop("after_login", None) or url_for("h5.home")
    sessions.sign_in(session, "resident", resident)
    session["csrf"] = secrets.token_urlsafe(24)  # a new form token with every new identity
    return redirect(_safe_next(target))


@bp.get("/")
@resident_required
def home():
    return render_template("h5/home.html", orders=orders.list_orders(g.actor, limit=30),
                           talk=session.pop("talk", None), client_id=secrets.token_hex(16))


@bp.post("/chat")
@resident_required
@back_to("h5.home")
def send():
    ratelimits.check("RATE_LIMIT_CHAT", "h5-chat", str(g.actor.id))  # the API's budget, counted apart
    data = load(ChatSchema())
    # The form's client_id makes a double tap or a resent form one message, not two orders.
    answer = chat.handle_message(g.actor.id, data["text"], channel="h5", client_id=data["client_id"])
    session["talk"] = {"you": _shown(request.form.get("text", "").strip()), **answer}
    session["offered"] = answer.get("buttons") or []  # 附议 / 不是一回事: tapped, shown by their words
    return redirect(url_for("h5.home"))


def _shown(text: str) -> str:
    """What the resident said: a tapped button's words rather than its payload."""
    return next((b["title"] for b in session.pop("offered", None) or [] if b["payload"] == text), text)


@bp.get("/orders/<string:number>")
@resident_required
def order(number):
    found = orders.get_order(g.actor, number)
    steps = [(e, timeline.note_for_resident(e, found.co_viewer)) for e in timeline.for_resident(found.events)]
    return render_template("h5/order.html", order=found, timeline=steps)


def _done(number):
    flash(("ok", "已提交"))
    return redirect(url_for("h5.order", number=number))


@bp.post("/orders/<string:number>/cancel")
@resident_required
@back_to("h5.order")
def cancel(number):
    orders.perform(g.actor, orders.get_order(g.actor, number), "cancel")
    return _done(number)


@bp.post("/orders/<string:number>/rating")
@resident_required
@back_to("h5.order")
def rate(number):
    orders.rate(g.actor, orders.get_order(g.actor, number), **load(RatingSchema()))
    return _done(number)


@bp.post("/orders/<string:number>/photos")
@resident_required
@back_to("h5.order")
def add_photo(number):
    photos.attach(g.actor, orders.get_order(g.actor, number), upload())
    return _done(number)


@bp.get("/orders/<string:number>/photos/<int:attachment_id>")
@resident_required
def photo(number, attachment_id):
    found = orders.get_order(g.actor, number)  # only the resident's own order (404 otherwise)
    attachment = next((a for a in found.attachments if a.id == attachment_id), None)
    if attachment is None or not attachment.url.startswith("/uploads/"):
        abort(404)
    key, content_type = photos.file_for(g.actor, attachment.url[len("/uploads/"):])
    return storage.store().send(key, content_type)


@bp.post("/logout")
@resident_required
def logout():
    # Out of this browser and every other (a copied cookie too), and the mini-program's tokens.
    accounts.logout(Actor.for_resident(g.resident))
    sessions.sign_out(session, "resident")
    return render_template("h5/logged_out.html")
