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
from ..chat import talk
from ..chat.schemas import ChatSchema
from ..csrf import csrf_ok, csrf_token
from ..labels import label
from ..orders import photos, services as orders, timeline
from ..orders.schemas import RatingSchema
from ..urls import external_url
from ..pages import back_to, load, upload
from ..orders import states
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
    # The conversation so far (kept per resident for the session's lifetime, backend/chat/talk.py):
    # the last turn's buttons are the ones to tap; a fresh client_id for the next message.
    return render_template("h5/home.html", orders=orders.list_orders(g.actor, limit=30),
                           turns=talk.history(g.actor.id), client_id=secrets.token_hex(16),
                           unclaimed=states.UNCLAIMED_STATES, open_states=states.OPEN_STATES)


@bp.post("/chat")
@resident_required
@back_to("h5.home")
def send():
    ratelimits.check("RATE_LIMIT_CHAT", "h5-chat", str(g.actor.id))  # the API's budget, counted apart
    data = load(ChatSchema())
    # The form's client_id makes a double tap or a resent form one message, not two orders.
    talk.say(g.actor, data["text"], shown=_shown(request.form.get("text", "").strip()),
             client_id=data["client_id"])
    return redirect(url_for("h5.home", _anchor="latest"))


def _shown(text: str) -> str:
    """What the resident said: a tapped button's words (附议 / 不是一回事) rather than its payload."""
    turns = talk.history(g.actor.id)
    offered = turns[-1]["buttons"] if turns else []
    return next((b["title"] for b in offered if b["payload"] == text), text)


@bp.post("/chat/photo")
@resident_required
@back_to("h5.home")
def send_photo():
    """拍照 / 相册 in the chat: the photo goes with the order being described (or the open one)."""
    ratelimits.check("RATE_LIMIT_CHAT", "h5-chat", str(g.actor.id))
    talk.photo(g.actor, upload(), client_id=request.form.get("client_id") or None)
    return redirect(url_for("h5.home", _anchor="latest"))


@bp.get("/orders/<string:number>")
@resident_required
def order(number):
    found = orders.get_order(g.actor, number)
    steps = [(e, timeline.note_for_resident(e, found.co_viewer)) for e in timeline.for_resident(found.events)]
    return render_template("h5/order.html", order=found, timeline=steps)


def _done(number, message: str):
    flash(("ok", message))
    return redirect(url_for("h5.order", number=number))


@bp.get("/orders/<string:number>/cancel")
@resident_required
def cancel_confirm(number):
    """撤回 asks first: a page of its own (the CSP allows no script for a confirm dialog)."""
    return render_template("h5/cancel.html", order=orders.get_order(g.actor, number))


@bp.post("/orders/<string:number>/cancel")
@resident_required
@back_to("h5.order")
def cancel(number):
    if request.form.get("confirm") != "yes":  # only the confirmation page's button withdraws
        return redirect(url_for("h5.cancel_confirm", number=number))
    orders.perform(g.actor, orders.get_order(g.actor, number), "cancel")
    return _done(number, "诉求已撤回，网格员不再办理。问题还在的话，可以随时在对话里重新反映。")


# What happens after a rating, by the state it leaves the order in.
_RATED = {states.REOPENED: "已重新交给网格员办理，网格员会尽快联系您；办好后请您再评价。"}


@bp.post("/orders/<string:number>/rating")
@resident_required
@back_to("h5.order")
def rate(number):
    rated = orders.rate(g.actor, orders.get_order(g.actor, number), **load(RatingSchema()))
    return _done(number, _RATED.get(rated.state, "感谢评价，此件已办结。"))


@bp.post("/orders/<string:number>/photos")
@resident_required
@back_to("h5.order")
def add_photo(number):
    photos.attach(g.actor, orders.get_order(g.actor, number), upload())
    return _done(number, "照片已补充，网格员办理时能看到。")


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
    talk.forget(g.resident.id)  # the kept conversation and photos waiting for an order go too
    sessions.sign_out(session, "resident")
    return render_template("h5/logged_out.html")
