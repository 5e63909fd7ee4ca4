"""Every (state, action) pair: allowed ones change state and write one event; the rest raise
InvalidTransition and change nothing."""
import itertools

import pytest
from sqlalchemy import func, select

from backend.accounts.actors import Actor
from backend.errors import InvalidTransition
from backend.orders import services, states
from backend.orders.models import OrderEvent

PAIRS = list(itertools.product(states.STATES, states.ACTIONS))
RESIDENT_ACTIONS = {"rate", "reopen", "cancel"}


def _actor(action, resident, admin):
    return Actor.for_resident(resident) if action in RESIDENT_ACTIONS else Actor.for_staff(admin)


def _kwargs(action):
    return {"resolve": {"note": "已修好"}, "rate": {"score": 5}, "reopen": {"score": 2}}.get(action, {})


@pytest.mark.parametrize("state,action", PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_transition_table(make, db, state, action):
    world = make.world()
    admin = make.staff("sysadmin")
    order = make.order(world["resident"])
    order.state = state  # arrange: put the order straight into the state under test
    db.session.commit()
    events_before = db.session.scalar(select(func.count()).select_from(OrderEvent))
    actor = _actor(action, world["resident"], admin)

    if states.can(state, action):
        services.change(actor, order, action, **_kwargs(action))
        db.session.expire_all()
        assert order.state == states.TRANSITIONS[(state, action)]
        last = db.session.scalars(select(OrderEvent).order_by(OrderEvent.id.desc())).first()
        assert (last.action, last.from_state, last.to_state) == (action, state, order.state)
        assert db.session.scalar(select(func.count()).select_from(OrderEvent)) == events_before + 1
    else:
        with pytest.raises(InvalidTransition):
            services.change(actor, order, action, **_kwargs(action))
        db.session.rollback()
        db.session.expire_all()
        assert order.state == state
        assert db.session.scalar(select(func.count()).select_from(OrderEvent)) == events_before


def test_table_only_names_known_states():
    for (src, action), dst in states.TRANSITIONS.items():
        assert src in states.STATES and dst in states.STATES and action in states.ACTIONS


def test_terminal_states_have_no_way_out():
    for terminal in (states.CLOSED, states.CANCELLED):
        assert not any(states.can(terminal, action) for action in states.ACTIONS)


def test_unsatisfied_rating_reopens(make, db):
    world = make.world()
    order = make.order(world["resident"])
    worker = Actor.for_staff(world["workers"][0])
    services.change(worker, order, "claim")
    services.change(worker, order, "resolve", note="已处理")
    services.rate(Actor.for_resident(world["resident"]), order, 2, "灯还是不亮")
    assert order.state == states.REOPENED
    assert order.reopen_count == 1 and order.assignee_id is None
