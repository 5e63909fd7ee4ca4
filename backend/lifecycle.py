"""The one lifecycle engine: orders, disputes and wishes are each a `Table` of `Row`s, and every
change to one of them goes through `perform` here.

A row says which states an action starts from and the state it leads to (None: the state stays);
who may ask (actor kinds, staff roles) and under which scope rule; what input it requires (per actor
kind, "*" for every kind) and accepts; a precondition on the subject beyond its state (refused as a
wrong state); its effect; and who is told (`Notice`s). A domain keeps only its rows, effects, rule
predicates and audiences, handed to its `Table` as hooks; the checks, the refusals and their Chinese
words, the input's cleaning, the event, the commit and the roll-back are written once, below.

Refusals, in this order: role 403, state 409, scope rule 403, precondition 409, input 422; a
concurrent change that won is 409. Every message is built from templates/labels.yml, so a person
reads Chinese whatever the table; the English stays in `code` and the logs.

Base layer: this module knows no domain (an actor is anything with kind, role, id, is_staff)."""
import logging
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Callable

from sqlalchemy import JSON, String, Text, bindparam, insert, inspect as sa_inspect, update
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from . import clock
from .errors import Conflict, DomainError, Forbidden, InvalidTransition, ValidationFailed
from .extensions import db
from .labels import label
from .text import clean
from .types import UTCDateTime

log = logging.getLogger(__name__)

STATUS = {"role": 403, "state": 409, "rule": 403, "precondition": 409}
TEXT_MAX = 2000  # as the API's schemas (required_text)


@dataclass(frozen=True)
class Notice:
    """Tell `audience` (a name the domain's audiences know) with template `key`, if `when` holds."""
    audience: str
    key: str  # templates/notifications/<key>.txt
    when: str | None = None


@dataclass(frozen=True)
class Row:
    name: str
    sources: tuple[str, ...]
    target: str | None
    actors: frozenset[str]
    roles: frozenset[str] = frozenset()
    rule: str | dict[str, str] = "scope"  # one rule, or one per actor kind
    # Required input per actor kind ("*": every kind); a plain tuple is required of every kind.
    requires: dict[str, tuple[str, ...]] | tuple[str, ...] = field(default_factory=dict)
    accepts: tuple[str, ...] = ()
    effect: Callable | None = None
    notify: tuple[Notice, ...] = ()
    precondition: Callable | None = None  # refused as a wrong state (409) when it fails
    step: str = ""  # a stage the table groups rows by (the disputes' 定商决办馈)
    refused_code: str = "invalid_transition"  # the code when the precondition fails
    # The words when the precondition fails: "precondition" (…现在不能…), or "state" where the
    # precondition only narrows a source state (…当前是「已评价」，不能「评价」)
    refused_as: str = "precondition"
    # A record: the row says something of the subject and changes nothing of it (no effect, no
    # target, nobody told, no precondition, only trusted actors: WeChat's verdict on an order's
    # text). `perform_record` writes its event without loading the subject; the domain marks a row
    # so only where its own hooks (`after`, `recorded`, `announce`) have nothing to do for it.
    record: bool = False

    def __post_init__(self):
        if isinstance(self.requires, tuple):
            object.__setattr__(self, "requires", {"*": self.requires} if self.requires else {})

    def required_for(self, actor) -> tuple[str, ...]:
        return self.requires.get(actor.kind, self.requires.get("*", ()))

    def rule_for(self, actor) -> str:
        return self.rule.get(actor.kind, "scope") if isinstance(self.rule, dict) else self.rule


def _nothing(*args, **kwargs):
    return None


def _no_columns(subject, ctx) -> dict:
    return {}


class Table:
    """A lifecycle: its rows and the hooks by which a domain says what only it knows.

    rules(rule, actor, subject, **context) -> bool      the scope rules (trusted kinds skip them)
    check(actor, subject, row, data, ctx)               domain checks of the cleaned input; may add
                                                        looked-up targets to `data`
    after(subject, row, ctx)                            once the effect and target state are set
    recorded(subject, row, event, ctx)                  once the event is added (e.g. its photos)
    announce(subject, row, event, ctx)                  the notices, or a signal, before the commit
    event_columns(subject, ctx) -> dict                 the event table's own columns
    passthrough(given) -> dict                          input that goes to the event's data as is

    `new` names the row that makes a subject (never performed on one); `hidden` rows are performed
    by the domain itself and offered to nobody (the orders' `settle`, part of a patrol report).
    """

    def __init__(self, name: str, rows, *, subject: str, states: tuple[str, ...], event: type,
                 owner: str, state_labels: str, action_labels: str, input_labels: str,
                 rules: Callable, new: tuple[str, ...] = (), hidden: tuple[str, ...] = (),
                 trusted: tuple[str, ...] = ("system",),
                 note_keys: tuple[str, ...] = ("reason", "note"), aliases: dict | None = None,
                 rule_messages: dict | None = None, stale: str = "刚被别人改过，请刷新后重试",
                 check: Callable = _nothing, after: Callable = _nothing, recorded: Callable = _nothing,
                 announce: Callable = _nothing, event_columns: Callable = _no_columns,
                 passthrough: Callable = lambda given: {}):
        self.name, self.subject, self.states, self.event, self.owner = name, subject, tuple(states), event, owner
        self.rows: dict[str, Row] = {r.name: r for r in rows}
        self.labels = {"states": state_labels, "actions": action_labels, "inputs": input_labels}
        self.rules, self.new, self.trusted, self.note_keys = rules, new, trusted, note_keys
        self.aliases, self.rule_messages, self.stale = aliases or {}, rule_messages or {}, stale
        self.check, self.after, self.recorded, self.announce = check, after, recorded, announce
        self.event_columns, self.passthrough = event_columns, passthrough
        # What residents and staff can ask for by name; the rest are the product's own records.
        self.requestable = tuple(n for n, r in self.rows.items()
                                 if n not in (*new, *hidden) and r.actors & {"resident", "staff"})
        assert set(self.states) >= {s for r in self.rows.values() for s in r.sources}, name
        for r in self.rows.values():
            if r.record:  # what perform_record skips must be nothing
                assert not (r.effect or r.target or r.notify or r.precondition or r.actors - set(trusted)), \
                    f"{name}.{r.name} is no record"
                assert event_columns is _no_columns, \
                    f"{name}: a record's event is written without the subject its event_columns read"

    # --- the table, read -------------------------------------------------------------------------

    def row(self, action: str) -> Row:
        try:
            return self.rows[action]
        except KeyError:
            raise ValueError(f"no {self.name} lifecycle row for action {action!r}") from None

    def refusal(self, actor, subject, row: Row, **context) -> str | None:
        """Why `actor` may not do `row` to `subject` now — "role", "state", "rule" or
        "precondition" (STATUS gives each one's HTTP status) — or None."""
        if actor.kind not in row.actors or (actor.kind == "staff" and actor.role not in row.roles):
            return "role"
        if subject.state not in row.sources:
            return "state"
        if actor.kind not in self.trusted and not self.rules(row.rule_for(actor), actor, subject, **context):
            return "rule"
        if row.precondition is not None and not row.precondition(subject):
            return "precondition"
        return None

    def allowed(self, actor, subject, **context) -> list[str]:
        """The actions `actor` may ask for on `subject` now, in table order (the buttons)."""
        return [n for n in self.requestable if self.refusal(actor, subject, self.rows[n], **context) is None]

    def words(self, group: str, key: str | None) -> str:
        return label(self.labels.get(group, group), key) or ""

    def message(self, why: str, actor, subject, row: Row) -> str:
        """The refusal in Chinese, from the templates in labels.yml."""
        who = label("roles", actor.role) if actor.kind == "staff" and actor.role else label("actor_kinds", actor.kind)
        words = {"who": who, "subject": self.subject, "action": self.words("actions", row.name),
                 "state": self.words("states", getattr(subject, "state", None)) or "新建"}
        if why == "rule" and (row.name in self.rule_messages or "*" in self.rule_messages):
            return self.rule_messages.get(row.name) or self.rule_messages["*"]
        return label("refusals", row.refused_as if why == "precondition" else why).format(**words)

    def markdown(self, steps: bool = False) -> str:
        """The table as docs/architecture.md shows it (a test keeps the document in step)."""
        head = ["action", "from", "to", "who (staff roles)", "scope rule", "requires", "notifies"]
        rows = ["| " + " | ".join((["step"] if steps else []) + head) + " |",
                "|" + "---|" * (len(head) + steps)]
        for r in self.rows.values():
            who = ", ".join(sorted(r.actors)) + (" (" + ", ".join(sorted(r.roles)) + ")" if r.roles else "")
            rule = r.rule if isinstance(r.rule, str) else ", ".join(f"{k}: {v}" for k, v in r.rule.items())
            needs = "; ".join(f"{k}: {', '.join(v)}" if k != "*" else ", ".join(v) for k, v in r.requires.items())
            told = ", ".join(f"{n.audience}→{n.key}" + (f" if {n.when}" if n.when else "") for n in r.notify)
            sources = ", ".join(r.sources) or "(new)"
            if r.precondition is not None:
                sources += f" (if {r.precondition.__doc__.strip()})"
            cells = ([r.step or "—"] if steps else []) + [r.name, sources, r.target or "—", who, rule,
                                                          needs or "—", told or "—"]
            rows.append("| " + " | ".join(cells) + " |")
        return "\n".join(rows)


# --- perform: the one way a subject changes ------------------------------------------------------

def refuse(message: str, error: type[DomainError] = Forbidden, **kwargs):
    """Roll back whatever was read or half-set, and refuse: nothing may leak into the next change."""
    db.session.rollback()
    raise error(message, **kwargs)


def refuse_row(table: Table, actor, subject, row: Row, why: str, **context):
    error = InvalidTransition if STATUS[why] == 409 else Forbidden
    code = row.refused_code if why == "precondition" else error.code
    refuse(table.message(why, actor, subject, row), error, code=code)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def cleaned(table: Table, actor, row: Row, given: dict) -> dict:
    """The input as the effects may use it: control characters out, texts bounded, the row's
    required input present (or one of its aliases), blanks dropped, texts stripped."""
    given = {k: clean(v) for k, v in given.items()}
    long = [k for k, v in given.items() if isinstance(v, str) and len(v) > TEXT_MAX]
    if long:
        refuse(f"不能超过 {TEXT_MAX} 字", ValidationFailed, fields={k: [f"不能超过 {TEXT_MAX} 字"] for k in long})
    missing = [name for name in row.required_for(actor)
               if all(_blank(given.get(k)) for k in (name, *table.aliases.get(name, ())))]
    if missing:
        refuse("请填写：" + "、".join(table.words("inputs", m) for m in missing), ValidationFailed,
               fields={m: ["必填"] for m in missing})
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in given.items() if not _blank(v)}


def perform(table: Table, subject, actor, action: str, *, commit: bool = True, context: dict | None = None,
            **given):
    """Check the row (who, from which state, under which rule, with what input), apply its effect,
    set the target state, append the event, announce it and commit — or change nothing.
    With commit=False the event joins the caller's transaction and is returned unannounced."""
    context = context or {}
    row = table.rows.get(action)
    if row is None or action in table.new:
        refuse("没有这个操作", ValidationFailed, code="unknown_action")
    why = table.refusal(actor, subject, row, **context)
    if why:
        refuse_row(table, actor, subject, row, why)
    data = cleaned(table, actor, row, given)
    now = clock.now()
    ctx = SimpleNamespace(actor=actor, now=now, data=data, event={}, **context)
    from_state = subject.state
    try:
        table.check(actor, subject, row, data, ctx)
        # No flush halfway: the database checks hold for the finished change, not its steps.
        with db.session.no_autoflush:
            if row.effect is not None:
                row.effect(subject, ctx)
            if row.target:
                subject.state = row.target
            table.after(subject, row, ctx)
            subject.updated_at = now
        event = record(table, subject, actor, action, from_state, ctx, **table.passthrough(given))
        table.recorded(subject, row, event, ctx)
        if not commit:
            return event
        table.announce(subject, row, event, ctx)  # its queries flush: a concurrent writer shows here
        db.session.commit()
    except StaleDataError:  # the UPDATE matched no row: someone changed it since we read it
        db.session.rollback()
        raise Conflict(table.subject + table.stale, code="concurrent_change") from None
    except Exception:
        db.session.rollback()
        raise
    return subject


_RECORDS: dict = {}  # table name → (UPDATE of the subject, INSERT of the event, the event's owner key)


def _record_statements(table: Table):
    found = _RECORDS.get(table.name)
    if found is None:
        relation = sa_inspect(table.event).relationships[table.owner]
        subject, (owner_key,) = relation.mapper, [c.key for c in relation.local_columns]
        column = {name: subject.attrs[name].columns[0] for name in ("state", "updated_at")}
        values = {column["updated_at"].key: bindparam("now")}
        if subject.version_id_col is not None:  # the optimistic lock: as a flush of a change bumps it
            values[subject.version_id_col.key] = subject.version_id_col + 1
        touch = (update(subject.local_table).where(subject.primary_key[0] == bindparam("subject_id"))
                 .values(values).returning(column["state"]))
        found = _RECORDS[table.name] = (touch, insert(table.event.__table__), owner_key)
    return found


def perform_record(table: Table, subject_id: int, actor, action: str, *, unless=None, **given) -> bool:
    """`perform` for a subject known by its id, at most once: `unless` (a SELECT of one boolean, its
    subject's id as the parameter `subject_id`; e.g. an EXISTS of the event), run once the subject's
    row is locked, says it was done already — a duplicate job waits on the lock and then finds the
    first one's event. True when done; False when `unless` held or there is no such subject
    (nothing written). Refusals as `perform`.

    A record row (`Row.record`) is written without loading the subject: in one transaction its row
    is locked and touched as every change touches it (updated_at; its version, so a concurrent
    change read before still loses) and its event is INSERTed — two Core statements, where loading
    the subject and its events and flushing them through the unit of work cost several times the
    CPU (backend/rows.py says why). The event is the one `perform` writes (the row's checked input,
    from and to the state it is in); nothing is announced, because nothing changed. Any other row
    loads the subject, locked, and goes through `perform`."""
    row = table.rows.get(action)
    if row is None or action in table.new:
        refuse("没有这个操作", ValidationFailed, code="unknown_action")
    if not row.record:
        subject_type = sa_inspect(table.event).relationships[table.owner].mapper.class_
        subject = db.session.get(subject_type, subject_id, with_for_update=True, populate_existing=True)
        if subject is None or (unless is not None and db.session.scalar(unless, {"subject_id": subject_id})):
            db.session.rollback()
            return False
        perform(table, subject, actor, action, **given)
        return True
    data = cleaned(table, actor, row, given)
    touch, add, owner_key = _record_statements(table)
    try:
        connection = db.session.connection()
        now = clock.now()
        state = connection.execute(touch, {"subject_id": subject_id, "now": now}).scalar()
        if state is None or (unless is not None and connection.execute(unless, {"subject_id": subject_id}).scalar()):
            db.session.rollback()
            return False
        subject = SimpleNamespace(state=state)  # all a record's checks read: its actors are trusted
        why = table.refusal(actor, subject, row)
        if why:
            refuse_row(table, actor, subject, row, why)
        connection.execute(add, {
            owner_key: subject_id, "actor_type": actor.kind, "actor_id": actor.id, "action": action,
            "from_state": state, "to_state": state,
            "note": next((data[k] for k in table.note_keys if data.get(k)), None),
            "data": table.passthrough(given), "created_at": now})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return True


def commit(table: Table) -> None:
    """Commit the change; a concurrent change that won is a 409, any failure rolls back."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(table.subject + table.stale, code="concurrent_change") from None
    except Exception:
        db.session.rollback()
        raise


def record(table: Table, subject, actor, action: str, from_state, ctx, **extra):
    """The subject's audit event, in the change's transaction."""
    note = next((ctx.data[k] for k in table.note_keys if ctx.data.get(k)), None)
    event = table.event(**{table.owner: subject}, actor_type=actor.kind, actor_id=actor.id, action=action,
                        from_state=from_state, to_state=subject.state, note=note, data={**ctx.event, **extra},
                        created_at=clock.now(), **table.event_columns(subject, ctx))
    db.session.add(event)
    return event


class EventColumns:
    """The columns every lifecycle's append-only event table has (one row per change, written in
    the change's transaction); the table adds its subject's key and relationship."""
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_type: Mapped[str] = mapped_column(String(20))  # resident, staff, system, bot, partner
    actor_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


# --- ticks ---------------------------------------------------------------------------------------

def tick(name: str, due: Callable[[], list], apply: Callable, counts: dict) -> dict:
    """One run of a periodic job: `due()` lists (id, what) pairs, read in a transaction of its own;
    `apply(id, what)` changes one subject (through `perform`) and names the count it adds to, or
    None when there was nothing left to do. Idempotent: a subject someone else moved meanwhile
    (a DomainError: a wrong state now, a concurrent change that won) is skipped, its change stands."""
    done = dict(counts)
    for subject_id, what in due():
        try:
            outcome = apply(subject_id, what)
        except DomainError:
            db.session.rollback()
            outcome = None
        key = outcome if outcome in done else "skipped"
        done[key] = done.get(key, 0) + 1
    if any(v for k, v in done.items() if k != "skipped"):
        log.info("%s: %s", name, done)
    return done
