"""Generated from the lifecycle table: every (state, action, actor) either succeeds as the order's
`allowed_actions` predicted — the row's target state, exactly one new event, the database checks
satisfied — or is refused with the status of its reason (role 403, state 409, rule 403, input 422)
and leaves the order and its history exactly as they were."""
from datetime import timedelta

import pytest
from sqlalchemy import bindparam, func, select

from backend import clock
from backend.accounts.actors import SYSTEM, Actor
from backend.categories import taxonomy
from backend.errors import DomainError
from backend.orders import lifecycle, services, states
from backend.orders.models import Order, OrderEvent

ACTORS = ("owner", "other_resident", "assignee", "colleague", "other_grid_worker", "leader",
          "community_admin", "other_community_admin", "street_admin", "liaison", "sysadmin", "system")
ACTIONS = lifecycle.REQUESTABLE
REASON = {"role": 403, "state": 409, "rule": 403, "precondition": 409}


@pytest.fixture
def town(make, db):
    world = make.world()
    other_community = make.community(world["street"])
    other_grid = make.grid(other_community)
    department = make.department(world["street"], categories=["城乡建设"])
    g1 = world["grids"][0]
    people = {
        "owner": Actor.for_resident(world["resident"]),
        "other_resident": Actor.for_resident(make.resident()),
        "assignee": Actor.for_staff(world["workers"][0]),
        "colleague": Actor.for_staff(make.staff("grid_worker", grid=g1)),
        "other_grid_worker": Actor.for_staff(world["workers"][1]),
        "leader": Actor.for_staff(world["leader"]),
        "community_admin": Actor.for_staff(world["community_admin"]),
        "other_community_admin": Actor.for_staff(make.staff("community_admin", community=other_community)),
        "street_admin": Actor.for_staff(world["street_admin"]),
        "liaison": Actor.for_staff(make.staff("department_liaison", department=department)),
        "sysadmin": Actor.for_staff(make.staff("sysadmin")),
        "system": SYSTEM,
    }
    # the open order every `merge` here names, and every merged order is merged into
    original = make.order(make.resident(), location_text="水晶城小区3号楼2单元", category="城乡建设/市政设施")
    return {**world, "people": people, "other_grid": other_grid, "department": department, "original": original}


def put_in_state(db, order: Order, state: str, town) -> Order:
    """Arrange an order in `state` with the fields that state has in real life (the database
    checks refuse anything else)."""
    now = clock.now()
    assignee = town["people"]["assignee"].id
    order.state = state
    if state in states.CLAIMED_STATES:
        order.assignee_id = assignee
    if state == states.ESCALATED:
        order.rung = "grid_leader"
    if state in (states.RESOLVED, states.RATED, states.CLOSED):
        order.result, order.resolved_at, order.resolver_id = "已处理", now, assignee
    if state in (states.RATED, states.CLOSED):
        order.satisfaction, order.rated_at = "satisfied", now
    if state == states.CLOSED:
        order.closed_at = now
    if state == states.REOPENED:
        order.reopen_count, order.satisfaction = 1, "unsatisfied"
    if state == states.MERGED:
        order.merged_into_id = town["original"].id
    order.due_at = (order.resolve_by if state in states.CLAIMED_STATES
                    else order.claim_by if state in states.UNCLAIMED_STATES else None)
    db.session.commit()
    return order


def given(action: str, actor: Actor, town) -> dict:
    """A valid input for the action (targets inside the community, so scope decides alone)."""
    return {
        "assign": {"assignee": town["people"]["colleague"].id},
        "release": {"note": "先退回"},
        "progress": {"note": "已到现场"},
        "resolve": {"result": "已修好"},
        "escalate": {"reason": "需要上级协调"},
        "transfer": {"reason": "不属于本网格", "grid": town["grids"][1].code},
        "place": {"grid": town["grids"][1].code},
        "supervise": {"note": "请尽快办理"},
        "rate": {"satisfaction": "basically_satisfied", "comment": "还行"},
        "reopen": {"satisfaction": "unsatisfied"} if actor.is_resident else {"reason": "回访不满意"},
        "close": {"reason": "重复工单"},
        "cancel": {},
        "attach": {"photos": ["https://example.org/photo.jpg"]},
        "correct_category": {"category": taxonomy.labels(2)[-1]},
        "set_grade": {"grade": "urgent"},
        "make_private": {"reason": "涉及个人隐私"},
        "make_public": {"reason": "已核实可以公示"},
        "extend": {"reason": "等待配件到货", "until": clock.now() + timedelta(days=6)},
        "refuse_extension": {"reason": "时限内可以办完"},
        "pause": {"reason": "居民不在家", "why": "resident", "days": 1},
        "appeal": {"ground": "repeated", "reason": "与上周工单重复"},
        "refuse_appeal": {"reason": "不属于重复诉求"},
        "merge": {"original": town["original"].number},
        "unmerge": {"reason": "不是同一件事"},
        "callback": {"satisfaction": "satisfied", "note": "电话回访"},
        "reply": {"note": "您好，已安排人员处理"},
        "join": {"note": "3号楼门口路灯也不亮", "channel": "h5"},
    }.get(action, {})


def snapshot(db, order_id: int):
    db.session.expire_all()
    row = db.session.get(Order, order_id)
    columns = {c.key: getattr(row, c.key) for c in Order.__table__.columns}
    events = db.session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id == order_id))
    return columns, events


def _fresh(make, db, town, state):
    order = make.order(town["resident"], location_text="水晶城小区3号楼2单元", category="城乡建设/市政设施")
    return put_in_state(db, order, state, town)


@pytest.mark.parametrize("state", states.STATES)
def test_every_action_for_every_actor(make, db, redis, town, state):
    assert town["grids"][0].id is not None
    order = _fresh(make, db, town, state)
    outcomes = {}
    for action in ACTIONS:
        row = lifecycle.ACTIONS[action]
        for who in ACTORS:
            actor = town["people"][who]
            predicted = lifecycle.refusal(actor, order, row)
            assert (predicted is None) == (action in services.present(actor, order).allowed_actions) \
                or actor.kind == "system"
            if predicted is not None:
                before = snapshot(db, order.id)
                with pytest.raises(DomainError) as refused:
                    services.perform(actor, db.session.get(Order, order.id), action, **given(action, actor, town))
                db.session.rollback()
                assert refused.value.status == REASON[predicted], (state, action, who, refused.value.message)
                assert snapshot(db, order.id) == before, (state, action, who)
                outcomes[(action, who)] = refused.value.status
                continue
            # Allowed: do it on a fresh order in the same state.
            target = _fresh(make, db, town, state)
            events_before = snapshot(db, target.id)[1]
            done = services.perform(actor, target, action, **given(action, actor, town))
            db.session.expire_all()
            done = db.session.get(Order, target.id)
            assert done.state == (row.target or state), (state, action, who)
            assert snapshot(db, target.id)[1] == events_before + 1
            last = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == target.id)
                                      .order_by(OrderEvent.id.desc())).first()
            assert (last.action, last.from_state, last.to_state) == (action, state, done.state)
            outcomes[(action, who)] = 200
    # The table's own business, stated independently of it for the states where it matters.
    if state == states.SUBMITTED:
        assert outcomes[("claim", "assignee")] == 200
        assert outcomes[("claim", "liaison")] == 403
        assert outcomes[("cancel", "owner")] == 200 and outcomes[("cancel", "other_resident")] == 403
        assert outcomes[("assign", "leader")] == 200 and outcomes[("assign", "assignee")] == 403
        assert outcomes[("resolve", "assignee")] == 409
        # 附议: another resident may follow it (joining.py checks it is their problem); not its reporter, no staff
        assert outcomes[("join", "other_resident")] == 200 and outcomes[("join", "owner")] == 403
        assert outcomes[("join", "community_admin")] == 403
    if state == states.CLAIMED:
        assert outcomes[("resolve", "assignee")] == 200 and outcomes[("resolve", "colleague")] == 403
        assert outcomes[("escalate", "colleague")] == 403 and outcomes[("escalate", "leader")] == 200
    if state == states.RESOLVED:
        assert outcomes[("rate", "owner")] == 200 and outcomes[("reopen", "owner")] == 200
        assert outcomes[("rate", "other_resident")] == 403 and outcomes[("rate", "community_admin")] == 403
        assert outcomes[("close", "system")] == 200 and outcomes[("close", "assignee")] == 403
    if state == states.CANCELLED:
        assert all(status != 200 for status in outcomes.values()), outcomes
    if state == states.CLOSED:  # archived: only whether it is published, or counted (申诉), can still change
        assert {a for (a, _), status in outcomes.items() if status == 200} == {"make_private", "appeal"}, outcomes
        assert outcomes[("appeal", "owner")] == 403 and outcomes[("approve_appeal", "community_admin")] == 409
    if state == states.CLAIMED:  # 延期 / 挂起: the holder asks, nothing waits to be approved yet
        assert outcomes[("extend", "assignee")] == 200 and outcomes[("extend", "colleague")] == 403
        assert outcomes[("pause", "assignee")] == 200 and outcomes[("resume", "assignee")] == 409
        assert outcomes[("approve_extension", "leader")] == 409 and outcomes[("approve_extension", "assignee")] == 403
    assert outcomes[("make_public", "community_admin")] == 409  # nothing to undo on a public order


RECORDS = [name for name, row in lifecycle.ACTIONS.items() if row.record]


@pytest.mark.parametrize("state", states.STATES)
def test_a_record_by_the_orders_id_writes_what_perform_writes(make, db, redis, town, state):
    """Every record row (Row.record: the content check), in every state: `services.record` writes
    without loading the order the event `services.perform` writes — who, what, from and to the state
    it is in, the note, the data — and touches the order as perform does (updated_at, the version),
    nothing else; asked once more with its own event as `unless`, it writes nothing."""
    assert RECORDS == ["content_check"]
    ignored = {"updated_at", "version"}
    for action in RECORDS:
        performed = _fresh(make, db, town, state)
        db.session.refresh(town["original"])  # put_in_state reads it halfway through a change
        recorded = _fresh(make, db, town, state)
        before = {o.id: snapshot(db, o.id) for o in (performed, recorded)}
        clock.travel(timedelta(minutes=1))
        services.perform(SYSTEM, db.session.get(Order, performed.id), action, check="msg_sec_check", verdict="pass")
        done_once = select(func.count() > 0).select_from(OrderEvent).where(
            OrderEvent.order_id == bindparam("subject_id"), OrderEvent.action == action)
        assert services.record(SYSTEM, recorded.id, action, unless=done_once, check="msg_sec_check", verdict="pass")
        assert not services.record(SYSTEM, recorded.id, action, unless=done_once, check="msg_sec_check",
                                   verdict="pass")
        events = []
        for order in (performed, recorded):
            (was, count), (now, count_now) = before[order.id], snapshot(db, order.id)
            assert count_now == count + 1, (state, action)
            assert {k: v for k, v in now.items() if k not in ignored} == \
                {k: v for k, v in was.items() if k not in ignored}, (state, action)
            assert now["version"] == was["version"] + 1, (state, action)
            assert now["updated_at"] >= was["updated_at"] + timedelta(minutes=1), (state, action)
            last = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)
                                      .order_by(OrderEvent.id.desc())).first()
            events.append({c.key: getattr(last, c.key) for c in OrderEvent.__table__.columns
                           if c.key not in ("id", "order_id", "created_at")})
        assert events[0] == events[1] and events[0]["from_state"] == events[0]["to_state"] == state
        clock.travel(timedelta(minutes=-1))


def test_a_record_of_a_missing_order_writes_nothing_and_a_row_that_is_no_record_goes_through_perform(
        make, db, redis, town):
    assert not services.record(SYSTEM, 999999, "content_check", check="msg_sec_check", verdict="pass")
    order = _fresh(make, db, town, states.SUBMITTED)
    assert services.record(SYSTEM, order.id, "content_flag", check="msg_sec_check", verdict="risky")
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert "content_flagged" in order.flags and order.events[-1].action == "content_flag"
    with pytest.raises(DomainError) as refused:  # the engine's refusals as perform's
        services.record(town["people"]["owner"], order.id, "content_check")
    assert refused.value.status == 403


def test_a_table_refuses_a_record_that_changes_something():
    from backend.lifecycle import Row, Table
    with pytest.raises(AssertionError, match="is no record"):
        Table("t", [Row("mark", ("a",), None, frozenset({"system"}), effect=lambda s, c: None, record=True)],
              subject="它", states=("a",), event=OrderEvent, owner="order", state_labels="states",
              action_labels="actions", input_labels="inputs", rules=lambda *a, **k: True)
    with pytest.raises(AssertionError, match="is no record"):
        Table("t", [Row("mark", ("a",), None, frozenset({"system", "staff"}), record=True)],
              subject="它", states=("a",), event=OrderEvent, owner="order", state_labels="states",
              action_labels="actions", input_labels="inputs", rules=lambda *a, **k: True)


def test_every_requestable_action_has_a_row_a_label_and_a_way_in(app):
    from backend.labels import label
    rules = {r.rule: r for r in app.url_map.iter_rules()}
    api_actions = {rule.endpoint.split(".")[-1] for path, rule in rules.items()
                   if path.startswith("/api/v1/orders/<string:number>/") and "POST" in rule.methods}
    for name in lifecycle.REQUESTABLE:
        assert label("actions", name) != name, f"no label for {name}"
    # every POST on an order is a lifecycle row (the resident's rating maps to rate/reopen)
    assert api_actions - {"rate"} <= set(lifecycle.ACTIONS), api_actions - set(lifecycle.ACTIONS)
    # and every staff or resident action can be reached through the API
    reachable = api_actions | {"rate", "reopen", "attach"}
    assert set(lifecycle.REQUESTABLE) <= reachable, set(lifecycle.REQUESTABLE) - reachable


def test_an_action_without_a_row_is_refused(make, db, redis, town):
    order = make.order(town["resident"])
    with pytest.raises(DomainError) as refused:
        services.perform(town["people"]["sysadmin"], order, "demolish")
    assert refused.value.status == 422


def test_database_refuses_an_assignee_outside_the_claimed_states(make, db, redis, town):
    from sqlalchemy.exc import IntegrityError
    order = make.order(town["resident"])
    order.assignee_id = town["people"]["assignee"].id  # submitted, yet assigned: impossible
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_database_refuses_a_second_submit_event(make, db, redis, town):
    from sqlalchemy.exc import IntegrityError
    order = make.order(town["resident"])
    db.session.add(OrderEvent(order_id=order.id, actor_type="system", action="submit", data={},
                              created_at=clock.now() + timedelta(seconds=1)))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
