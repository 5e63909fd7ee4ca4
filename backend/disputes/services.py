"""Every write to a dispute happens here, through its lifecycle table (`lifecycle.py`): `register`
for a new one, `perform` for every step after. One transaction per change with its audit event and
its notices; invalid transitions raise InvalidTransition (409)."""
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import clock
from ..accounts.actors import SYSTEM, Actor, in_scope, scope_column
from ..accounts.models import Staff, mask_name
from ..errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from ..extensions import db
from ..grids.models import Grid
from ..labels import label
from ..masking import mask
from ..notifications.services import notify
from ..orders import services as orders
from ..orders.deadlines import WorkCalendar
from ..orders.models import Order
from ..text import clean, for_matching
from ..types import INT32_MAX
from . import lifecycle
from .models import PARTY_KINDS, Dispute, DisputeEvent, DisputeMeeting, DisputeParty, DisputeTask

TEXT_MAX = 2000


def _refuse(message: str, error=Forbidden, **kwargs):
    db.session.rollback()
    raise error(message, **kwargs)


def _due(state: str, now):
    limit = lifecycle.STEP_LIMITS.get(state)
    return WorkCalendar.from_config(current_app.config).add(now, limit) if limit else None


def _event(dispute, actor: Actor, action: str, from_state, note=None, **data) -> DisputeEvent:
    event = DisputeEvent(dispute=dispute, actor_type=actor.kind, actor_id=actor.id, action=action,
                         from_state=from_state, to_state=dispute.state, level=dispute.level, note=note,
                         data=data, created_at=clock.now())
    db.session.add(event)
    return event


def _notify(dispute, row, event) -> None:
    payload = {"dispute": dispute.id, "subject": dispute.subject[:60], "state": dispute.state,
               "level": dispute.level, "step": row.step, "action": row.name, "note": event.note,
               "due": clock.local(dispute.due_at, current_app.config["TIMEZONE"]).strftime("%m-%d %H:%M")
               if dispute.due_at else None}
    for notice in row.notify:
        level = "community" if notice.audience == "community" else dispute.level
        for staff_id in dict.fromkeys(holders(dispute, level)):
            notify("staff", staff_id, notice.key, payload=payload)


def holders(dispute, level: str) -> list[int]:
    """Staff who hold a dispute at a level; nobody configured there means the level above hears it."""
    query = select(Staff.id).where(Staff.active.is_(True))
    if level == "grid" and dispute.grid_id:
        query = query.where(Staff.role.in_(("grid_worker", "grid_leader")), Staff.grid_id == dispute.grid_id)
    elif level in ("grid", "community"):
        query = query.where(Staff.role == "community_admin", Staff.community_id == dispute.community_id)
    else:
        query = query.where(Staff.role == "street_admin", Staff.street_id == dispute.street_id)
    ids = list(db.session.scalars(query.order_by(Staff.id)))
    if not ids and level != "street":
        return holders(dispute, lifecycle.next_level(SimpleNamespace(level=level)) or "street")
    return ids


def _commit(dispute) -> Dispute:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("这件纠纷刚被别人改过，请刷新后重试", code="concurrent_change") from None
    except Exception:
        db.session.rollback()
        raise
    return dispute


def present(actor: Actor, found):
    for dispute in ([found] if isinstance(found, Dispute) else found):
        dispute.allowed_actions = lifecycle.allowed_actions(actor, dispute)
    return found


# --- reading ------------------------------------------------------------------------------------

def get(actor: Actor, dispute_id: int) -> Dispute:
    # An id past the column's range names nothing (and SQLite's driver refuses it).
    dispute = db.session.get(Dispute, dispute_id) if 0 < dispute_id <= INT32_MAX else None
    if dispute is None or not actor.is_staff or not in_scope(actor, dispute):
        raise NotFound(f"no dispute {dispute_id}")  # out of scope looks the same as missing
    return present(actor, dispute)


def list_disputes(actor: Actor, *, state: str | None = None, limit: int = 50, offset: int = 0) -> list[Dispute]:
    if not actor.is_staff:
        raise Forbidden("只有工作人员可以查看纠纷台账")
    query = select(Dispute).order_by(Dispute.id.desc()).options(
        selectinload(Dispute.parties), selectinload(Dispute.meetings), selectinload(Dispute.tasks))
    if actor.role != "sysadmin":
        column = scope_column(actor)
        value = getattr(actor, column, None) if column else None
        if value is None or column not in ("grid_id", "community_id", "street_id"):
            return []  # a department liaison holds no dispute
        query = query.where(getattr(Dispute, column) == value)
    if state:
        query = query.where(Dispute.state == state)
    return present(actor, list(db.session.scalars(query.limit(limit).offset(offset))))


def published(limit: int = 50) -> list[Dispute]:
    """What the 公示 page shows: published disputes, newest first (their text masked when published)."""
    return list(db.session.scalars(select(Dispute).where(Dispute.published_at.is_not(None))
                                   .order_by(Dispute.published_at.desc()).limit(limit)))


# --- 定: register ---------------------------------------------------------------------------------

def register(actor: Actor, *, topic: str, subject: str | None = None, parties: list[dict],
             order_number: str | None = None, grid: str | None = None) -> Dispute:
    """A dispute from an order of kind dispute (its place and text) or registered directly in a grid."""
    row = lifecycle.ACTIONS["register"]
    if actor.kind not in row.actors or actor.role not in row.roles:
        _refuse(f"{actor.role or actor.kind} 无权登记纠纷")
    source = None
    if order_number:
        source = orders.get_order(actor, order_number)  # 404 when out of scope
        if source.kind != "dispute":
            _refuse("只有矛盾纠纷类工单可以转为纠纷调处", ValidationFailed, fields={"order_number": ["not a dispute"]})
        place = source.grid
        if source.community_id is None:
            _refuse("工单还没有定位到社区，请先分派", ValidationFailed, fields={"order_number": ["unplaced"]})
        where = SimpleNamespace(grid_id=source.grid_id, community_id=source.community_id,
                                street_id=source.street_id, department_id=None)
        subject = clean(subject) or source.text
    else:
        code = for_matching(grid)
        place = db.session.scalar(select(Grid).where(Grid.code == code)) if code else None
        if place is None:
            _refuse("请选择纠纷所在网格", ValidationFailed, fields={"grid": ["unknown grid"]})
        where = SimpleNamespace(grid_id=place.id, community_id=place.community_id,
                                street_id=place.community.street_id, department_id=None)
    if not in_scope(actor, where):
        _refuse("这个网格不在你的管辖范围内", code="target_out_of_scope")
    subject = clean(subject)
    if not (subject or "").strip():
        _refuse("请写明争议事项", ValidationFailed, fields={"subject": ["required"]})
    if len(parties or []) < 2:
        _refuse("纠纷至少有两方当事人", ValidationFailed, fields={"parties": ["at least two"]})
    for given in parties:
        _check_party(given, "parties")
    now = clock.now()
    dispute = Dispute(topic=topic, subject=subject.strip(), state="registered", level="grid",
                      grid_id=where.grid_id, community_id=where.community_id, street_id=where.street_id,
                      source_order_id=source.id if source else None, registered_by=actor.id,
                      created_at=now, updated_at=now, due_at=_due("registered", now),
                      parties=[_party(p) for p in parties])
    if where.grid_id is None:
        dispute.level = "community"  # an order from the community's pool: no grid holds it
    db.session.add(dispute)
    event = _event(dispute, actor, "register", None, order=source.number if source else None,
                   parties=len(dispute.parties))
    try:
        db.session.flush()
    except IntegrityError:
        _refuse("这张工单已经登记为纠纷", Conflict, code="already_registered")
    if source is not None:  # the order's own trail says where its matter went, in this transaction
        orders.perform(SYSTEM, source, "note", note="已转入矛盾纠纷调处（定、商、决、办、馈）", commit=False,
                       dispute=dispute.id)
    _notify(dispute, row, event)
    return present(actor, _commit(dispute))


def _check_party(given, field: str) -> None:
    """The console's forms come here without the API's schema: the same two rules, kept here."""
    name = clean(given.get("name")) if isinstance(given, dict) else None
    if not isinstance(given, dict) or given.get("kind") not in PARTY_KINDS or not (name or "").strip() or len(name) > 80:
        _refuse("当事人须写明类别和名称", ValidationFailed, fields={field: ["kind and name required"]})


def _party(given: dict) -> DisputeParty:
    return DisputeParty(kind=given["kind"], name=clean(given["name"]).strip())


# --- every later step -------------------------------------------------------------------------

def perform(actor: Actor, dispute: Dispute, action: str, **given) -> Dispute:
    """Check the row (who, from which state, under which rule, what input), apply its effect, keep
    the step's time limit, append the event, notify and commit — or change nothing."""
    row = lifecycle.ACTIONS.get(action)
    if row is None or action == "register":
        _refuse(f"unknown action {action}", ValidationFailed, code="unknown_action")
    why = lifecycle.refusal(actor, dispute, row)
    if why == "state":
        _refuse(f"纠纷当前状态（{dispute.state}）不能执行「{action}」", InvalidTransition)
    if why:
        _refuse(f"{actor.role or actor.kind} 无权执行「{action}」" if why == "role" else "这件纠纷不在你能处理的层级")
    data = _checked(actor, dispute, row, given)
    if action == "add_task":
        data["order"] = _task_order(actor, dispute, data)  # its own transaction: see _task_order
    from_state, now = dispute.state, clock.now()
    ctx = SimpleNamespace(actor=actor, now=now, data=data, event={})
    with db.session.no_autoflush:
        EFFECTS.get(action, _nothing)(dispute, ctx)
        if row.target:
            dispute.state = row.target
            dispute.due_at = _due(row.target, now)
            dispute.overdue = False
        dispute.updated_at = now
    note = next((data[k] for k in ("reason", "note", "result", "feedback", "decision", "minutes") if data.get(k)), None)
    extra = {k: v for k, v in given.items() if k == "stall_key"}
    event = _event(dispute, actor, action, from_state, note, **ctx.event, **extra)
    try:
        _notify(dispute, row, event)  # its queries flush the change: a concurrent writer may show here
    except StaleDataError:
        _refuse("这件纠纷刚被别人改过，请刷新后重试", Conflict, code="concurrent_change")
    return present(actor, _commit(dispute))


def _checked(actor: Actor, dispute, row, given: dict) -> dict:
    given = {k: clean(v) if isinstance(v, str) else v for k, v in given.items()}
    long = [k for k, v in given.items() if isinstance(v, str) and len(v) > TEXT_MAX]
    if long:
        _refuse(f"不能超过 {TEXT_MAX} 字", ValidationFailed, fields={k: [f"at most {TEXT_MAX} characters"] for k in long})
    blank = lambda v: v is None or (isinstance(v, str) and not v.strip()) or v == []  # noqa: E731
    missing = [k for k in lifecycle.required_for(row, actor) if blank(given.get(k))]
    if missing:
        _refuse("请填写：" + "、".join(label("dispute_inputs", m) for m in missing), ValidationFailed,
                fields={m: ["required"] for m in missing})
    data = {k: (v.strip() if isinstance(v, str) else v) for k, v in given.items() if not blank(v)}
    if "party" in data:
        _check_party(data["party"], "party")
    if row.name == "hold_meeting" and data["held_at"] > clock.now():
        # 商 records meetings that took place; one still to come is not yet a step
        _refuse("会议时间不能晚于现在", ValidationFailed, fields={"held_at": ["in the future"]})
    if row.name == "decide":
        counts = [data.get(k) for k in ("votes_for", "votes_against", "votes_abstain")]
        if (data["method"] == "vote") != all(c is not None for c in counts) or \
                (data["method"] != "vote" and any(c is not None for c in counts)):
            _refuse("表决须填写赞成、反对、弃权票数（其他方式不填）", ValidationFailed,
                    fields={"votes_for": ["required exactly when method is vote"]})
    if row.name == "record_consent":
        data["party"] = next((p for p in dispute.parties if p.id == data["party_id"]), None)
        if data["party"] is None:
            _refuse("没有这个当事人", ValidationFailed, fields={"party_id": ["not a party of this dispute"]})
    return data



def _task_order(actor: Actor, dispute, data) -> Order:
    """The task as a real order (routed, time-limited, on the queues). create_order commits on its
    own: the checks above ran first, so what could fail after it is a crash, which leaves an order
    of kind dispute without its link — visible on the desk, never a half-changed dispute."""
    return orders.create_order(actor, text=data["text"], kind="dispute", channel="walk_in",
                               location_text=data["location_text"], building_id=data.get("building_id"),
                               category=data.get("category"), flags=["dispute_task"])


# --- effects ----------------------------------------------------------------------------------

def _nothing(dispute, ctx):
    pass


def _add_party(dispute, ctx):
    dispute.parties.append(_party(ctx.data["party"]))
    ctx.event.update(kind=ctx.data["party"]["kind"])


def _hold_meeting(dispute, ctx):
    d = ctx.data
    meeting = DisputeMeeting(held_at=d["held_at"], place=d["place"], attendees=list(d["attendees"]),
                             positions=d.get("positions"), minutes=d["minutes"], photos=list(d.get("photos") or []))
    dispute.meetings.append(meeting)
    ctx.event.update(held_at=d["held_at"].isoformat(), attendees=len(meeting.attendees), meeting=len(dispute.meetings))


def _decide(dispute, ctx):
    d = ctx.data
    dispute.decision, dispute.decision_method, dispute.decided_at = d["decision"], d["method"], ctx.now
    dispute.votes_for, dispute.votes_against, dispute.votes_abstain = (
        d.get("votes_for"), d.get("votes_against"), d.get("votes_abstain"))
    ctx.event.update(method=d["method"], votes=[d.get("votes_for"), d.get("votes_against"), d.get("votes_abstain")]
                     if d["method"] == "vote" else None)


def _add_task(dispute, ctx):
    dispute.tasks.append(DisputeTask(order_id=ctx.data["order"].id))
    ctx.event.update(order=ctx.data["order"].number)


def _finish_work(dispute, ctx):
    dispute.work_result = ctx.data["result"]


def _give_feedback(dispute, ctx):
    dispute.feedback, dispute.feedback_at = ctx.data["feedback"], ctx.now
    # A changed outcome told anew: earlier consents were to another text.
    for party in dispute.parties:
        party.consent = party.consent_at = None


def _record_consent(dispute, ctx):
    party = ctx.data["party"]
    party.consent, party.consent_at = ctx.data["consent"], ctx.now
    ctx.event.update(party=party.id, consent=party.consent)


def _publish(dispute, ctx):
    dispute.public_text = public_text(dispute)
    dispute.published_at = ctx.now


def _close(dispute, ctx):
    dispute.closed_at = ctx.now


def _escalate(dispute, ctx):
    to = lifecycle.next_level(dispute)
    ctx.event.update(level_from=dispute.level, level_to=to, manual=ctx.actor.kind != "system")
    dispute.level = to
    dispute.due_at = _due(dispute.state, ctx.now)  # the same step, a full limit for its new holders


def _overdue(dispute, ctx):
    dispute.overdue = True


EFFECTS = {"add_party": _add_party, "hold_meeting": _hold_meeting, "decide": _decide, "add_task": _add_task,
           "finish_work": _finish_work, "give_feedback": _give_feedback, "record_consent": _record_consent,
           "publish": _publish, "close": _close, "escalate": _escalate, "overdue": _overdue}


def public_text(dispute) -> str:
    """The outcome as the public may read it: masked (backend.masking), and every party's name
    masked wherever it appears, since the masking cannot know that a bare name is one."""
    parts = [dispute.subject, dispute.decision or "", dispute.feedback or ""]
    text = "\n".join(mask(p) for p in parts)
    for party in sorted(dispute.parties, key=lambda p: -len(p.name)):
        if party.kind in ("resident", "other") and len(party.name) >= 2:
            text = text.replace(party.name, mask_name(party.name))
    return text


# --- the stall tick (registered with the worker's periodic jobs, like the SLA tick) --------------

def stalled_ids(now) -> list[int]:
    ids = list(db.session.scalars(select(Dispute.id).where(Dispute.due_at <= now, Dispute.overdue.is_(False))
                                  .order_by(Dispute.due_at, Dispute.id)))
    db.session.rollback()
    return ids


def escalate_stalled(dispute_id: int, now) -> str | None:
    """A step past its limit → one level up with a fresh limit, or at the mediation centre one
    overdue record. Safe to repeat: keyed by (level, state, deadline), the new deadline lies ahead,
    and a concurrent tick loses on Dispute.version."""
    # An id past the column's range names nothing (and SQLite's driver refuses it).
    dispute = db.session.get(Dispute, dispute_id) if 0 < dispute_id <= INT32_MAX else None
    if dispute is None or dispute.due_at is None or dispute.due_at > now or dispute.overdue:
        db.session.rollback()
        return None
    key = f"{dispute.level}|{dispute.state}|{dispute.due_at.isoformat()}"
    if any((e.data or {}).get("stall_key") == key for e in dispute.events):
        db.session.rollback()
        return None
    action = "escalate" if lifecycle.next_level(dispute) else "overdue"
    perform(SYSTEM, dispute, action, stall_key=key)
    return action


def stall_tick(now=None) -> dict:
    now = now or clock.now()
    done = {"escalated": 0, "overdue": 0, "skipped": 0}
    for dispute_id in stalled_ids(now):
        try:
            outcome = escalate_stalled(dispute_id, now)
        except (InvalidTransition, Conflict):  # moved by someone meanwhile: their change stands
            db.session.rollback()
            outcome = None
        done[{"escalate": "escalated", "overdue": "overdue"}.get(outcome, "skipped")] += 1
    return done
