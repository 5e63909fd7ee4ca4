"""Disputes on the console (定、商、决、办、馈): the list in scope, the register form, and a dispute's
page whose forms are its allowed actions. Forms are turned into the API's input shape and loaded by
the API's schemas; `disputes.services` decides everything else."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from .. import storage
from ..grids.scope import grids_in_scope
from ..disputes import lifecycle, services
from ..disputes.models import CONSENTS, METHODS, PARTY_KINDS, TOPICS
from ..disputes.schemas import DisputeActionSchema, DisputeCreateSchema
from ..labels import label
from ..pages import all_uploads, back_to, load
from ..text import clean_all
from .auth import login_required
from .blueprint import bp

# The form fields each action shows (its row's required input first, then what it accepts).
FORM_FIELDS = {
    "add_party": ("party_kind", "party_name"),
    "open_deliberation": ("note",),
    "hold_meeting": ("held_at", "place", "attendees", "positions", "minutes", "photo"),
    "decide": ("method", "decision", "votes_for", "votes_against", "votes_abstain"),
    "add_task": ("text", "location_text"),
    "finish_work": ("result",),
    "give_feedback": ("feedback",),
    "record_consent": ("party_id", "consent"),
    "publish": (),
    "close": ("note",),
    "escalate": ("reason",),
}
PARTY_ROWS = 4  # party lines on the register form; more are added on the dispute's page
_INTS = ("votes_for", "votes_against", "votes_abstain", "party_id")


def _split(value: str, pattern=("，", "、", ";", "；", "\n")) -> list[str]:
    for sep in pattern:
        value = value.replace(sep, ",")
    return [part.strip() for part in value.split(",") if part.strip()]


def _action_input(form) -> dict:
    """The form's strings in the API's shape: lists split, numbers and the local time parsed (what
    does not parse is passed on as it is, for the schema to refuse with its field named)."""
    data = {k: v.strip() for k, v in clean_all(form.to_dict()).items() if k not in ("csrf", "do") and v.strip()}
    if "party_kind" in data or "party_name" in data:
        data["party"] = {"kind": data.pop("party_kind", ""), "name": data.pop("party_name", "")}
    if "attendees" in data:
        data["attendees"] = _split(data["attendees"])
    if "photos" in data:
        data["photos"] = _split(data["photos"], ("\n", " "))
    for name in _INTS:
        if data.get(name, "").isascii() and data.get(name, "").isdigit():
            data[name] = int(data[name])
    if "held_at" in data:
        try:  # datetime-local is the staff's local time
            local = datetime.fromisoformat(data["held_at"]).replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
            data["held_at"] = local.isoformat()
        except ValueError:
            pass
    return data


@bp.get("/disputes")
@login_required
def disputes():
    return render_template("console/disputes.html", disputes=services.list_disputes(g.actor, limit=200))


def _new_page(error=None, status=200):
    return render_template("console/dispute_new.html", error=error, topics=TOPICS, kinds=PARTY_KINDS,
                           rows=range(PARTY_ROWS), grids=grids_in_scope(g.actor), form=request.form), status


@bp.get("/disputes/new")
@login_required
def dispute_new():
    return _new_page()


@bp.post("/disputes/new")
@login_required
@back_to(lambda refused: _new_page(refused.message, refused.status))
def dispute_register():
    form = clean_all(request.form.to_dict(flat=False))
    parties = [{"kind": k, "name": n.strip()} for k, n in zip(form.get("party_kind", []), form.get("party_name", []))
               if n.strip()]
    given = {"topic": (form.get("topic") or [""])[0], "parties": parties,
             **{k: form[k][0].strip() for k in ("subject", "order_number", "grid") if (form.get(k) or [""])[0].strip()}}
    dispute = services.register(g.actor, **load(DisputeCreateSchema(), given, names="dispute_inputs"))
    flash(("ok_text", "纠纷已登记"))
    return redirect(url_for("console.dispute", dispute_id=dispute.id))


@bp.get("/disputes/<int:dispute_id>")
@login_required
def dispute(dispute_id):
    found = services.get(g.actor, dispute_id)
    forms = [(name, FORM_FIELDS[name], lifecycle.ACTIONS[name].required_for(g.actor))
             for name in found.allowed_actions]
    return render_template("console/dispute.html", d=found, forms=forms, kinds=PARTY_KINDS, methods=METHODS,
                           consents=CONSENTS, step_of={name: row.step for name, row in lifecycle.ACTIONS.items()})


@bp.post("/disputes/<int:dispute_id>/<string:action>")
@login_required
@back_to("console.dispute")
def dispute_act(dispute_id, action):
    if action not in lifecycle.REQUESTABLE:
        abort(404)
    data = load(DisputeActionSchema(), _action_input(request.form), names="dispute_inputs")
    given = {k: v for k, v in data.items() if v is not None}
    if action == "hold_meeting":  # photos uploaded with the meeting (issue 24), not pasted links
        services.hold_meeting_with_photos(g.actor, services.get(g.actor, dispute_id), all_uploads(), **given)
    else:
        services.perform(g.actor, services.get(g.actor, dispute_id), action, **given)
    flash(("ok_text", "已" + label("dispute_actions", action)))
    return redirect(url_for("console.dispute", dispute_id=dispute_id))


@bp.get("/disputes/<int:dispute_id>/photos/<path:name>")
@login_required
def dispute_photo(dispute_id, name):
    """A meeting photo, for staff who may see the dispute (404 for anyone else)."""
    key, content_type = services.meeting_photo(g.actor, dispute_id, name)
    response = storage.store().send(key, content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
