"""/m/wishes: the wish board on a phone. A resident posts a wish; a resident registered with the
community (双报到: party member, volunteer, a partner unit's contact) sees the published wishes,
claims one, fulfils it; the wisher confirms. The same services as everywhere (backend/wishes)."""
import secrets

from flask import current_app, flash, g, redirect, render_template, request, send_file, url_for

from ..errors import DomainError
from ..wishes import registry, schemas, services
from ..extensions import db
from ..masking import mask
from ..orders import photos as photo_store
from .views import bp, resident_required

_ACTIONS = {"claim": schemas.NoteForm, "release": schemas.NoteForm, "fulfil": schemas.FulfilForm,
            "confirm": schemas.NoteForm, "withdraw": schemas.NoteForm}
_DONE = {"claim": "认领成功，请在时限内完成", "release": "已放弃认领", "fulfil": "已提交，等待居民确认",
         "confirm": "已确认，谢谢您的反馈", "withdraw": "已撤回"}




@bp.app_template_filter("masked")
def _masked(text):
    """Another resident's wish as members read it: their name, phone and house number masked."""
    return mask(text)


def _refused(error: DomainError) -> None:
    db.session.rollback()
    flash(("error", error.message))  # always Chinese (tests/unit/test_chinese_only.py)


def _form_errors(error: DomainError):
    """A refused form: its page again with the messages beside the fields (422)."""
    _refused(error)
    return error.fields or {}


@bp.get("/wishes")
@resident_required
def wishes():
    return render_template("h5/wishes.html", board=services.board(g.actor), mine=services.my_wishes(g.actor))


@bp.route("/wishes/new", methods=["GET", "POST"])
@resident_required
def wish_new():
    errors, status = {}, 200
    if request.method == "POST":
        try:
            data = schemas.load(schemas.WishForm(), request.form)
            wish = services.create_wish(g.actor, community_id=data["community"], text=data["text"],
                                        beneficiary=data.get("beneficiary"), wanted_by=data.get("wanted_by"),
                                        idempotency_key=request.form.get("client_id") or None,
                                        photos=_uploaded())
            flash(("ok", "心愿已提交，社区审核后会发布到心愿墙"))
            return redirect(url_for("h5.wish", wish_id=wish.id))
        except DomainError as error:
            errors, status = _form_errors(error), error.status
    # The form's client_id makes a double tap one wish, not two.
    return render_template("h5/wish_new.html", communities=registry.open_communities(), errors=errors,
                           form=request.form, client_id=secrets.token_hex(16)), status


@bp.get("/wishes/<int:wish_id>")
@resident_required
def wish(wish_id):
    found = services.get_wish(g.actor, wish_id)
    holder = found.claimant is not None and found.claimant.resident_id == g.actor.id
    return render_template("h5/wish.html", wish=found, mine=found.resident_id == g.actor.id, holder=holder)


@bp.post("/wishes/<int:wish_id>/<any(claim,release,fulfil,confirm,withdraw):action>")
@resident_required
def wish_action(wish_id, action):
    try:
        found = services.get_wish(g.actor, wish_id)
        given = schemas.load(_ACTIONS[action](), request.form)
        if action == "fulfil":
            given["photos"] = _uploaded()
        services.perform(g.actor, found, action, **given)
        flash(("ok", _DONE[action]))
    except DomainError as error:
        _refused(error)
        if error.status == 404:
            return redirect(url_for("h5.wishes"))
    return redirect(url_for("h5.wish", wish_id=wish_id))


def _uploaded() -> list[dict]:
    """The form's photo, checked (JPEG, PNG or WebP, PHOTO_MAX_BYTES) and stored, or none."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return []
    body = upload.read(int(current_app.config["PHOTO_MAX_BYTES"]) + 1)  # one byte past the limit is enough
    return [photo_store.store(body, "wishes")]


@bp.get("/wishes/<int:wish_id>/photos/<int:index>")
@resident_required
def wish_photo(wish_id, index):
    path, content_type = services.photo_file(g.actor, wish_id, index)
    return send_file(path, mimetype=content_type)


@bp.route("/volunteer", methods=["GET", "POST"])
@resident_required
def volunteer():
    errors, status = {}, 200
    if request.method == "POST":
        try:
            data = schemas.load(schemas.RegisterForm(), request.form)
            registry.register(g.actor, community_id=data.pop("community"), **data)
            flash(("ok", "报到成功，可以认领社区的微心愿了"))
            return redirect(url_for("h5.wishes"))
        except DomainError as error:
            errors, status = _form_errors(error), error.status
    return render_template("h5/volunteer.html", communities=registry.open_communities(), errors=errors,
                           form=request.form, memberships=services.memberships(g.actor)), status
