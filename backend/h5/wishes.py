"""/m/wishes: the wish board on a phone. A resident posts a wish; a resident registered with the
community (双报到: party member, volunteer, a partner unit's contact) sees the published wishes,
claims one, fulfils it; the wisher confirms. The same services as everywhere (backend/wishes)."""
import secrets

from flask import flash, g, redirect, render_template, request, url_for

from .. import storage

from ..masking import mask
from ..orders import photos as photo_store
from ..pages import back_to, load, uploads
from ..wishes import registry, schemas, services
from .views import bp, resident_required

_ACTIONS = {"claim": schemas.NoteForm, "release": schemas.NoteForm, "fulfil": schemas.FulfilForm,
            "confirm": schemas.NoteForm, "withdraw": schemas.NoteForm}
_DONE = {"claim": "认领成功，请在时限内完成", "release": "已放弃认领", "fulfil": "已提交，等待居民确认",
         "confirm": "已确认，谢谢您的反馈", "withdraw": "已撤回"}




@bp.app_template_filter("masked")
def _masked(text):
    """Another resident's wish as members read it: their name, phone and house number masked."""
    return mask(text)


def _form_page(template: str, context):
    """A form page again after a refusal: its message flashed, the fields' messages beside them."""
    def render(error):
        flash(("error", error.message))
        return render_template(template, errors=error.fields or {}, form=request.form, **context()), error.status
    return render


@bp.get("/wishes")
@resident_required
def wishes():
    board = services.board(g.actor)
    # The wall: the wishes a member may claim; for a resident not registered (双报到), what 公示
    # shows everyone (masked), to read — claiming starts with 报到.
    wall = None if board["memberships"] else services.public_board(limit=30)
    return render_template("h5/wishes.html", board=board, wall=wall, mine=services.my_wishes(g.actor))


def _new_wish_context():
    # The form's client_id makes a double tap one wish, not two.
    return {"communities": registry.open_communities(), "client_id": secrets.token_hex(16)}


@bp.route("/wishes/new", methods=["GET", "POST"])
@resident_required
@back_to(_form_page("h5/wish_new.html", _new_wish_context))
def wish_new():
    if request.method == "POST":
        data = load(schemas.WishForm())
        wish = services.create_wish(g.actor, community_id=data["community"], text=data["text"],
                                    beneficiary=data.get("beneficiary"), wanted_by=data.get("wanted_by"),
                                    idempotency_key=request.form.get("client_id") or None, photos=_uploaded())
        flash(("ok", "心愿已提交，社区审核后会发布到心愿墙"))
        return redirect(url_for("h5.wish", wish_id=wish.id))
    return render_template("h5/wish_new.html", errors={}, form=request.form, **_new_wish_context())


@bp.get("/wishes/<int:wish_id>")
@resident_required
def wish(wish_id):
    found = services.get_wish(g.actor, wish_id)
    holder = found.claimant is not None and found.claimant.resident_id == g.actor.id
    return render_template("h5/wish.html", wish=found, mine=found.resident_id == g.actor.id, holder=holder)


@bp.post("/wishes/<int:wish_id>/<any(claim,release,fulfil,confirm,withdraw):action>")
@resident_required
@back_to("h5.wish")
def wish_action(wish_id, action):
    found = services.get_wish(g.actor, wish_id)
    given = load(_ACTIONS[action]())
    if action == "fulfil":
        given["photos"] = _uploaded()
    services.perform(g.actor, found, action, **given)
    flash(("ok", _DONE[action]))
    return redirect(url_for("h5.wish", wish_id=wish_id))


def _uploaded() -> list[dict]:
    """The form's photo, checked (JPEG, PNG or WebP, PHOTO_MAX_BYTES) and stored, or none."""
    return [photo_store.store(body, "wishes") for body in uploads()]


@bp.get("/wishes/<int:wish_id>/photos/<int:index>")
@resident_required
def wish_photo(wish_id, index):
    key, content_type = services.photo_file(g.actor, wish_id, index)
    return storage.store().send(key, content_type)


def _volunteer_context():
    return {"communities": registry.open_communities(), "memberships": services.memberships(g.actor)}


@bp.route("/volunteer", methods=["GET", "POST"])
@resident_required
@back_to(_form_page("h5/volunteer.html", _volunteer_context))
def volunteer():
    if request.method == "POST":
        data = load(schemas.RegisterForm())
        registry.register(g.actor, community_id=data.pop("community"), **data)
        flash(("ok", "报到成功，可以认领社区的微心愿了"))
        return redirect(url_for("h5.wishes"))
    return render_template("h5/volunteer.html", errors={}, form=request.form, **_volunteer_context())
