"""The wish lifecycle, as data: every action on a wish in one row, like orders/lifecycle.py.

A row names the states it starts from and the state it leads to (None: unchanged); who may ask
(actor kinds, staff roles) and under which scope rule; the input it requires; its effect; whom it
tells. `services.perform` reads the row and nothing else.

Scope rules:
    own        the resident who made the wish
    member     a resident registered (双报到) with the wish's community — never the wisher themself
    claimant   the member who holds the claim
    community  staff whose scope holds the wish's community (its admin, its street's, sysadmin)
The system (the wish tick) passes every rule."""
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from flask import current_app

from ..accounts.actors import Actor
from ..orders.deadlines import WorkCalendar
from .states import CLAIMED, CONFIRMED, EXPIRED, FULFILLED, PUBLISHED, REJECTED, STATES, SUBMITTED, WITHDRAWN

CHECKERS = frozenset({"community_admin", "street_admin", "sysadmin"})


@dataclass(frozen=True)
class Notice:
    audience: str  # a name in services.AUDIENCES
    key: str       # templates/notifications/<key>.txt


@dataclass(frozen=True)
class Action:
    name: str
    sources: tuple[str, ...]
    target: str | None
    actors: frozenset[str]
    roles: frozenset[str] = frozenset()
    rule: str = "community"
    requires: tuple[str, ...] = ()
    accepts: tuple[str, ...] = ()
    effect: Callable | None = None
    notify: tuple[Notice, ...] = ()
    precondition: Callable | None = None


def rule_passes(rule: str, actor: Actor, wish, member) -> bool:
    if actor.kind == "system":
        return True
    if rule == "own":
        return actor.is_resident and wish.resident_id == actor.id
    if rule == "member":
        return actor.is_resident and member is not None and wish.resident_id != actor.id
    if rule == "claimant":
        return actor.is_resident and member is not None and wish.claimant_id == member.id
    if rule == "community":
        return in_scope(actor, wish)
    raise ValueError(f"unknown scope rule {rule}")


def in_scope(actor: Actor, wish) -> bool:
    """Staff who see a community's wishes: its own admin, its street's admin, the sysadmin."""
    if not actor.is_staff:
        return False
    if actor.role == "sysadmin":
        return True
    if actor.role == "community_admin":
        return actor.community_id is not None and actor.community_id == wish.community_id
    if actor.role == "street_admin":
        return actor.street_id is not None and actor.street_id == wish.street_id
    return False


def working_days_after(start, days: int):
    return WorkCalendar.from_config(current_app.config).add(start, timedelta(days=days))


# --- effects: ctx has actor, member (the actor's registration, if any), now, data --------------

def _approve(wish, ctx):
    wish.published_at = ctx.now


def _reject(wish, ctx):
    wish.reason = ctx.data["reason"]


def _claim(wish, ctx):
    wish.claimant_id, wish.unit_id = ctx.member.id, ctx.member.unit_id
    wish.claimed_at = ctx.now
    wish.claim_due_at = working_days_after(ctx.now, current_app.config["WISH_FULFIL_DAYS"])
    ctx.event.update(member=ctx.member.id, unit=ctx.member.unit_id, due=wish.claim_due_at.isoformat())


def _unclaim(wish, ctx):
    ctx.event.update(member=wish.claimant_id, unit=wish.unit_id)
    wish.claimant_id = wish.unit_id = wish.claimed_at = wish.claim_due_at = None


def _fulfil(wish, ctx):
    wish.evidence = ctx.data["evidence"]
    wish.hours = ctx.data["hours"]
    wish.evidence_photos = [{"url": p["url"], "content_type": p["content_type"]} for p in ctx.data.get("photos") or []]
    wish.fulfilled_at, wish.claim_due_at = ctx.now, None


def _confirm(wish, ctx):
    from . import hours  # the one writer of volunteer_hours
    wish.confirmed_at = ctx.now
    hours.record_for_wish(wish, ctx.now)


def _offer(wish, ctx):
    wish.offered_at = ctx.now


def _expire(wish, ctx):
    wish.claimant_id = wish.unit_id = wish.claimed_at = wish.claim_due_at = None


def _not_offered(wish) -> bool:
    """not offered to the partner units yet"""
    return wish.offered_at is None


ANYONE_STAFF = frozenset({"staff"})
ACTIONS: dict[str, Action] = {a.name: a for a in (
    # 提交: a resident's wish, from the H5 form (services.create_wish builds it)
    Action("submit", (), SUBMITTED, frozenset({"resident"}), rule="own",
           notify=(Notice("community", "wish_submitted"),)),
    # 审核: the community checks it, then it is on the board …
    Action("approve", (SUBMITTED,), PUBLISHED, ANYONE_STAFF, CHECKERS, accepts=("note",), effect=_approve,
           notify=(Notice("resident", "wish_published"),)),
    # … or refuses it, saying why
    Action("reject", (SUBMITTED,), REJECTED, ANYONE_STAFF, CHECKERS, requires=("reason",), effect=_reject,
           notify=(Notice("resident", "wish_rejected"),)),
    # 撤回, while nobody holds it
    Action("withdraw", (SUBMITTED, PUBLISHED), WITHDRAWN, frozenset({"resident"}), rule="own",
           accepts=("note",)),
    # 认领: one claimant at a time (the version check and ck_wishes_claimant_held), with a limit
    Action("claim", (PUBLISHED,), CLAIMED, frozenset({"resident"}), rule="member", effect=_claim,
           notify=(Notice("resident", "wish_claimed"), Notice("community", "wish_claimed"))),
    # give it back to the board
    Action("release", (CLAIMED,), PUBLISHED, frozenset({"resident"}), rule="claimant", accepts=("note",),
           effect=_unclaim),
    # 完成, with evidence and the hours it took
    Action("fulfil", (CLAIMED,), FULFILLED, frozenset({"resident"}), rule="claimant",
           requires=("evidence", "hours"), accepts=("photos",), effect=_fulfil,
           notify=(Notice("resident", "wish_fulfilled"),)),
    # 确认: the resident says it came true; the hours are recorded
    Action("confirm", (FULFILLED,), CONFIRMED, frozenset({"resident"}), rule="own", accepts=("note",),
           effect=_confirm, notify=(Notice("claimant", "wish_confirmed"),)),
    # The wish tick: a claim past its limit goes back to the board …
    Action("lapse", (CLAIMED,), PUBLISHED, frozenset({"system"}), effect=_unclaim,
           notify=(Notice("community", "wish_lapsed"),)),
    # … a wish nobody claimed is offered to the community's partner units (once) …
    Action("offer", (PUBLISHED,), None, frozenset({"system"}), effect=_offer, precondition=_not_offered,
           notify=(Notice("units", "wish_offered"), Notice("community", "wish_offered"))),
    # … and one whose "by when" passed unfulfilled expires
    Action("expire", (SUBMITTED, PUBLISHED, CLAIMED), EXPIRED, frozenset({"system"}), effect=_expire,
           notify=(Notice("resident", "wish_expired"),)),
)}

REQUESTABLE = tuple(name for name, a in ACTIONS.items() if name != "submit" and a.actors & {"resident", "staff"})


assert set(STATES) == {s for a in ACTIONS.values() for s in (*a.sources, a.target) if s}  # every state reachable


def row(action: str) -> Action:
    try:
        return ACTIONS[action]
    except KeyError:
        raise ValueError(f"no wish lifecycle row for action {action!r}") from None


def refusal(actor: Actor, wish, action: Action, member=None) -> str | None:
    """Why `actor` may not do `action` now — "role" (403), "state" (409), "rule" (403) — or None."""
    if actor.kind not in action.actors or (actor.is_staff and actor.role not in action.roles):
        return "role"
    if wish.state not in action.sources:
        return "state"
    if not rule_passes(action.rule, actor, wish, member):
        return "rule"
    if action.precondition is not None and not action.precondition(wish):
        return "state"
    return None


def allowed_actions(actor: Actor, wish, member=None) -> list[str]:
    return [name for name in REQUESTABLE if refusal(actor, wish, ACTIONS[name], member) is None]


def markdown_table() -> str:
    """The table as docs/architecture.md shows it (a test keeps the document in step)."""
    rows = ["| action | from | to | who | scope rule | requires | notifies |", "|---|---|---|---|---|---|---|"]
    for a in ACTIONS.values():
        who = ", ".join(sorted(a.actors)) + (" (" + ", ".join(sorted(a.roles)) + ")" if a.roles else "")
        sources = ", ".join(a.sources) or "(new)"
        if a.precondition is not None:
            sources += f" (if {a.precondition.__doc__})"
        told = ", ".join(f"{n.audience}→{n.key}" for n in a.notify)
        rows.append(f"| {a.name} | {sources} | {a.target or '—'} | {who} | {a.rule} "
                    f"| {', '.join(a.requires) or '—'} | {told or '—'} |")
    return "\n".join(rows)
