"""The 知识库's services: what the bot asks (`ask`), what staff keep (add, edit, retire, restore,
each with its `knowledge_events` row), where a resident lives as far as answers go, and the seed.

Who keeps what: a community's admins its community's entries; a street's admins the street's own and
its communities'; the sysadmin everything, the district's (全区) entries included. Each reads what
applies to the places they keep (the district's, their street's, their communities')."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import func, or_, select

from .. import clock
from ..accounts.actors import Actor
from ..errors import Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..grids.managers import MANAGERS
from ..grids.models import Community, Street
from . import retrieval, seeds
from .models import KnowledgeEntry, KnowledgeEvent, KnowledgeQuestion

FIELDS = ("question", "variants", "answer", "link", "phone", "place", "category", "valid_from", "valid_until")
REFUSAL = "只有社区、街道管理员可以管理知识库"


# --- where a resident lives, as far as answers go ---------------------------------------------------

def resident_place(resident_id: int | None) -> tuple[int | None, int | None]:
    """(community, street) of the resident: their latest 双报到 registration, else the place of their
    latest placed order; (None, None) when neither is known (the district's entries still answer).
    One statement: it runs for every question."""
    if resident_id is None:
        return None, None
    from ..orders.models import Order
    from ..wishes.models import Member
    registered = (select(Member.community_id).where(Member.resident_id == resident_id)
                  .order_by(Member.id.desc()).limit(1).scalar_subquery())
    ordered = (select(Order.community_id).where(Order.resident_id == resident_id, Order.community_id.is_not(None))
               .order_by(Order.id.desc()).limit(1).scalar_subquery())
    row = db.session.execute(select(Community.id, Community.street_id).where(
        Community.id == func.coalesce(registered, ordered))).first()
    return (row[0], row[1]) if row else (None, None)


# --- the index --------------------------------------------------------------------------------------

def _stamp() -> tuple:
    count, last, top = db.session.execute(select(func.count(KnowledgeEntry.id), func.max(KnowledgeEntry.updated_at),
                                                 func.max(KnowledgeEntry.id))).one()
    return count, str(last), top


def _docs() -> list[retrieval.Doc]:
    rows = db.session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.active.is_(True))
                              .order_by(KnowledgeEntry.id))
    return [retrieval.Doc(e.id, e.scope, e.street_id, e.community_id, e.question,
                          [e.question, *(e.variants or [])], e.valid_from, e.valid_until) for e in rows]


_checked = {"at": 0.0, "stamp": None, "changes": -1}
_changes = [0]  # this process's own changes: seen at once, not after the refresh interval


def index() -> retrieval.Index:
    """The entries' index. Another process's change is seen within KNOWLEDGE_REFRESH_SECONDS (the
    stamp is read at most that often), this process's own at once."""
    now = time.monotonic()
    if (_checked["stamp"] is None or _checked["changes"] != _changes[0]
            or now - _checked["at"] >= current_app.config["KNOWLEDGE_REFRESH_SECONDS"]):
        _checked.update(at=now, stamp=_stamp(), changes=_changes[0])
    return retrieval.current(_checked["stamp"], _docs)


def changed() -> None:
    """Called after every committed change of an entry (and by tests that write rows directly)."""
    _changes[0] += 1


@dataclass
class Answer:
    outcome: str  # answered | offered | declined
    score: float = 0.0
    entry: KnowledgeEntry | None = None
    offers: list[KnowledgeEntry] = field(default_factory=list)


AMBIGUITY = 0.05  # two entries this close to each other are offered, not guessed between


VAGUE_CHARS = 2  # a question of this few letters (「医保」) names a topic, not a question: offered at most


def decide(hits: list[retrieval.Hit], answer_score: float, offer_score: float,
           ambiguity: float = AMBIGUITY, text: str | None = None) -> tuple[str, list[retrieval.Hit]]:
    """answered (the first hit), offered (the two closest: none is close enough, two are about as
    close, or the question is a bare topic) or declined, from the scores and the question's length."""
    clear = len(hits) < 2 or hits[1].score < hits[0].score - ambiguity
    clear = clear and (text is None or len(retrieval.normalize(text)) > VAGUE_CHARS)
    if hits and hits[0].score >= answer_score and clear:
        return "answered", hits[:1]
    if hits and hits[0].score >= offer_score:
        return "offered", hits[:2]
    return "declined", []


def follow_hint(outcome: str, closest: list[tuple[str | None, str]], hint: str | None, confidence: float,
                threshold: float) -> tuple[str, int | None]:
    """Where the bot's own model (the ResponseSelector, trained on the 29 seeds) is the better judge,
    its choice `hint` (a seed key, chosen at `confidence`) is answered: between the two entries
    offered, or between the two closest when the 知识库 answered a district seed and the model is
    sure of the other one. `closest`: (seed key, scope) of the two closest entries. Gives the outcome
    and which of `closest` is answered, None when the hint changes nothing."""
    keys = [key for key, _ in closest]
    if hint is None or confidence < threshold or hint not in keys:
        return outcome, None
    at = keys.index(hint)
    if outcome == "offered":
        return "answered", at
    if outcome == "answered" and at == 1 and closest[0][1] == "district":
        return "answered", at
    return outcome, None


def today() -> date:
    return clock.local(clock.now(), current_app.config["TIMEZONE"]).date()


def ask(resident_id: int | None, text: str, *, hint: str | None = None, hint_confidence: float = 0.0,
        record: bool = True) -> Answer:
    """The bot's question: the resident's community's, street's and the district's valid entries.
    `hint`: the seed the bot's own model chose (ask_faq/<key>) and its confidence — between two
    offered entries, a confident model's choice is answered when it is one of them."""
    community_id, street_id = resident_place(resident_id)
    hits = index().search(text, community_id=community_id, street_id=street_id, day=today())
    config = current_app.config
    outcome, chosen = decide(hits, config["KNOWLEDGE_ANSWER_SCORE"], config["KNOWLEDGE_OFFER_SCORE"], text=text)
    closest = [db.session.get(KnowledgeEntry, h.doc.id) for h in hits[:2]]
    outcome, pick = follow_hint(outcome, [(e.seed_key, e.scope) for e in closest],
                                "faq:" + hint.split("/", 1)[-1] if hint else None, hint_confidence,
                                config["KNOWLEDGE_HINT_CONFIDENCE"])
    entries = [closest[pick]] if pick is not None else closest[:len(chosen)]
    score = hits[0].score if hits else 0.0
    if record:
        db.session.add(KnowledgeQuestion(text=text[:500], community_id=community_id, street_id=street_id,
                                         outcome=outcome, score=round(score, 4), asked_at=clock.now(),
                                         entry_id=entries[0].id if entries else None))
        db.session.commit()
    if outcome == "answered":
        return Answer(outcome, score, entries[0])
    return Answer(outcome, score, None, entries)


# --- who keeps what ---------------------------------------------------------------------------------

def _manager(actor: Actor) -> None:
    if not actor.is_staff or actor.role not in MANAGERS:
        raise Forbidden(REFUSAL)


def visible(actor: Actor):
    """The SQL condition of the entries the actor reads."""
    _manager(actor)
    if actor.role == "sysadmin":
        return KnowledgeEntry.id.is_not(None)
    district = KnowledgeEntry.scope == "district"
    if actor.role == "street_admin":
        ours = select(Community.id).where(Community.street_id == actor.street_id)
        return or_(district, KnowledgeEntry.street_id == actor.street_id, KnowledgeEntry.community_id.in_(ours))
    street_id = db.session.scalar(select(Community.street_id).where(Community.id == actor.community_id))
    return or_(district, (KnowledgeEntry.scope == "street") & (KnowledgeEntry.street_id == street_id),
               KnowledgeEntry.community_id == actor.community_id)


def targets(actor: Actor) -> list[tuple[str, str]]:
    """(value, name) of the places whose entries the actor keeps: district, street:<id>, community:<id>."""
    _manager(actor)
    places: list[tuple[str, str]] = []
    if actor.role == "sysadmin":
        places.append(("district", "全区"))
        places += [(f"street:{s.id}", s.name) for s in db.session.scalars(select(Street).order_by(Street.id))]
        communities = select(Community).order_by(Community.id)
    elif actor.role == "street_admin":
        street = db.session.get(Street, actor.street_id)
        places += [(f"street:{street.id}", street.name)] if street else []
        communities = select(Community).where(Community.street_id == actor.street_id).order_by(Community.id)
    else:
        communities = select(Community).where(Community.id == actor.community_id)
    places += [(f"community:{c.id}", c.name) for c in db.session.scalars(communities)]
    return places


def may_keep(actor: Actor, entry: KnowledgeEntry) -> bool:
    return _target_of(entry) in {value for value, _ in targets(actor)}


def _target_of(entry: KnowledgeEntry) -> str:
    if entry.scope == "community":
        return f"community:{entry.community_id}"
    return f"street:{entry.street_id}" if entry.scope == "street" else "district"


def _place(actor: Actor, target: str) -> dict:
    if target not in {value for value, _ in targets(actor)}:
        raise NotFound("没有这个范围，或不归您管理")
    if target == "district":
        return {"scope": "district", "street_id": None, "community_id": None}
    kind, _, number = target.partition(":")
    if kind == "street":
        return {"scope": "street", "street_id": int(number), "community_id": None}
    community = db.session.get(Community, int(number))
    return {"scope": "community", "street_id": community.street_id, "community_id": community.id}


def search(actor: Actor, q: str | None = None, *, include_retired: bool = False, limit: int = 500):
    query = select(KnowledgeEntry).where(visible(actor))
    if not include_retired:
        query = query.where(KnowledgeEntry.active.is_(True))
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(KnowledgeEntry.question.ilike(like), KnowledgeEntry.answer.ilike(like),
                                KnowledgeEntry.category.ilike(like)))
    entries = list(db.session.scalars(query.order_by(KnowledgeEntry.scope.desc(), KnowledgeEntry.category,
                                                     KnowledgeEntry.id).limit(limit)))
    keep = {value for value, _ in targets(actor)}
    return [(e, _target_of(e) in keep) for e in entries]


def get_entry(actor: Actor, entry_id: int) -> KnowledgeEntry:
    entry = db.session.scalar(select(KnowledgeEntry).where(KnowledgeEntry.id == entry_id, visible(actor)))
    if entry is None:
        raise NotFound("没有这条知识")
    return entry


def history(entry: KnowledgeEntry) -> list[KnowledgeEvent]:
    return list(db.session.scalars(select(KnowledgeEvent).where(KnowledgeEvent.entry_id == entry.id)
                                   .order_by(KnowledgeEvent.id.desc())))


def _values(data: dict) -> dict:
    values = {name: data.get(name) for name in FIELDS}
    values["variants"] = [v.strip() for v in (values["variants"] or []) if v and v.strip()][:20]
    for name in ("link", "phone", "place", "category"):
        values[name] = (values[name] or "").strip() or None
    values["question"], values["answer"] = (values["question"] or "").strip(), (values["answer"] or "").strip()
    if not values["question"] or not values["answer"]:
        raise ValidationFailed("请填写问题和答案", fields={"question": ["必填"], "answer": ["必填"]})
    if values["valid_from"] and values["valid_until"] and values["valid_until"] < values["valid_from"]:
        raise ValidationFailed("有效期的结束日期早于开始日期", fields={"valid_until": ["早于开始日期"]})
    return values


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def _apply(entry: KnowledgeEntry, values: dict) -> dict:
    changes = {}
    for name, value in values.items():
        if getattr(entry, name) != value:
            changes[name] = [_plain(getattr(entry, name)), _plain(value)]
            setattr(entry, name, value)
    return changes


def _event(entry: KnowledgeEntry, actor: Actor, action: str, changes: dict) -> None:
    now = clock.now()
    entry.updated_at, entry.updated_by = now, actor.id if actor.is_staff else None
    db.session.add(KnowledgeEvent(entry=entry, action=action, actor_id=entry.updated_by, at=now, changes=changes))



def add_entry(actor: Actor, target: str, data: dict, *, question_ids: list[int] | None = None,
              order_number: str | None = None) -> KnowledgeEntry:
    """A new entry for a place the actor keeps; from a 咨询 order (`order_number`) or a group of
    unanswered questions (`question_ids`, which leave the 待补充 list)."""
    place, values = _place(actor, target), _values(data)
    entry = KnowledgeEntry(**place, active=True, created_at=clock.now())
    changes = _apply(entry, values)
    action = "add"
    if order_number:
        entry.source_order_id, action = answered_order(actor, order_number).id, "adopt"
    db.session.add(entry)
    _event(entry, actor, action, changes)
    db.session.flush()
    if question_ids:
        _resolve_questions(actor, question_ids, entry)
    db.session.commit()
    changed()
    return entry


def edit_entry(actor: Actor, entry_id: int, target: str, data: dict) -> KnowledgeEntry:
    entry = get_entry(actor, entry_id)
    if not may_keep(actor, entry):
        raise Forbidden("这条知识由上级维护，您只能查看")
    changes = _apply(entry, {**_place(actor, target), **_values(data)})
    if changes:
        _event(entry, actor, "edit", changes)
    db.session.commit()
    changed()
    return entry


def set_active(actor: Actor, entry_id: int, active: bool) -> KnowledgeEntry:
    """停用 (retire: never answered again, kept with its history) or 恢复 (restore)."""
    entry = get_entry(actor, entry_id)
    if not may_keep(actor, entry):
        raise Forbidden("这条知识由上级维护，您只能查看")
    if entry.active != active:
        entry.active = active
        _event(entry, actor, "restore" if active else "retire", {"active": [not active, active]})
    db.session.commit()
    changed()
    return entry


# --- learning from what residents asked and staff answered ----------------------------------------

def _question_scope(actor: Actor):
    _manager(actor)
    if actor.role == "sysadmin":
        return KnowledgeQuestion.id.is_not(None)
    if actor.role == "street_admin":
        return KnowledgeQuestion.street_id == actor.street_id
    return KnowledgeQuestion.community_id == actor.community_id


def unanswered(actor: Actor, *, limit: int = 2000) -> list[dict]:
    """The questions the bot declined or could only offer entries for, not yet answered by an
    entry, in the actor's places, grouped by similarity: [{text, count, examples, ids, last}]."""
    rows = list(db.session.scalars(select(KnowledgeQuestion).where(
        _question_scope(actor), KnowledgeQuestion.outcome.in_(("declined", "offered")),
        KnowledgeQuestion.resolved_entry_id.is_(None)).order_by(KnowledgeQuestion.id.desc()).limit(limit)))
    groups = []
    for members in retrieval.groups([r.text for r in rows]):
        asked = [rows[i] for i in members]
        examples = list(dict.fromkeys(q.text for q in asked))
        groups.append({"text": examples[0], "count": len(asked), "examples": examples[:5],
                       "ids": [q.id for q in asked], "last": max(q.asked_at for q in asked)})
    return groups


def _resolve_questions(actor: Actor, question_ids: list[int], entry: KnowledgeEntry) -> None:
    for question in db.session.scalars(select(KnowledgeQuestion).where(
            KnowledgeQuestion.id.in_(question_ids[:500]), _question_scope(actor))):
        question.resolved_entry_id = entry.id


def draft_from_questions(actor: Actor, question_ids: list[int]) -> dict:
    """The new-entry form, prefilled from a group of unanswered questions."""
    asked = list(db.session.scalars(select(KnowledgeQuestion).where(
        KnowledgeQuestion.id.in_(question_ids[:500]), _question_scope(actor)).order_by(KnowledgeQuestion.id)))
    if not asked:
        raise NotFound("没有这些问题")
    texts = list(dict.fromkeys(q.text for q in asked))
    community = asked[0].community_id
    keep = {value for value, _ in targets(actor)}
    target = f"community:{community}" if f"community:{community}" in keep else next(iter(keep), "")
    return {"question": texts[0], "variants": texts[1:10], "target": target,
            "question_ids": [q.id for q in asked]}


def answered_order(actor: Actor, number: str):
    """A 咨询 order in the actor's scope that staff answered (its result)."""
    from ..accounts.actors import in_scope
    from ..orders.models import Order
    _manager(actor)
    order = db.session.scalar(select(Order).where(Order.number == (number or "").strip()))
    if order is None or not in_scope(actor, order):
        raise NotFound("没有这个工单")
    if order.kind != "consultation" or not (order.result or "").strip():
        raise ValidationFailed("只有已答复的咨询工单可以转为知识", fields={"order": ["不是已答复的咨询工单"]})
    return order


def draft_from_order(actor: Actor, number: str) -> dict:
    """The new-entry form, prefilled from an answered 咨询 order: its words, its result, its community."""
    order = answered_order(actor, number)
    keep = {value for value, _ in targets(actor)}
    target = f"community:{order.community_id}"
    return {"question": order.text[:200], "answer": order.result, "order": order.number,
            "target": target if target in keep else next(iter(keep), "")}


# --- the seed ---------------------------------------------------------------------------------------

def seed(actor: Actor | None = None) -> int:
    """The bot's former 29 FAQ answers as the district's entries (once each, by seed key)."""
    known = set(db.session.scalars(select(KnowledgeEntry.seed_key).where(KnowledgeEntry.seed_key.is_not(None))))
    added = 0
    for row in seeds.seed_rows():
        if row["seed_key"] in known:
            continue
        entry = KnowledgeEntry(scope="district", active=True, created_at=clock.now(), **row)
        db.session.add(entry)
        _event(entry, actor or Actor("system"), "seed", {})
        added += 1
    db.session.commit()
    changed()
    return added


def draft_for(actor: Actor, *, order: str | None = None, questions: str | None = None) -> dict:
    """The new-entry form's values: from an answered 咨询 order, from a group of unanswered
    questions (their ids, comma-separated), or empty (the actor's first place)."""
    keep = targets(actor)
    if order:
        return draft_from_order(actor, order)
    ids = [int(n) for n in (questions or "").split(",") if n.isdigit() and len(n) < 10]
    if ids:
        return draft_from_questions(actor, ids)
    return {"target": keep[0][0] if keep else ""}


def draft_of(entry: KnowledgeEntry) -> dict:
    """An entry's values as its form shows them."""
    return {"target": _target_of(entry), **{name: getattr(entry, name) for name in FIELDS}}
