"""What of an order's history the resident who sent it (or co-reported it) sees: the API and the H5 read the same rule.

Staff write notes to each other when they assign, release, transfer or place an order, and the
product writes its own (content checks, overdue marks): those stay inside. The resident sees every
step of their order, and the words only of the steps that answer them."""
from sqlalchemy import select

from ..accounts.models import Resident, Staff, mask_name
from ..extensions import db
from ..labels import label
from .services import needs_contact

HIDDEN_FROM_RESIDENT = frozenset({"content_check", "content_flag", "note", "overdue"})
NOTES_FOR_RESIDENT = frozenset({"progress", "resolve", "rate", "reopen", "cancel", "reply"})


def for_resident(events) -> list:
    return [e for e in events if e.action not in HIDDEN_FROM_RESIDENT]


def note_for_resident(event, viewer: int | None = None) -> str | None:
    """The step's words for the resident who sent it; a co-reporter (`viewer`: their id) reads
    staff's words and their own, never another resident's comment or withdrawal note, nor a staff
    reply (回复居民): it goes to the reporter alone and names them ({居民称呼}), so a co-reporter sees
    only that staff replied."""
    if event.action not in NOTES_FOR_RESIDENT:
        return None
    if viewer is not None and event.actor_type in ("resident", "bot") and event.actor_id != viewer:
        return None
    if viewer is not None and event.action == "reply":
        return None
    return event.note


def who_label(actor_type: str, name: str | None, role: str | None) -> str:
    """操作人 as a row of the staff timeline says it."""
    if actor_type == "staff":
        return f"{name or '工作人员'}（{label('roles', role) or '工作人员'}）"
    return {"resident": f"居民{(' ' + name) if name else ''}", "system": "系统（自动）", "bot": "智能助手",
            "partner": "合作平台"}.get(actor_type, label("actor_kinds", actor_type) or "")


def for_staff(actor, order) -> list[dict]:
    """The order's whole history for staff (issue 24): when, 操作人, what (the action and the state it
    moved), and the note. Staff are named (colleagues answer for their steps); the resident is named
    only to those who may see the reporter's name (`services.needs_contact`), masked for the rest."""
    events = list(order.events)
    staff_ids = {e.actor_id for e in events if e.actor_type == "staff" and e.actor_id}
    staff = {s.id: (s.name, s.role) for s in db.session.scalars(select(Staff).where(Staff.id.in_(staff_ids)))} \
        if staff_ids else {}
    resident = db.session.get(Resident, order.resident_id) if order.resident_id else None
    plain = needs_contact(actor, order)
    rows = []
    for e in events:
        if e.actor_type == "staff":
            name, role = staff.get(e.actor_id, (None, None))
        else:
            name, role = None, None
            if e.actor_type == "resident" and resident is not None and e.actor_id == resident.id:
                name = resident.name if plain else mask_name(resident.name)
        rows.append({"at": e.created_at, "action": e.action, "who": who_label(e.actor_type, name, role),
                     "from": e.from_state, "to": e.to_state, "note": e.note})
    return rows
