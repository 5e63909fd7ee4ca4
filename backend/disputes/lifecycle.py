"""The dispute lifecycle, as data: 定、商、决、办、馈, every action one row, in the style of the
order lifecycle (orders/lifecycle.py). The engine (backend/lifecycle.py) reads the row and nothing else.

A row: the states it starts from and the one it leads to (None: the state stays); who may ask
(actor kinds, staff roles) and under which scope rule; the input it requires; a precondition on the
dispute beyond its state (refused as a wrong state, 409); its effect; and who is told.

Scope rules (beyond seeing the dispute at all, `actors.in_scope` on its grid/community/street):
    scope  anyone who can see it
    level  someone who holds it at its level: grid — the grid's workers and leader and everyone
         above; community — community admins and above; street (the mediation centre) — street
         admins and the sysadmin
The system (the stall tick) passes every rule."""
from datetime import timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select

from .. import clock
from ..accounts.actors import ROLE_RANK, Actor, in_scope
from ..accounts.models import Staff, mask_name
from ..extensions import db
from ..lifecycle import Notice, Row, Table, refuse
from ..errors import ValidationFailed
from ..masking import mask
from ..notifications.services import notify
from ..workdays import WorkCalendar
from ..text import clean
from .models import OPEN_STATES, PARTY_KINDS, STATES, DisputeEvent, DisputeMeeting, DisputeParty, DisputeTask

REGISTRARS = frozenset({"grid_worker", "grid_leader", "community_admin", "street_admin", "sysadmin"})
LEADERS = frozenset({"grid_leader", "community_admin", "street_admin", "sysadmin"})
LEVEL_RANK = {"grid": 0, "community": 2, "street": 3}
# Each step's time limit in working days (orders/deadlines.py's calendar). 商 gets the longest: two
# or more meetings of four sides have to be fixed around residents' working days.
STEP_LIMITS = {"registered": timedelta(days=2), "deliberating": timedelta(days=10),
             "carrying_out": timedelta(days=15), "feedback": timedelta(days=5)}
ORDER_DONE = ("resolved", "rated", "closed", "cancelled")


def _row(name, step, sources, target, actors, roles=frozenset(), rule="level", **kwargs) -> Row:
    return Row(name, sources, target, actors, roles, rule, step=step, **kwargs)


def due(state: str, now):
    limit = STEP_LIMITS.get(state)
    return WorkCalendar.from_config(current_app.config).add(now, limit) if limit else None


# --- effects: ctx has actor, now, data (the checked input) -----------------------------------

def party(given: dict) -> DisputeParty:
    return DisputeParty(kind=given["kind"], name=clean(given["name"]).strip())


def _add_party(dispute, ctx):
    dispute.parties.append(party(ctx.data["party"]))
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
    for p in dispute.parties:
        p.consent = p.consent_at = None


def _record_consent(dispute, ctx):
    chosen = ctx.data["party"]
    chosen.consent, chosen.consent_at = ctx.data["consent"], ctx.now
    ctx.event.update(party=chosen.id, consent=chosen.consent)


def _publish(dispute, ctx):
    dispute.public_text = public_text(dispute)
    dispute.published_at = ctx.now


def _close(dispute, ctx):
    dispute.closed_at = ctx.now


def _escalate(dispute, ctx):
    to = next_level(dispute)
    ctx.event.update(level_from=dispute.level, level_to=to, manual=ctx.actor.kind != "system")
    dispute.level = to
    dispute.due_at = due(dispute.state, ctx.now)  # the same step, a full limit for its new holders


def _overdue(dispute, ctx):
    dispute.overdue = True


def public_text(dispute) -> str:
    """The outcome as the public may read it: masked (backend.masking), and every party's name
    masked wherever it appears, since the masking cannot know that a bare name is one."""
    parts = [dispute.subject, dispute.decision or "", dispute.feedback or ""]
    text = "\n".join(mask(p) for p in parts)
    for p in sorted(dispute.parties, key=lambda p: -len(p.name)):
        if p.kind in ("resident", "other") and len(p.name) >= 2:
          text = text.replace(p.name, mask_name(p.name))
    return text


def _has_parties(d) -> bool:
    """two parties or more"""
    return len(d.parties) >= 2


def _has_meeting(d) -> bool:
    """after a meeting"""
    return len(d.meetings) >= 1


def _tasks_done(d) -> bool:
    """every task order finished"""
    return all(t.order.state in ORDER_DONE for t in d.tasks)


def _told(d) -> bool:
    """the parties were told"""
    return d.feedback is not None


def _publishable(d) -> bool:
    """told, every party agreed, not yet published"""
    return (_told(d) and d.published_at is None and bool(d.parties)
          and all(p.consent == "agreed" for p in d.parties))


def _not_overdue(d) -> bool:
    """not marked overdue yet"""
    return not d.overdue


_NEXT_LEVEL = {"grid": "community", "community": "street"}


def next_level(dispute) -> str | None:
    return _NEXT_LEVEL.get(dispute.level)


def _below_top(d) -> bool:
    """below the mediation centre"""
    return next_level(d) is not None


_HOLDERS = (Notice("holders", "dispute_step"),)
ROWS = (
    # 定: the dispute, its parties and what is in dispute (services.register builds it)
    _row("register", "定", (), "registered", frozenset({"staff"}), REGISTRARS, "scope",
         requires=("topic", "parties"), accepts=("subject", "order_number", "grid"),
         notify=(Notice("community", "dispute_registered"),)),
    _row("add_party", "定", ("registered", "deliberating"), None, frozenset({"staff"}), REGISTRARS,
         requires=("party",), effect=_add_party),
    # 商: deliberation among grid worker, 业委会, property company and residents
    _row("open_deliberation", "商", ("registered",), "deliberating", frozenset({"staff"}), REGISTRARS,
         accepts=("note",), precondition=_has_parties, notify=_HOLDERS),
    _row("hold_meeting", "商", ("deliberating",), None, frozenset({"staff"}), REGISTRARS,
         requires=("held_at", "place", "attendees", "minutes"), accepts=("positions", "photos"), effect=_hold_meeting),
    # 决: how it was reached — agreement, a vote with its counts, or mediation
    _row("decide", "决", ("deliberating",), "carrying_out", frozenset({"staff"}), REGISTRARS,
         requires=("decision", "method"), accepts=("votes_for", "votes_against", "votes_abstain"),
         precondition=_has_meeting, notify=_HOLDERS, effect=_decide),
    # 办: tasks are orders of their own (routed, time-limited, on the queues)
    _row("add_task", "办", ("carrying_out",), None, frozenset({"staff"}), REGISTRARS,
         requires=("text", "location_text"), accepts=("building_id", "category"), effect=_add_task),
    _row("finish_work", "办", ("carrying_out",), "feedback", frozenset({"staff"}), REGISTRARS,
         requires=("result",), precondition=_tasks_done, effect=_finish_work),
    # 馈: tell the parties, record whether each agrees to publication, publish, close
    _row("give_feedback", "馈", ("feedback",), None, frozenset({"staff"}), REGISTRARS,
         requires=("feedback",), effect=_give_feedback),
    _row("record_consent", "馈", ("feedback", "closed"), None, frozenset({"staff"}), REGISTRARS,
         requires=("party_id", "consent"), precondition=_told, effect=_record_consent),
    _row("publish", "馈", ("feedback", "closed"), None, frozenset({"staff"}), LEADERS,
         precondition=_publishable, effect=_publish),
    _row("close", "馈", ("feedback",), "closed", frozenset({"staff"}), REGISTRARS,
         accepts=("note",), precondition=_told, effect=_close),
    # A stalled step goes one level up (by the tick, or by hand with a reason); at the mediation
    # centre there is nobody above: the tick records it overdue once.
    _row("escalate", "", OPEN_STATES, None, frozenset({"staff", "system"}), REGISTRARS,
         requires={"staff": ("reason",)}, precondition=_below_top, effect=_escalate,
         notify=(Notice("holders", "dispute_escalated"),)),
    _row("overdue", "", OPEN_STATES, None, frozenset({"system"}), precondition=_not_overdue,
         effect=_overdue,
         notify=(Notice("holders", "dispute_overdue"),)),
)

assert set(STATES) >= {s for a in ROWS for s in a.sources}


def _rule_passes(rule: str, actor: Actor, dispute) -> bool:
    if not in_scope(actor, dispute):
        return False
    if rule == "scope" or actor.role == "sysadmin":
        return True
    if rule == "level":
        return ROLE_RANK.get(actor.role, -1) >= LEVEL_RANK[dispute.level]
    raise ValueError(f"unknown scope rule {rule}")


# --- the input's own checks, after the engine's (present, cleaned, bounded) -------------------

def check_party(given, field: str) -> None:
    """The console's forms come here without the API's schema: the same two rules, kept here."""
    name = clean(given.get("name")) if isinstance(given, dict) else None
    if not isinstance(given, dict) or given.get("kind") not in PARTY_KINDS or not (name or "").strip() or len(name) > 80:
        refuse("当事人须写明类别和名称", ValidationFailed, fields={field: ["kind and name required"]})


def _check(actor: Actor, dispute, row, data, ctx) -> None:
    if "party" in data:
        check_party(data["party"], "party")
    if row.name == "hold_meeting" and data["held_at"] > clock.now():
        # 商 records meetings that took place; one still to come is not yet a step
        refuse("会议时间不能晚于现在", ValidationFailed, fields={"held_at": ["in the future"]})
    if row.name == "decide":
        counts = [data.get(k) for k in ("votes_for", "votes_against", "votes_abstain")]
        if (data["method"] == "vote") != all(c is not None for c in counts) or \
              (data["method"] != "vote" and any(c is not None for c in counts)):
          refuse("表决须填写赞成、反对、弃权票数（其他方式不填）", ValidationFailed,
                 fields={"votes_for": ["required exactly when method is vote"]})
    if row.name == "record_consent":
        data["party"] = next((p for p in dispute.parties if p.id == data["party_id"]), None)
        if data["party"] is None:
          refuse("没有这个当事人", ValidationFailed, fields={"party_id": ["not a party of this dispute"]})
    if row.name == "add_task":
        data["order"] = _task_order(actor, data)  # its own transaction: see _task_order


def _task_order(actor: Actor, data):
    """The task as a real order (routed, time-limited, on the queues). create_order commits on its
    own: the checks above ran first, so what could fail after it is a crash, which leaves an order
    of kind dispute without its link — visible on the desk, never a half-changed dispute."""
    from ..orders import services as orders
    return orders.create_order(actor, text=data["text"], kind="dispute", channel="walk_in",
                             location_text=data["location_text"], building_id=data.get("building_id"),
                             category=data.get("category"), flags=["dispute_task"])


def _after(dispute, row, ctx) -> None:
    if row.target:  # a new step: its own time limit
        dispute.due_at = due(row.target, ctx.now)
        dispute.overdue = False


# --- who is told -------------------------------------------------------------------------------

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
        return holders(dispute, next_level(SimpleNamespace(level=level)) or "street")
    return ids


def announce(dispute, row, event, ctx) -> None:
    payload = {"dispute": dispute.id, "subject": dispute.subject[:60], "state": dispute.state,
             "level": dispute.level, "step": row.step, "action": row.name, "note": event.note,
             "due": clock.local(dispute.due_at, current_app.config["TIMEZONE"]).strftime("%m-%d %H:%M")
             if dispute.due_at else None}
    for notice in row.notify:
        level = "community" if notice.audience == "community" else dispute.level
        for staff_id in dict.fromkeys(holders(dispute, level)):
          notify("staff", staff_id, notice.key, payload=payload)


TABLE = Table("dispute", ROWS, subject="这件纠纷", states=STATES, event=DisputeEvent, owner="dispute",
            state_labels="dispute_states", action_labels="dispute_actions", input_labels="dispute_inputs",
            rules=_rule_passes, new=("register",),
            note_keys=("reason", "note", "result", "feedback", "decision", "minutes"),
            rule_messages={"*": "这件纠纷不在你能处理的层级"}, check=_check, after=_after, announce=announce,
            event_columns=lambda dispute, ctx: {"level": dispute.level},
            passthrough=lambda given: {k: v for k, v in given.items() if k == "stall_key"})
ACTIONS, REQUESTABLE = TABLE.rows, TABLE.requestable
refusal, allowed_actions, markdown = TABLE.refusal, TABLE.allowed, TABLE.markdown


def markdown_table() -> str:
    return TABLE.markdown(steps=True)
