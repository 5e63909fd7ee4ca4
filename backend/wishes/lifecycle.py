"""The wish lifecycle, as data: every action on a wish in one row, like orders/lifecycle.py.

A row names the states it starts from and the state it leads to (None: unchanged); who may ask
(actor kinds, staff roles) and under which scope rule; the input it requires; its effect; whom it
tells. The engine (backend/lifecycle.py) reads the row and nothing else.

Scope rules:
    own        the resident who made the wish
    member     a resident registered (双报到) with the wish's community — never the wisher themself
    claimant   the member who holds the claim
    community  staff whose scope holds the wish's community (its admin, its street's, sysadmin)
The system (the wish tick) passes every rule."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, true

from ..accounts.actors import Actor
from ..accounts.models import Staff
from ..errors import Conflict
from ..extensions import db
from ..lifecycle import Notice, Row, Table, refuse
from ..masking import mask
from ..notifications.services import notify
from ..workdays import WorkCalendar
from .models import Member, Wish, WishEvent
from .states import CLAIMED, CONFIRMED, EXPIRED, FULFILLED, PUBLISHED, REJECTED, STATES, SUBMITTED, WITHDRAWN

CHECKERS = frozenset({"community_admin", "street_admin", "sysadmin"})


def rule_passes(rule: str, actor: Actor, wish, member=None) -> bool:
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
ROWS = (
    # 提交: a resident's wish, from the H5 form (services.create_wish builds it)
    Row("submit", (), SUBMITTED, frozenset({"resident"}), rule="own",
        notify=(Notice("community", "wish_submitted"),)),
    # 审核: the community checks it, then it is on the board …
    Row("approve", (SUBMITTED,), PUBLISHED, ANYONE_STAFF, CHECKERS, "community", accepts=("note",), effect=_approve,
        notify=(Notice("resident", "wish_published"),)),
    # … or refuses it, saying why
    Row("reject", (SUBMITTED,), REJECTED, ANYONE_STAFF, CHECKERS, "community", requires=("reason",), effect=_reject,
        notify=(Notice("resident", "wish_rejected"),)),
    # 撤回, while nobody holds it
    Row("withdraw", (SUBMITTED, PUBLISHED), WITHDRAWN, frozenset({"resident"}), rule="own",
        accepts=("note",)),
    # 认领: one claimant at a time (the version check and ck_wishes_claimant_held), with a limit
    Row("claim", (PUBLISHED,), CLAIMED, frozenset({"resident"}), rule="member", effect=_claim,
        notify=(Notice("resident", "wish_claimed"), Notice("community", "wish_claimed"))),
    # give it back to the board
    Row("release", (CLAIMED,), PUBLISHED, frozenset({"resident"}), rule="claimant", accepts=("note",),
        effect=_unclaim),
    # 完成, with evidence and the hours it took
    Row("fulfil", (CLAIMED,), FULFILLED, frozenset({"resident"}), rule="claimant",
        requires=("evidence", "hours"), accepts=("photos",), effect=_fulfil,
        notify=(Notice("resident", "wish_fulfilled"),)),
    # 确认: the resident says it came true; the hours are recorded
    Row("confirm", (FULFILLED,), CONFIRMED, frozenset({"resident"}), rule="own", accepts=("note",),
        effect=_confirm, notify=(Notice("claimant", "wish_confirmed"),)),
    # The wish tick: a claim past its limit goes back to the board …
    Row("lapse", (CLAIMED,), PUBLISHED, frozenset({"system"}), rule="community", effect=_unclaim,
        notify=(Notice("community", "wish_lapsed"),)),
    # … a wish nobody claimed is offered to the community's partner units (once) …
    Row("offer", (PUBLISHED,), None, frozenset({"system"}), rule="community", effect=_offer, precondition=_not_offered,
        notify=(Notice("units", "wish_offered"), Notice("community", "wish_offered"))),
    # … and one whose "by when" passed unfulfilled expires
    Row("expire", (SUBMITTED, PUBLISHED, CLAIMED), EXPIRED, frozenset({"system"}), rule="community", effect=_expire,
        notify=(Notice("resident", "wish_expired"),)),
)

assert set(STATES) == {s for a in ROWS for s in (*a.sources, a.target) if s}  # every state reachable


# --- who is told: a wish → (recipient type, id) pairs, for each Notice's audience ----------------

def _community_admins(wish: Wish):
    ids = db.session.scalars(select(Staff.id).where(
        Staff.role == "community_admin", Staff.community_id == wish.community_id, Staff.active == true()))
    return [("staff", i) for i in ids]


def _unit_contacts(wish: Wish):
    ids = db.session.scalars(select(Member.resident_id).where(
        Member.community_id == wish.community_id, Member.kind == "unit_contact", Member.active == true()))
    return [("resident", i) for i in ids]


def _claimant(wish: Wish):
    return [("resident", wish.claimant.resident_id)] if wish.claimant is not None else []


AUDIENCES = {
    "community": _community_admins,
    "resident": lambda wish: [("resident", wish.resident_id)],
    "claimant": _claimant,
    "units": _unit_contacts,
}


def announce(wish: Wish, row, event, ctx) -> None:
    db.session.flush()  # the wish's id for its notices
    payload = {"wish": wish.id, "text": mask(wish.text)[:40], "state": wish.state}
    for notice in row.notify:
        for kind, recipient in dict.fromkeys(AUDIENCES[notice.audience](wish)):
         notify(kind, recipient, notice.key, payload=payload)


def _check(actor: Actor, wish, row, data, ctx) -> None:
    if row.name == "claim":  # one member holds at most WISH_MAX_OPEN_CLAIMS at a time
        cap = current_app.config["WISH_MAX_OPEN_CLAIMS"]
        held = db.session.scalar(select(func.count()).select_from(Wish).where(
         Wish.claimant_id == ctx.member.id, Wish.state == CLAIMED))
        if held >= cap:
         refuse(f"您已认领{held}个心愿，完成后再认领新的", Conflict, code="claim_limit")


TABLE = Table("wish", ROWS, subject="这个心愿", states=STATES, event=WishEvent, owner="wish",
           state_labels="wish_states", action_labels="wish_actions", input_labels="wish_inputs",
           rules=rule_passes, new=("submit",), note_keys=("note", "reason", "evidence"),
           stale="刚被别人认领或修改，请刷新后再看", check=_check, announce=announce,
           event_columns=lambda wish, ctx: {"member_id": ctx.member.id if getattr(ctx, "member", None) else None})
ACTIONS, REQUESTABLE = TABLE.rows, TABLE.requestable
row, refusal, allowed_actions, markdown_table = TABLE.row, TABLE.refusal, TABLE.allowed, TABLE.markdown
