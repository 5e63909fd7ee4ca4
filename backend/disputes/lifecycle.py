"""The dispute lifecycle, as data: 定、商、决、办、馈, every action one row, in the style of the
order lifecycle (orders/lifecycle.py). `services.perform` reads the row and nothing else.

A row: the states it starts from and the one it leads to (None: the state stays); who may ask
(actor kinds, staff roles) and under which scope rule; the input it requires; a precondition on the
dispute beyond its state (refused as a wrong state, 409); its effect (in services, by name); and who
is told.

Scope rules (beyond seeing the dispute at all, `actors.in_scope` on its grid/community/street):
    scope  anyone who can see it
    level  someone who holds it at its level: grid — the grid's workers and leader and everyone
           above; community — community admins and above; street (the mediation centre) — street
           admins and the sysadmin
The system (the stall tick) passes every rule."""
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from ..accounts.actors import ROLE_RANK, Actor, in_scope
from .models import OPEN_STATES, STATES

REGISTRARS = frozenset({"grid_worker", "grid_leader", "community_admin", "street_admin", "sysadmin"})
LEADERS = frozenset({"grid_leader", "community_admin", "street_admin", "sysadmin"})
LEVEL_RANK = {"grid": 0, "community": 2, "street": 3}
# Each step's time limit in working days (orders/deadlines.py's calendar). 商 gets the longest: two
# or more meetings of four sides have to be fixed around residents' working days.
STEP_LIMITS = {"registered": timedelta(days=2), "deliberating": timedelta(days=10),
               "carrying_out": timedelta(days=15), "feedback": timedelta(days=5)}
ORDER_DONE = ("resolved", "rated", "closed", "cancelled")


@dataclass(frozen=True)
class Notice:
    audience: str  # "holders" (staff at its level) or "community"
    key: str  # templates/notifications/<key>.txt


@dataclass(frozen=True)
class Action:
    name: str
    step: str  # 定 商 决 办 馈, or "" for records outside the five steps
    sources: tuple[str, ...]
    target: str | None
    actors: frozenset[str]
    roles: frozenset[str] = frozenset()
    rule: str = "level"
    requires: tuple[str, ...] = ()
    accepts: tuple[str, ...] = ()
    precondition: Callable | None = None
    notify: tuple[Notice, ...] = field(default_factory=tuple)


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
ACTIONS: dict[str, Action] = {a.name: a for a in (
    # 定: the dispute, its parties and what is in dispute (services.register builds it)
    Action("register", "定", (), "registered", frozenset({"staff"}), REGISTRARS, "scope",
           requires=("topic", "parties"), accepts=("subject", "order_number", "grid"),
           notify=(Notice("community", "dispute_registered"),)),
    Action("add_party", "定", ("registered", "deliberating"), None, frozenset({"staff"}), REGISTRARS,
           requires=("party",)),
    # 商: deliberation among grid worker, 业委会, property company and residents
    Action("open_deliberation", "商", ("registered",), "deliberating", frozenset({"staff"}), REGISTRARS,
           accepts=("note",), precondition=_has_parties, notify=_HOLDERS),
    Action("hold_meeting", "商", ("deliberating",), None, frozenset({"staff"}), REGISTRARS,
           requires=("held_at", "place", "attendees", "minutes"), accepts=("positions", "photos")),
    # 决: how it was reached — agreement, a vote with its counts, or mediation
    Action("decide", "决", ("deliberating",), "carrying_out", frozenset({"staff"}), REGISTRARS,
           requires=("decision", "method"), accepts=("votes_for", "votes_against", "votes_abstain"),
           precondition=_has_meeting, notify=_HOLDERS),
    # 办: tasks are orders of their own (routed, time-limited, on the queues)
    Action("add_task", "办", ("carrying_out",), None, frozenset({"staff"}), REGISTRARS,
           requires=("text", "location_text"), accepts=("building_id", "category")),
    Action("finish_work", "办", ("carrying_out",), "feedback", frozenset({"staff"}), REGISTRARS,
           requires=("result",), precondition=_tasks_done),
    # 馈: tell the parties, record whether each agrees to publication, publish, close
    Action("give_feedback", "馈", ("feedback",), None, frozenset({"staff"}), REGISTRARS,
           requires=("feedback",)),
    Action("record_consent", "馈", ("feedback", "closed"), None, frozenset({"staff"}), REGISTRARS,
           requires=("party_id", "consent"), precondition=_told),
    Action("publish", "馈", ("feedback", "closed"), None, frozenset({"staff"}), LEADERS,
           precondition=_publishable),
    Action("close", "馈", ("feedback",), "closed", frozenset({"staff"}), REGISTRARS,
           accepts=("note",), precondition=_told),
    # A stalled step goes one level up (by the tick, or by hand with a reason); at the mediation
    # centre there is nobody above: the tick records it overdue once.
    Action("escalate", "", OPEN_STATES, None, frozenset({"staff", "system"}), REGISTRARS,
           requires=("reason",), precondition=_below_top, notify=(Notice("holders", "dispute_escalated"),)),
    Action("overdue", "", OPEN_STATES, None, frozenset({"system"}), precondition=_not_overdue,
           notify=(Notice("holders", "dispute_overdue"),)),
)}

REQUESTABLE = tuple(n for n, a in ACTIONS.items() if n != "register" and "staff" in a.actors)
assert set(STATES) >= {s for a in ACTIONS.values() for s in a.sources}


def _rule_passes(rule: str, actor: Actor, dispute) -> bool:
    if actor.kind == "system":
        return True
    if not in_scope(actor, dispute):
        return False
    if rule == "scope" or actor.role == "sysadmin":
        return True
    if rule == "level":
        return ROLE_RANK.get(actor.role, -1) >= LEVEL_RANK[dispute.level]
    raise ValueError(f"unknown scope rule {rule}")


def refusal(actor: Actor, dispute, action: Action) -> str | None:
    """Why `actor` may not do `action` now — "role" (403), "state" (409), "rule" (403) — or None."""
    if actor.kind not in action.actors or (actor.kind == "staff" and actor.role not in action.roles):
        return "role"
    if dispute.state not in action.sources:
        return "state"
    if not _rule_passes(action.rule, actor, dispute):
        return "rule"
    if action.precondition is not None and not action.precondition(dispute):
        return "state"
    return None


def allowed_actions(actor: Actor, dispute) -> list[str]:
    return [n for n in REQUESTABLE if refusal(actor, dispute, ACTIONS[n]) is None]


def required_for(action: Action, actor: Actor) -> tuple[str, ...]:
    # The tick's escalation needs no reason: its reason is the missed limit.
    return () if actor.kind == "system" else action.requires


def markdown_table() -> str:
    """The table as docs/architecture.md shows it (a test keeps the document in step)."""
    rows = ["| step | action | from | to | who (staff roles) | scope rule | requires | notifies |",
            "|---|---|---|---|---|---|---|---|"]
    for a in ACTIONS.values():
        who = ", ".join(sorted(a.actors))
        if a.roles:
            who += " (" + ", ".join(sorted(a.roles)) + ")"
        sources = ", ".join(a.sources) or "(new)"
        if a.precondition is not None:
            sources += f" (if {a.precondition.__doc__})"
        told = ", ".join(f"{n.audience}→{n.key}" for n in a.notify)
        rows.append(f"| {a.step or '—'} | {a.name} | {sources} | {a.target or '—'} | {who} | {a.rule} "
                    f"| {', '.join(a.requires) or '—'} | {told or '—'} |")
    return "\n".join(rows)
