"""电话回访 and 回复居民 (issue 20, items 5 and 6): the lifecycle's `callback` rows and its `reply` row,
and the canned replies (常用语) each community keeps.

回访: staff call a resident who cannot rate (no resident account: a hotline call, a letter, a walk-in)
or has not rated within CALLBACK_AFTER_DAYS of the resolution, and record the answer — 满意 / 基本满意
rate the order (`callback`), 不满意 reopens it as the resident's own 不满意 would (`callback_reopen`).
Who called is the event's actor, when is `called_at` (default: the moment it is recorded). The
order's `rating_source` says whose rating it holds, so the figures count 回访满意率 apart.

回复: staff write to the resident; the text (a canned reply with its variables filled here, on the
server, or their own words) is the event's note, which the resident reads on the H5 timeline and
receives as a WeChat customer-service message (wechat.hooks; the channel falls back to a subscribe
message after the 48-hour window)."""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from .. import clock
from ..accounts.actors import Actor
from ..grids.managers import managed_communities
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..lifecycle import refuse
from .models import CannedReply

VARIABLES = ("{居民称呼}", "{工单号}", "{网格员}", "{预计时间}")


# --- 回访 ----------------------------------------------------------------------------------------

def callback_due(order) -> bool:
    """its reporter has no resident account or has not rated within CALLBACK_AFTER_DAYS"""
    if order.resident_id is None:
        return True
    days = float(current_app.config.get("CALLBACK_AFTER_DAYS", 3))
    return order.resolved_at is not None and order.resolved_at <= clock.now() - timedelta(days=days)


def _called_at(ctx) -> str:
    given = ctx.data.get("called_at")
    if given is None:
        return ctx.now.isoformat()
    when = given if isinstance(given, datetime) else None
    if when is None:
        try:
            when = datetime.fromisoformat(str(given))
        except ValueError:
            refuse("回访时间格式不对", ValidationFailed, fields={"called_at": ["时间格式不对"]})
    if when.tzinfo is None:
        refuse("回访时间要带时区", ValidationFailed, fields={"called_at": ["时间要带时区"]})
    if when > ctx.now or (ctx.resolved_at is not None and when < ctx.resolved_at):
        refuse("回访时间应在办结之后、现在之前", ValidationFailed, fields={"called_at": ["不在办结之后、现在之前"]})
    return when.isoformat()


def record_callback(order, ctx) -> None:
    """The effect both callback rows share: the answer is the order's rating, from a callback."""
    ctx.resolved_at = order.resolved_at
    order.satisfaction = ctx.data["satisfaction"]
    order.rating_source = "callback"
    order.rated_at = ctx.now
    ctx.event.update(satisfaction=order.satisfaction, called_at=_called_at(ctx), caller=ctx.actor.id,
                     source="callback")


WORDS = {"满意": "satisfied", "基本满意": "basically_satisfied", "不满意": "unsatisfied"}


def callback_action(given: dict) -> str:
    """满意 / 基本满意 rate the order, 不满意 reopens it: the row a callback's answer asks for (the
    console's form sends the words; `given` gets the code)."""
    if given.get("satisfaction") in WORDS:
        given["satisfaction"] = WORDS[given["satisfaction"]]
    return "callback_reopen" if given.get("satisfaction") == "unsatisfied" else "callback"


# --- 回复 and 常用语 --------------------------------------------------------------------------------

def fill(text: str, order, actor: Actor, expected: str | None = None) -> str:
    """A canned reply's variables, filled on the server: how the resident is addressed (their own
    name, or the caller's, as the message goes to them alone; else 居民), the order's number, the
    grid worker who holds or resolved it (else the grid worker replying), and the expected time (given, or the current deadline)."""
    from ..accounts.models import Staff
    resident = order.resident
    who = (resident.name if resident is not None else None) or order.caller_name
    worker_id = order.assignee_id or order.resolver_id or (
        actor.id if actor.is_staff and actor.role in ("grid_worker", "grid_leader") else None)  # the one replying
    worker = db.session.get(Staff, worker_id) if worker_id else None
    if expected is None and order.due_at is not None:
        expected = clock.local(order.due_at, current_app.config["TIMEZONE"]).strftime("%m月%d日 %H:%M")
    values = {"{居民称呼}": who or "居民", "{工单号}": order.number,
              "{网格员}": worker.name if worker is not None else "网格员", "{预计时间}": expected or "尽快"}
    for name, value in values.items():
        text = text.replace(name, value)
    return text


def canned_for(actor: Actor, community_id: int | None) -> list[CannedReply]:
    if community_id is None:
        return []
    return list(db.session.scalars(select(CannedReply).where(
        CannedReply.community_id == community_id, CannedReply.active.is_(True)).order_by(CannedReply.title)))


def reply_text(actor: Actor, order, *, text: str | None = None, canned_id: int | None = None,
               expected: str | None = None) -> str:
    """What a reply says: the staff member's own words, or their community's canned reply, with
    the variables filled in either way."""
    if isinstance(canned_id, str):  # from the console's form
        canned_id = int(canned_id) if canned_id.isascii() and canned_id.isdigit() and len(canned_id) < 10 else 0
    if canned_id is not None:
        canned = db.session.get(CannedReply, canned_id) if 0 < canned_id < 2**31 else None
        if canned is None or not canned.active or canned.community_id != order.community_id:
            refuse("没有这条常用语", ValidationFailed, fields={"canned_id": ["不是本社区的常用语"]})
        text = canned.text
    if not (text or "").strip():
        refuse("请填写回复内容或选择常用语", ValidationFailed, fields={"text": ["必填"]})
    return fill(text.strip(), order, actor, expected)


def _communities(actor: Actor):
    """The communities whose canned replies the actor keeps (403 for anyone but their admins)."""
    return managed_communities(actor, "只有社区、街道管理员可以管理常用语")


def _may_manage(actor: Actor, community_id: int) -> bool:
    return any(c.id == community_id for c in _communities(actor))


def manageable(actor: Actor) -> list[tuple]:
    """(community, its active canned replies) for each community the actor keeps."""
    communities = _communities(actor)
    rows = db.session.scalars(select(CannedReply).where(
        CannedReply.community_id.in_([c.id for c in communities]), CannedReply.active.is_(True))
        .order_by(CannedReply.title)).all()
    return [(c, [r for r in rows if r.community_id == c.id]) for c in communities]


def save_canned(actor: Actor, *, community_id: int, title: str, text: str) -> CannedReply:
    """Add a community's canned reply, or change the text of the one with this title."""
    if not _may_manage(actor, community_id):
        refuse("没有这个社区", NotFound)
    title, text = (title or "").strip(), (text or "").strip()
    if not title or not text or len(title) > 40 or len(text) > 500:
        refuse("请填写标题（40字内）和内容（500字内）", ValidationFailed,
               fields={"title": ["必填，40字内"], "text": ["必填，500字内"]})
    canned = db.session.scalar(select(CannedReply).where(CannedReply.community_id == community_id,
                                                         CannedReply.title == title))
    if canned is None:
        canned = CannedReply(community_id=community_id, title=title, created_by=actor.id, created_at=clock.now())
        db.session.add(canned)
    canned.text, canned.active = text, True
    db.session.commit()
    return canned


def retire_canned(actor: Actor, canned_id: int) -> None:
    canned = db.session.get(CannedReply, canned_id)
    if canned is None or not _may_manage(actor, canned.community_id):
        refuse("没有这条常用语", NotFound)
    canned.active = False
    db.session.commit()
