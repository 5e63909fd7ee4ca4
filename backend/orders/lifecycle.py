"""The order lifecycle, as data: what every action does to an order, in one row.

A row says which states the action starts from and the state it leads to (None: the state stays);
who may ask (actor kinds, staff roles) and under which scope rule; what input it requires; what it
changes (its effect); and who is told, with which template key. `services.perform` reads the row and
nothing else: it checks, applies, appends the event, commits and emits `order_changed`. The console's
buttons, the API's `allowed_actions` and the bot all come from `allowed_actions()` below.

Scope rules (beyond seeing the order at all, `actors.in_scope`):
    own    the resident who sent it
    rater  the resident who sent it or a co-reporter (附议, merged in), who has not rated since the
           order was last resolved: each rates once per resolution (merging.may_rate)
    scope  anyone who can see it
    take   someone who can take it at its rung (`actors.may_hold`)
    hold   its assignee, or a leader above them who could take it
    move   `hold` when it is claimed, `take` while it waits
    above  a leader (grid leader or a rung above) who could take it, not its assignee: the one who
           approves what the assignee asked for (延期, a long 挂起)
    join   a resident who neither reported it nor follows it yet (附议; they cannot see it before)
The system (timers) and the bot service pass every rule: they act for the product, not a person.
A partner (an Open311 client system) may only submit."""
from datetime import timedelta

from ..accounts.actors import Actor, in_scope, may_hold
from ..extensions import db
from ..lifecycle import Notice, Row, Table
from . import deadlines, files, inputs, ladder, merging, replies, states
from .signals import after_commit, order_changed
from .models import SATISFACTIONS, Attachment, OrderEvent
from .states import (CANCELLED, CLAIMED_STATES, CLOSED, ESCALATED, IN_PROGRESS, MERGED, OPEN_STATES, RATED,
                     REOPENED, RESOLVED, STATES, SUBMITTED, UNCLAIMED_STATES)
from .inputs import CLOSING_SATISFACTIONS, check_satisfaction  # noqa: F401  (read from here too)

Action = Row  # an order's row is the engine's

STAFF_ROLES = frozenset({"grid_worker", "grid_leader", "community_admin", "street_admin",
                         "department_liaison", "sysadmin"})
LEADERS = frozenset({"grid_leader", "community_admin", "street_admin", "sysadmin"})
ADMINS = frozenset({"community_admin", "street_admin", "sysadmin"})
ON_THE_LADDER = STAFF_ROLES - {"department_liaison"}  # a department reports; it does not pass orders on
# Part-time grid members (and a team's other members) report what they see and follow it; they are
# in no other row, so they never claim, hold or move an order.
REPORTERS = STAFF_ROLES | {"grid_member"}
# A property company's staff report (报到), work and resolve what is given to them, or hand it back.
PROPERTY = frozenset({"property_staff"})


def _rule_passes(rule: str, actor: Actor, order) -> bool:
    if rule == "own":
        return actor.is_resident and order.resident_id == actor.id
    if rule == "join":  # 附议: a resident who is not on it yet (joining.join checks it is their problem)
        return actor.is_resident and not merging.follows(actor.id, order)
    if rule == "rater":
        return merging.may_rate(actor, order)
    if not in_scope(actor, order):
        return False
    if rule == "scope":
        return True
    if rule == "take":
        return may_hold(actor, order)
    holds = order.assignee_id == actor.id or (actor.role in LEADERS and may_hold(actor, order))
    if rule == "hold":
        return holds
    if rule == "move":
        return holds if order.assignee_id is not None else may_hold(actor, order)
    if rule == "above":
        return actor.role in LEADERS and order.assignee_id != actor.id and may_hold(actor, order)
    raise ValueError(f"unknown scope rule {rule}")


# --- effects: what an action changes; ctx has actor, now, data (checked input and targets) ---------

def _responded(order, ctx) -> None:
    """响应 (assessment): taken within the limit it was waiting under (claim, or 报到 at the
    department and the property), judged as it is taken, so a later move changes nothing."""
    ctx.event["claim_on_time"] = order.due_at is None or ctx.now <= order.due_at


def _claim(order, ctx):
    _responded(order, ctx)
    order.assignee_id = ctx.actor.id
    # at the top rung, and at the property's, taking it is 报到
    ctx.event["acknowledged"] = order.rung in ("department", "property")
    if order.rung == "property":
        ctx.event.update(property=order.property_company_id,
                         on_time=order.ack_by is None or ctx.now <= order.ack_by)


def _settle(order, ctx):
    order.result = ctx.data["result"]
    order.resolved_at = ctx.now
    order.resolver_id = ctx.actor.id
    order.add_flag("on_the_spot")  # counted apart: found and settled, never queued


def _on_patrol(order) -> bool:
    """a patrol report being made"""
    # Only while the report is made (services.create_order): an order waiting in a queue is claimed
    # and resolved like any other, so the claim time and the resolve limit mean what they say.
    return order.channel == "patrol" and order.id is None


def _assign(order, ctx):
    worker = ctx.data["assignee"]
    _responded(order, ctx)
    order.assignee_id = worker.id
    order.rung = worker.role  # the worker holds it at their own rung, with fresh limits
    order.department_id = None
    deadlines.set_for_rung(order, ctx.now)
    ctx.event.update(assignee=worker.id, assignee_name=worker.name)


def _release(order, ctx):
    order.assignee_id = None


def _resolve(order, ctx):
    order.result = ctx.data["result"]
    order.resolved_at = ctx.now
    order.resolver_id = order.assignee_id or (ctx.actor.id if ctx.actor.is_staff else None)
    order.assignee_id = None
    # 按时办结 (assessment): against resolve-by as it stands — an approved 延期 moved it, a 挂起 gave
    # back the time it stood still; extensions and pauses are counted apart
    flags = order.flags or []
    ctx.event.update(on_time=order.resolve_by is None or ctx.now <= order.resolve_by,
                     extended="extended" in flags, paused="was_paused" in flags)
    if order.rung == "property":  # the property's figures: what it resolved
        ctx.event["property"] = order.property_company_id


def _escalate(order, ctx):
    rung, department = ctx.data["next_rung"]
    ctx.event.update(rung_from=order.rung, rung_to=rung, manual=ctx.actor.kind != "system",
                     held_by=order.assignee_id)
    order.assignee_id = None
    order.rung = rung
    if department is not None:
        order.department_id = department.id
        ctx.event["department"] = department.id  # whistled in: the department it came to (考核)
    deadlines.set_for_rung(order, ctx.now)


def _into_grid(order, ctx):
    grid, building = ctx.data["grid"]
    ctx.event.update(from_grid=order.grid_id, to_grid=grid.id)
    order.assignee_id = None
    order.grid_id, order.building_id = grid.id, building.id if building else None
    order.community_id, order.street_id = grid.community_id, grid.community.street_id
    order.rung = "grid_worker"
    order.department_id = None
    order.drop_flag("unplaced")
    deadlines.set_for_rung(order, ctx.now)


def _to_property(order, ctx):
    """小区吹哨、物业报到: the compound's property company must report and resolve in its limits."""
    from ..grids.property import company_id_for_building
    ctx.event.update(rung_from=order.rung, property=company_id_for_building(order.building_id))
    order.assignee_id = None
    order.department_id = None
    order.property_company_id = ctx.event["property"]
    order.rung = "property"
    deadlines.set_for_rung(order, ctx.now)


def _from_property(order, ctx):
    """Back up to the community: by hand (not the property's work, with a reason), or because the
    property missed its acknowledge or resolve limit (the tick says which, as `missed`)."""
    ctx.event.update(rung_from="property", rung_to="community", property=order.property_company_id,
                     manual=ctx.actor.kind != "system", held_by=order.assignee_id)  # the tick adds `missed`
    if ctx.actor.kind == "system":
        order.add_flag("property_missed")
    order.assignee_id = None
    order.rung = "community"
    deadlines.set_for_rung(order, ctx.now)


def _supervise(order, ctx):
    # past its deadline it is 督办, before it 催办 (assessment counts them apart)
    ctx.event.update(pressed=[order.assignee_id] if order.assignee_id else ladder.holders(order),
                     rung=order.rung, overdue=order.due_at is not None and ctx.now > order.due_at)


# Worst first: the order's satisfaction is its least satisfied reporter's answer (issue 20, item 4).
_WORSE = {"satisfied": 0, "basically_satisfied": 1, "unsatisfied": 2}


def _rate(order, ctx):
    """A resident's answer. Every reporter and co-reporter answers once per resolution (the rule
    `rater`); each answer is its own event (who, what, score). The order holds the least satisfied
    answer so far — one problem, one result: 满意 from one and 基本满意 from another is 基本满意 — and
    the reporter's own score and comment; the first answer moves it to rated and starts the archive
    delay. 不满意 from anyone reopens it (`reopen`), once: the others' answers to that resolution are
    then moot, and everyone rates the next one."""
    satisfaction = ctx.data["satisfaction"]
    first = order.state == RESOLVED
    own = order.resident_id == ctx.actor.id
    ctx.event.update(satisfaction=satisfaction, score=ctx.data.get("score"))
    if not own:
        ctx.event["co_reporter"] = True
    if first or _WORSE[satisfaction] > _WORSE.get(order.satisfaction, -1):
        if not first:
            ctx.event["was"] = order.satisfaction  # a co-reporter less satisfied than the answers before
        order.satisfaction = satisfaction
    if first or satisfaction == "unsatisfied":
        order.rated_at = ctx.now
        order.rating_source = "resident"
    if own:
        order.rating_score = ctx.data.get("score")
        order.rating_comment = ctx.data.get("comment")


def _reopen(order, ctx):
    if ctx.actor.is_resident:
        _rate(order, ctx)
    order.reopen_count += 1
    order.resolved_at = None
    order.department_id = None
    order.add_flag("reopened")
    # Back to the same grid with fresh limits; once it has been reopened twice the grid has had
    # its chances and the community takes it.
    order.rung = "community" if order.reopen_count >= 2 or order.grid_id is None else "grid_worker"
    deadlines.set_for_rung(order, ctx.now)


def _callback_reopen(order, ctx):
    """回访 不满意: recorded as the callback's answer, then reopened as the resident's 不满意 is."""
    replies.record_callback(order, ctx)
    _reopen(order, ctx)


def _close(order, ctx):
    order.closed_at = ctx.now
    if order.state == RESOLVED:  # never rated: 未评价, counted apart in satisfaction figures
        order.add_flag("unrated")
        ctx.event["unrated"] = True


def _cancel(order, ctx):
    order.assignee_id = None


def _correct_category(order, ctx):
    from ..grids.property import is_property_work
    was_property_work = is_property_work(order.category)
    ctx.event.update({"from": order.category, "to": ctx.data["category"]})
    order.category, order.category_confidence = ctx.data["category"], 1.0
    order.drop_flag("unclassified")
    if (order.rung == "property" and order.state in OPEN_STATES and was_property_work
            and not is_property_work(order.category)):
        # No longer property work (a 医保卡 request filed under 物业服务): it leaves the property
        # in the same change, to the community as a return would send it, so the property reads
        # it no more (actors.SCOPE_RUNG) and nobody has to wait for its limit to run out.
        ctx.event.update(rung_from="property", rung_to="community", property=order.property_company_id)
        order.assignee_id = None
        order.state = ESCALATED
        order.rung = "community"
        deadlines.set_for_rung(order, ctx.now)


def _set_grade(order, ctx):
    ctx.event.update({"from": order.grade, "to": ctx.data["grade"]})
    order.grade = ctx.data["grade"]
    # The limits of the new grade run from now, at the order's current rung.
    deadlines.set_for_rung(order, ctx.now)


def _flag(name):
    def effect(order, ctx):
        order.add_flag(name)
    return effect


def _unflag(name):
    def effect(order, ctx):
        order.drop_flag(name)
    return effect


def _anonymise(order, ctx):
    """Personal data out, the order's figures in: the contact goes, texts keep their words with
    names, numbers and house numbers masked (backend.masking), and so do the notes of its events —
    the one edit of the append-only history, because the law asks for it. Category, place ids,
    times and rating stay, so every statistic is unchanged."""
    from ..masking import mask
    changed = [name for name in ("text", "location_text", "result", "rating_comment")
               if getattr(order, name) and mask(getattr(order, name)) != getattr(order, name)]
    for name in changed:
        setattr(order, name, mask(getattr(order, name)))
    if order.contact:
        order.contact = None
        changed.append("contact")
    for event in order.events:
        if event.note:
            event.note = mask(event.note)
    # The resident's own photos go too (staff's result photos stay); files once the change commits.
    theirs = [a for a in order.attachments if a.event is None or a.event.actor_type in ("resident", "bot")]
    for attachment in theirs:
        order.attachments.remove(attachment)
        after_commit(_remove_file, attachment.url)
    order.add_flag("anonymised")
    if ctx.data.get("why"):  # retention or deletion (`why` is an input: 挂起's reason shares the name)
        ctx.event["why"] = ctx.data["why"]
    ctx.event["fields"] = changed
    ctx.event["photos_removed"] = len(theirs)


def _remove_file(url: str) -> None:
    key = files.key_of(url)
    if key is not None:
        files.store().delete(key)


def _not_anonymised(order) -> bool:
    """not anonymised yet"""
    return "anonymised" not in (order.flags or [])


def _property_available(order) -> bool:
    """its compound has a property company"""
    from ..grids.property import company_id_for_building
    return order.rung not in ("property", "department") and company_id_for_building(order.building_id) is not None


def _at_property(order) -> bool:
    """at the property"""
    return order.rung == "property"


def _rung_above(order) -> bool:
    """someone above its rung"""
    return ladder.next_rung(order) is not None


def _is_private(order) -> bool:
    """private"""
    return "private" in (order.flags or [])


def _is_public(order) -> bool:
    """not private"""
    return not _is_private(order)


# --- 延期 / 挂起 / 申诉 (assessment, issue 26): what the worker asks, what the rung above decides -------

def _last(order, *actions):
    """The order's latest event among `actions` (the request an approval answers)."""
    return next((e for e in reversed(order.events) if e.action in actions), None)


def _ask_extension(order, ctx):
    order.add_flag("extension_pending")
    ctx.event.update(until=ctx.data["until"].isoformat(), resolve_by=order.resolve_by.isoformat())


def _approve_extension(order, ctx):
    asked = _last(order, "extend")
    # Figures count on time against the new limit; `extended` counts it apart. Never earlier than
    # the limit the order has now (a grade set since the request may have given it a later one).
    until = max(deadlines.parse_time(asked.data["until"]), order.resolve_by)
    ctx.event.update({"from": order.resolve_by.isoformat(), "to": until.isoformat(),
                      "extension": deadlines.extensions(order) + 1})
    order.resolve_by = until
    order.drop_flag("extension_pending")
    order.add_flag("extended")


def _refuse_extension(order, ctx):
    order.drop_flag("extension_pending")


def _pause(order, ctx):
    """The clock stops now — unless the worker plans a pause beyond ORDER_PAUSE_LIMIT_DAYS working
    days: then it runs on until a leader approves (shown in supervision as a pause request)."""
    needs_approval = ctx.actor.role not in LEADERS and ctx.data.get("days", 0) > deadlines.pause_limit_days()
    ctx.event.update(why=ctx.data["why"], days=ctx.data.get("days"), approval=needs_approval)
    order.add_flag("pause_pending" if needs_approval else "paused")
    if not needs_approval:
        _stop_clock(order, ctx)


def _approve_pause(order, ctx):
    order.drop_flag("pause_pending")
    order.add_flag("paused")
    _stop_clock(order, ctx)


def _stop_clock(order, ctx):
    order.add_flag("was_paused")  # counted apart in the figures
    ctx.event.update(stopped=True, left=deadlines.left(order, ctx.now).total_seconds())


def _resume(order, ctx):
    """The clock restarts: the working time that was left when it stopped, from now."""
    if "paused" in (order.flags or []):
        stopped = _last(order, "pause", "approve_pause")
        left = timedelta(seconds=stopped.data["left"])
        ctx.event.update({"from": order.resolve_by.isoformat(), "paused_from": stopped.created_at.isoformat(),
                          "left": left.total_seconds()})
        order.resolve_by = deadlines.add(order, ctx.now, left)
        ctx.event["to"] = order.resolve_by.isoformat()
    order.drop_flag("paused")
    order.drop_flag("pause_pending")


def _appeal(order, ctx):
    order.add_flag("appeal_pending")
    ctx.event["ground"] = ctx.data["ground"]


def _approve_appeal(order, ctx):
    """免责: out of the unit's 满意率 and 按时办结率, still in its counts and on the timeline."""
    order.drop_flag("appeal_pending")
    order.add_flag("exempt")
    ctx.event["ground"] = _last(order, "appeal").data["ground"]


def _refuse_appeal(order, ctx):
    order.drop_flag("appeal_pending")


def _flag_is(name, words):
    def holds(order) -> bool:
        return name in (order.flags or [])
    holds.__doc__ = words
    return holds


def _extension_possible(order) -> bool:
    """no extension asked or paused, and fewer than ORDER_EXTENSION_MAX_COUNT granted"""
    flags = order.flags or []
    return ("extension_pending" not in flags and "paused" not in flags
            and deadlines.extensions(order) < deadlines.extension_max_count())


def _not_paused(order) -> bool:
    """not paused or asked to be"""
    return not {"paused", "pause_pending"} & set(order.flags or [])


def _pausing(order) -> bool:
    """paused, or a pause asked"""
    return bool({"paused", "pause_pending"} & set(order.flags or []))


def _appealable(order) -> bool:
    """no appeal waiting and not exempt yet"""
    return not {"appeal_pending", "exempt"} & set(order.flags or [])


_HOLDERS_ASSIGNED = (Notice("holders", "assigned"),)
ROWS = (
    # 受理: a new order (services.create_order builds it; this row says who may and who is told)
    Action("submit", (), SUBMITTED, frozenset({"resident", "bot", "staff", "system", "partner"}), REPORTERS,
           notify=(Notice("community", "unplaced", "unplaced"), Notice("holders", "new_order", "placed_and_urgent"),
                   Notice("community", "emergency", "emergency"),
                   Notice("holders", "property_dispatched", "at_property"))),
    # 小事不出格: a patrol report settled on the spot is resolved as it is made, in the same
    # transaction as its submit (services.create_order); it never waits in a queue
    Action("settle", (SUBMITTED,), RESOLVED, frozenset({"staff"}), ON_THE_LADDER, "take",
           requires={"*": ("result",)}, effect=_settle, precondition=_on_patrol),
    # 接单 (a department's 报到 at the top rung)
    Action("claim", UNCLAIMED_STATES, states.CLAIMED, frozenset({"staff"}), STAFF_ROLES | PROPERTY, "take",
           effect=_claim, notify=(Notice("resident", "claimed"),)),
    # 派单: a leader gives a waiting order to a named worker of its grid; the system does at intake in
    # a grid with 轮派 on (orders/rota.py), to the on-duty worker with the fewest open orders
    Action("assign", UNCLAIMED_STATES, states.CLAIMED, frozenset({"staff", "system"}), LEADERS, "take",
           requires={"*": ("assignee",)}, accepts=("note",), effect=_assign,
           notify=(Notice("assignee", "assigned_to_you"), Notice("resident", "claimed"))),
    # give a claim back to the queue
    Action("release", (states.CLAIMED,), SUBMITTED, frozenset({"staff"}), STAFF_ROLES | PROPERTY, "hold",
           accepts=("note",), effect=_release),
    # 办理: a progress note; the first one starts the work
    Action("progress", CLAIMED_STATES, IN_PROGRESS, frozenset({"staff"}), STAFF_ROLES | PROPERTY, "hold",
           requires={"*": ("note",)}, accepts=("photos",)),
    # 办结
    Action("resolve", CLAIMED_STATES, RESOLVED, frozenset({"staff"}), STAFF_ROLES | PROPERTY, "hold",
           requires={"*": ("result",)}, accepts=("photos",), effect=_resolve,
           notify=(Notice("resident", "resolved"),)),
    # 上报 / 吹哨: one rung up, by hand with a reason or by a missed time limit
    Action("escalate", OPEN_STATES, ESCALATED, frozenset({"staff", "system"}), ON_THE_LADDER, "move",
           requires={"staff": ("reason",)}, effect=_escalate, precondition=_rung_above, refused_code="top_rung",
           notify=(Notice("holders", "escalated"), Notice("resident", "escalated"))),
    # 转派: to another grid in the actor's scope
    Action("transfer", OPEN_STATES, SUBMITTED, frozenset({"staff"}), ON_THE_LADDER, "move",
           requires={"*": ("reason", "grid")}, effect=_into_grid, notify=_HOLDERS_ASSIGNED),
    # 分派网格: an order from the community pool (address not understood) into a grid
    Action("place", UNCLAIMED_STATES, None, frozenset({"staff"}), ADMINS,
           requires={"*": ("grid",)}, accepts=("note",), effect=_into_grid, notify=_HOLDERS_ASSIGNED),
    # 小区吹哨、物业报到: a compound's problem to its property company, with the property's own limits
    Action("dispatch_property", OPEN_STATES, SUBMITTED, frozenset({"staff"}), ON_THE_LADDER, "move",
           accepts=("note",), effect=_to_property, precondition=_property_available,
           notify=(Notice("holders", "property_dispatched"),)),
    # … and back up to the community: the property hands it back with a reason, or the tick
    # returns it when the property missed its acknowledge or resolve limit
    Action("return_from_property", OPEN_STATES, ESCALATED, frozenset({"staff", "system"}), PROPERTY | ADMINS,
           requires={"staff": ("reason",)}, effect=_from_property, precondition=_at_property,
           notify=(Notice("community", "property_returned"), Notice("resident", "escalated"))),
    # 督办: press whoever holds it; no state change
    Action("supervise", OPEN_STATES, None, frozenset({"staff"}), LEADERS,
           requires={"*": ("note",)}, effect=_supervise, notify=(Notice("pressed", "supervise"),)),
    # 回访评价 on the 12345 scale: 满意 / 基本满意 close the loop …
    # Each reporter and co-reporter rates once per resolution (rule `rater`); the order holds the least
    # satisfied answer (_rate); a co-reporter may still rate an order another already rated
    Action("rate", (RESOLVED, RATED), RATED, frozenset({"resident"}), rule="rater",
           requires={"*": ("satisfaction",)}, accepts=("comment", "score"), effect=_rate,
           precondition=merging.rating_open, refused_as="state"),
    # … 不满意 reopens it (staff may reopen too, with a reason, e.g. after a return visit by phone)
    # (不满意 from any co-reporter too, also once another rated it: the first reopens it, once)
    Action("reopen", (RESOLVED, RATED), REOPENED, frozenset({"resident", "staff"}), ADMINS,
           {"resident": "rater", "staff": "scope"}, precondition=merging.rating_open, refused_as="state",
           requires={"resident": ("satisfaction",), "staff": ("reason",)}, accepts=("comment", "score"),
           effect=_reopen, notify=(Notice("leader", "reopened"), Notice("resolver", "reopened"), Notice("resident", "reopened"))),
    # 归档: by the tick after a delay (unrated ones as 未评价), or by an admin with a reason
    Action("close", (RATED, RESOLVED), CLOSED, frozenset({"staff", "system"}), ADMINS,
           requires={"staff": ("reason",)}, effect=_close),
    # 撤回, by the resident, while nobody has started on it
    Action("cancel", (SUBMITTED, states.CLAIMED), CANCELLED, frozenset({"resident"}), rule="own",
           accepts=("note",), effect=_cancel),
    # Staff corrections (audited; corrected categories become the classifier's training data)
    Action("correct_category", tuple(s for s in STATES if s not in (CANCELLED, CLOSED)), None,
           frozenset({"staff"}), STAFF_ROLES, requires={"*": ("category",)}, accepts=("note",),
           effect=_correct_category),
    Action("set_grade", OPEN_STATES, None, frozenset({"staff"}), LEADERS,
           requires={"*": ("grade",)}, accepts=("note",), effect=_set_grade),
    # 不公示: keep an order off the public pages (personal matters the masking cannot see), and back
    Action("make_private", tuple(s for s in STATES if s != CANCELLED), None, frozenset({"staff"}), LEADERS,
           requires={"*": ("reason",)}, effect=_flag("private"), precondition=_is_public),
    Action("make_public", tuple(s for s in STATES if s != CANCELLED), None, frozenset({"staff"}), LEADERS,
           requires={"*": ("reason",)}, effect=_unflag("private"), precondition=_is_private),
    # --- 延期 / 挂起 / 申诉 (考核, issue 26): the assessment's rows, kept together -------------------
    # 延期: the worker asks for a later resolve-by with a reason; the rung above approves or refuses
    Action("extend", CLAIMED_STATES, None, frozenset({"staff"}), STAFF_ROLES | PROPERTY, "hold",
           requires={"*": ("reason", "until")}, effect=_ask_extension, precondition=_extension_possible,
           refused_code="extension_not_possible", notify=(Notice("leader", "extension_asked"),)),
    Action("approve_extension", CLAIMED_STATES, None, frozenset({"staff"}), LEADERS, "above",
           accepts=("note",), effect=_approve_extension,
           precondition=_flag_is("extension_pending", "an extension asked"), refused_code="nothing_asked",
           notify=(Notice("assignee", "extension_approved"),)),
    Action("refuse_extension", CLAIMED_STATES, None, frozenset({"staff"}), LEADERS, "above",
           requires={"*": ("reason",)}, effect=_refuse_extension,
           precondition=_flag_is("extension_pending", "an extension asked"), refused_code="nothing_asked",
           notify=(Notice("assignee", "extension_refused"),)),
    # 挂起: waiting for the resident, a third party or the weather; the clock stops (a long pause
    # asked by a worker waits for a leader's approval first) and restarts on 恢复
    Action("pause", CLAIMED_STATES, None, frozenset({"staff"}), STAFF_ROLES | PROPERTY, "hold",
           requires={"*": ("reason", "why")}, accepts=("days",), effect=_pause, precondition=_not_paused,
           refused_code="already_paused"),
    Action("approve_pause", CLAIMED_STATES, None, frozenset({"staff"}), LEADERS, "above",
           accepts=("note",), effect=_approve_pause,
           precondition=_flag_is("pause_pending", "a long pause asked"), refused_code="nothing_asked"),
    Action("resume", CLAIMED_STATES, None, frozenset({"staff"}), STAFF_ROLES | PROPERTY, "hold",
           accepts=("note",), effect=_resume, precondition=_pausing, refused_code="not_paused"),
    # 申诉 / 免责: 不合理 / 重复 / 恶意诉求, approved by the community: out of the unit's 满意率 and
    # 按时办结率, still counted and on the timeline
    Action("appeal", tuple(s for s in STATES if s != CANCELLED), None, frozenset({"staff"}),
           STAFF_ROLES | PROPERTY, requires={"*": ("ground", "reason")}, effect=_appeal,
           precondition=_appealable, refused_code="appeal_not_possible"),
    Action("approve_appeal", tuple(s for s in STATES if s != CANCELLED), None, frozenset({"staff"}), ADMINS,
           accepts=("note",), effect=_approve_appeal,
           precondition=_flag_is("appeal_pending", "an appeal waiting"), refused_code="nothing_asked"),
    Action("refuse_appeal", tuple(s for s in STATES if s != CANCELLED), None, frozenset({"staff"}), ADMINS,
           requires={"*": ("reason",)}, effect=_refuse_appeal,
           precondition=_flag_is("appeal_pending", "an appeal waiting"), refused_code="nothing_asked"),
    # --- end of the assessment's rows ---------------------------------------------------------------
    # --- issue 20 (H7): 合并 / 撤销合并, 电话回访, 回复居民 -------------------------------------------
    # 合并: a duplicate closes into its original (merging.py); roles and scope as transfer
    Action("merge", OPEN_STATES, MERGED, frozenset({"staff"}), ON_THE_LADDER, "move",
           requires={"*": ("original",)}, accepts=("note",), effect=merging.merge),
    # 附议: a resident about to report the same problem follows this order instead, as a co-reporter
    # (services.join: only an order that duplicates.for_draft names for what they were reporting)
    Action("join", OPEN_STATES, None, frozenset({"resident"}), rule="join",
           requires={"*": ("note",)}, effect=merging.join),
    # 撤销合并: back to its own queue with fresh limits, while the original is still open
    Action("unmerge", (MERGED,), SUBMITTED, frozenset({"staff"}), ON_THE_LADDER, "move",
           requires={"*": ("reason",)}, effect=merging.unmerge, precondition=merging.original_open),
    # 电话回访: staff record the answer of a resident who cannot rate (no account) or has not rated
    # within CALLBACK_AFTER_DAYS; 满意 / 基本满意 rate it (counted as 回访, apart) …
    Action("callback", (RESOLVED,), RATED, frozenset({"staff"}), ON_THE_LADDER,
           requires={"*": ("satisfaction",)}, accepts=("note", "called_at"), effect=replies.record_callback,
           precondition=replies.callback_due),
    # … 不满意 reopens it as the resident's own would (services.callback picks the row)
    Action("callback_reopen", (RESOLVED,), REOPENED, frozenset({"staff"}), ON_THE_LADDER,
           requires={"*": ("satisfaction",)}, accepts=("note", "called_at"), effect=_callback_reopen,
           precondition=replies.callback_due,
           notify=(Notice("leader", "reopened"), Notice("resolver", "reopened"), Notice("resident", "reopened"))),
    # 回复居民: staff write to the resident (a canned reply with its variables filled, or their own
    # words); the resident reads it on the H5 timeline and gets it as a WeChat message
    Action("reply", tuple(s for s in STATES if s not in (CANCELLED, CLOSED, MERGED)), None, frozenset({"staff"}),
           STAFF_ROLES | PROPERTY, requires={"*": ("note",)}, notify=(Notice("resident", "reply"),)),
    # --- end of issue 20's rows -------------------------------------------------------------------
    # Records that change no state
    Action("overdue", OPEN_STATES, None, frozenset({"system"}), effect=_flag("overdue"),
           notify=(Notice("holders", "overdue"),)),
    Action("attach", (*OPEN_STATES, RESOLVED), None, frozenset({"resident"}), rule="own",
           requires={"*": ("photos",)}),
    # WeChat's msg_sec_check passed: a record (engine.perform_record writes it without loading the
    # order). Our hooks have nothing for it: `_after` leaves an unchanged order's flags and due as
    # they are, `_attach` adds nothing to an event neither assessed nor with photos, and nobody is
    # told (the claim queue keeps the order where it is).
    Action("content_check", tuple(STATES), None, frozenset({"system"}), record=True),
    Action("content_flag", tuple(STATES), None, frozenset({"system"}), effect=_flag("content_flagged")),
    Action("note", tuple(STATES), None, frozenset({"system"})),
    # 个人信息保护: retention (archived orders after RESIDENT_DATA_RETENTION_MONTHS) or a resident's
    # deletion request (backend/privacy); the order and its figures stay
    Action("anonymise", tuple(STATES), None, frozenset({"system"}), accepts=("why",), effect=_anonymise,
           precondition=_not_anonymised),
)

# Who is told is the receivers' business (notices.py, on order_changed): the signal carries the row.
def announce(order, row, event, ctx) -> None:
    db.session.flush()  # receivers see ids (a new order's grid, community) as the database will
    order_changed.send(order, action=row.name, event=event, row=row)


# The events the assessment reads (orders/assessment.py) carry where the order stood when they were
# written: its grid, community, street, rung, department or property at that rung, and who held it.
ASSESSED = frozenset({"submit", "claim", "assign", "settle", "resolve", "escalate", "return_from_property",
                      "dispatch_property", "supervise", "approve_extension", "pause", "approve_pause"})


def _where(order, row, ctx) -> dict:
    rung = order.rung
    if row.name in ("escalate", "return_from_property"):
        rung = ctx.event.get("rung_from", rung)
    worker = ctx.event.get("held_by") if row.name in ("escalate", "return_from_property") else (
        order.resolver_id if row.name in ("resolve", "settle") else order.assignee_id)
    return {"grid": order.grid_id, "community": order.community_id, "street": order.street_id, "rung": rung,
            "department": order.department_id if rung == "department" else None,
            "property": order.property_company_id if rung == "property" else None, "worker": worker}


def _attach(order, row, event, ctx) -> None:
    """Photos as URLs, or dicts with url, content_type and size (files we stored ourselves); and,
    for the events the assessment reads, where the order stood (`at`)."""
    if row.name in ASSESSED:
        event.data = {**(event.data or {}), "at": _where(order, row, ctx)}
    for photo in ctx.data.get("photos") or []:
        details = photo if isinstance(photo, dict) else {"url": photo}
        order.attachments.append(Attachment(kind="photo", event=event, created_at=ctx.now, **details))


def _after(order, row, ctx) -> None:
    if order.state not in CLAIMED_STATES:  # nobody holds it now: what its holder asked lapses
        for flag in ("extension_pending", "pause_pending", "paused"):
            order.drop_flag(flag)
    order.due_at = deadlines.current_due(order)


# Input the engine reads; anything else a caller passes is the event's own data (e.g. the SLA key).
INPUTS = {"note", "reason", "result", "satisfaction", "comment", "score", "category", "grade",
          "assignee", "assignee_id", "grid", "grid_id", "building_id", "photos", "until", "why", "days", "ground",
          "original", "called_at"}
_FORBIDDEN = {
    "claim": "这张工单不在你能接的层级", "assign": "这张工单不在你能派的层级",
    "release": "只有接单人或其上级可以退回", "progress": "只有接单人或其上级可以记录进展",
    "resolve": "只有接单人或其上级可以办结", "escalate": "只有接单人或其上级可以上报",
    "transfer": "只有接单人或其上级可以转派", "merge": "只有接单人或其上级可以合并",
    "unmerge": "这张工单不在你能撤销合并的层级",
    "settle": "只能当场解决自己网格里的事：请选择楼栋，或写明小区和楼号",
    "rate": "您已评价过这次的办理结果", "reopen": "您已评价过这次的办理结果，或无权重新办理",
}

# `settle` happens only as a patrol report is made, never to an order that exists; `callback_reopen`
# is what a callback's 不满意 asks for (dispatch.claims.act picks it), not a button of its own.
TABLE = Table("order", ROWS, subject="这张工单", states=STATES, event=OrderEvent, owner="order",
              state_labels="states", action_labels="actions", input_labels="inputs",
              rules=_rule_passes, new=("submit",), hidden=("settle", "callback_reopen"), trusted=("system", "bot"),
              note_keys=("result", "reason", "note", "comment"), rule_messages=_FORBIDDEN,
              aliases={"grid": ("grid_id", "building_id"), "assignee": ("assignee_id",), "satisfaction": ("score",)},
              check=inputs.check, after=_after, recorded=_attach, announce=announce,
              passthrough=lambda given: {k: v for k, v in given.items() if k not in INPUTS})
ACTIONS, REQUESTABLE = TABLE.rows, TABLE.requestable
row, refusal, allowed_actions, markdown_table = TABLE.row, TABLE.refusal, TABLE.allowed, TABLE.markdown


def describe(action: str) -> str:
    """The row in words, for the OpenAPI document: the API says what the table says."""
    a = ACTIONS[action]
    who = ", ".join(sorted(a.actors - {"system", "bot"}))
    if a.roles and "staff" in a.actors:
        who += " (" + ", ".join(sorted(a.roles)) + ")"
    rule = a.rule if isinstance(a.rule, str) else ", ".join(f"{k}: {v}" for k, v in a.rule.items())
    needs = "; ".join(f"{k}: {', '.join(v)}" for k, v in a.requires.items()) or "nothing"
    return (f"**{action}** — from {', '.join(a.sources) or '(new)'} to {a.target or '(unchanged)'}; "
            f"who: {who}; scope rule: {rule}; requires {needs}. Refused: role 403, state 409, "
            f"rule 403, input 422. The order's `allowed_actions` tells whether it is possible now.")


assert set(SATISFACTIONS) == {*CLOSING_SATISFACTIONS, "unsatisfied"}
