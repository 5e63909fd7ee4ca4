"""Generated from the dispute and wish lifecycle tables, as tests/orders/test_lifecycle.py is from the
order table: every state × every action of the table × every kind of actor either succeeds as the
table predicts — the row's target state (or the same state), exactly one new event naming the
action and both states — or is refused with the status of its reason (backend.lifecycle.STATUS)
and leaves the subject and its history exactly as they were. Each state is reached the way it is in
real life, through the table's own actions; and the test fails when a table has a row it cannot
reach or an action no actor here may ever do."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backend import clock
from backend.accounts.actors import SYSTEM, Actor
from backend.disputes import lifecycle as disputes_table, services as disputes
from backend.disputes.models import Dispute, DisputeEvent
from backend.errors import DomainError
from backend.lifecycle import STATUS
from backend.wishes import lifecycle as wishes_table, services as wishes
from backend.wishes.models import Wish, WishEvent
from tests.wishes.conftest import board  # noqa: F401  (the wish board's people)


def snapshot(db, model, event, key, subject_id):
    db.session.expire_all()
    row = db.session.get(model, subject_id)
    columns = {c.key: getattr(row, c.key) for c in model.__table__.columns}
    events = db.session.scalar(select(func.count()).select_from(event).where(getattr(event, key) == subject_id))
    return columns, events


def walk(db, table, people, make_subject, perform, given, model, event, key, state):
    """Every action of `table` by every actor in `people` on a subject in `state`."""
    subject = make_subject(state)
    assert subject.state == state
    outcomes = {}
    for action, row in table.ACTIONS.items():
        if action in table.TABLE.new:
            continue
        for who, actor in people.items():
            subject = db.session.get(model, subject.id)
            predicted = table.refusal(actor, subject, row, **context_for(actor, subject))
            if predicted is not None:
                before = snapshot(db, model, event, key, subject.id)
                with pytest.raises(DomainError) as refused:
                    perform(actor, db.session.get(model, subject.id), action, **given(action, subject))
                db.session.rollback()
                assert refused.value.status == STATUS[predicted], (state, action, who, refused.value.message)
                assert snapshot(db, model, event, key, subject.id) == before, (state, action, who)
                outcomes[(action, who)] = refused.value.status
                continue
            target = make_subject(state)  # allowed: do it on a fresh subject in the same state
            events_before = snapshot(db, model, event, key, target.id)[1]
            perform(actor, target, action, **given(action, target))
            db.session.expire_all()
            done = db.session.get(model, target.id)
            assert done.state == (row.target or state), (state, action, who)
            assert snapshot(db, model, event, key, target.id)[1] == events_before + 1, (state, action, who)
            last = db.session.scalars(select(event).where(getattr(event, key) == target.id)
                                      .order_by(event.id.desc())).first()
            assert (last.action, last.from_state, last.to_state) == (action, state, done.state)
            outcomes[(action, who)] = 200
    return outcomes


def context_for(actor, subject):
    return {"member": wishes.member_for(actor, subject.community_id)} if isinstance(subject, Wish) else {}


# --- wishes ------------------------------------------------------------------------------------

WISH_PATHS = {  # how a wish reaches each state: (action, who) from submitted
    "submitted": [], "published": [("approve", "admin")], "rejected": [("reject", "admin")],
    "withdrawn": [("withdraw", "wisher")], "expired": [("expire", "system")],
    "claimed": [("approve", "admin"), ("claim", "member")],
    "fulfilled": [("approve", "admin"), ("claim", "member"), ("fulfil", "member")],
    "confirmed": [("approve", "admin"), ("claim", "member"), ("fulfil", "member"), ("confirm", "wisher")],
}


def wish_input(action, wish):
    return {"reject": {"reason": "不属于微心愿范围"}, "fulfil": {"evidence": "已上门修好", "hours": Decimal("2")},
            "withdraw": {"note": "不需要了"}}.get(action, {})


@pytest.fixture
def wish_people(make, board):
    other_admin = make.staff("community_admin", community=board["other"])
    return {"wisher": board["wisher"], "member": board["actors"]["张伟"], "other_member": board["actors"]["赵敏"],
            "stranger": board["actors"]["钱多"], "admin": board["admin_actor"],
            "other_admin": Actor.for_staff(other_admin), "street_admin": Actor.for_staff(
                make.staff("street_admin", street=board["street"])),
            "grid_worker": Actor.for_staff(make.staff("grid_worker", grid=make.grid(board["community"]))), "system": SYSTEM}


@pytest.mark.parametrize("state", wishes_table.TABLE.states)
def test_every_wish_action_for_every_actor(db, board, wish_people, state):
    def make_subject(state):
        wish = wishes.create_wish(board["wisher"], community_id=board["community"].id, text="想请人帮忙修一下水龙头")
        for action, who in WISH_PATHS[state]:
            wishes.perform(wish_people[who], wish, action, **wish_input(action, wish))
        return db.session.get(Wish, wish.id)
    outcomes = walk(db, wishes_table, wish_people, make_subject, wishes.perform, wish_input, Wish, WishEvent,
                    "wish_id", state)
    if state == "published":  # the table's business, stated apart from it where it matters
        assert outcomes[("claim", "member")] == 200 and outcomes[("claim", "wisher")] == 403
        assert outcomes[("approve", "admin")] == 409  # the double tap on 通过
    if state == "submitted":
        assert outcomes[("approve", "admin")] == 200 and outcomes[("approve", "other_admin")] == 403


# --- disputes ----------------------------------------------------------------------------------

DISPUTE_PATHS = {
    "registered": [], "deliberating": ["open_deliberation"],
    "carrying_out": ["open_deliberation", "hold_meeting", "decide"],
    "feedback": ["open_deliberation", "hold_meeting", "decide", "finish_work"],
    "closed": ["open_deliberation", "hold_meeting", "decide", "finish_work", "give_feedback", "close"],
}


def dispute_input(action, dispute):
    return {
        "add_party": {"party": {"kind": "committee", "name": "业委会"}},
        "hold_meeting": {"held_at": clock.now() - timedelta(hours=2), "place": "党群服务站",
                         "attendees": ["网格员", "业委会", "物业"], "minutes": "各方同意按先来后到分配车位"},
        "decide": {"decision": "按先来后到分配车位", "method": "agreement"},
        "add_task": {"text": "划定车位标线", "location_text": "水晶城小区地下车库"},
        "finish_work": {"result": "标线已划好"}, "give_feedback": {"feedback": "已告知各方"},
        "record_consent": {"party_id": dispute.parties[0].id, "consent": "agreed"},
        "escalate": {"reason": "协商不成"},
    }.get(action, {})


@pytest.fixture
def dispute_people(make, world):
    other_community = make.community(world["street"])
    return {"worker": Actor.for_staff(world["workers"][0]), "other_grid_worker": Actor.for_staff(world["workers"][1]),
            "leader": Actor.for_staff(world["leader"]), "community_admin": Actor.for_staff(world["community_admin"]),
            "other_community_admin": Actor.for_staff(make.staff("community_admin", community=other_community)),
            "street_admin": Actor.for_staff(world["street_admin"]), "sysadmin": Actor.for_staff(make.staff("sysadmin")),
            "resident": Actor.for_resident(world["resident"]), "system": SYSTEM}


@pytest.mark.parametrize("state", disputes_table.TABLE.states)
def test_every_dispute_action_for_every_actor(db, redis, world, dispute_people, state):
    worker = dispute_people["worker"]

    def make_subject(state):
        dispute = disputes.register(worker, topic="parking", grid=world["grids"][0].code, subject="车位被长期占用",
                                    parties=[{"kind": "resident", "name": "王秀英"}, {"kind": "resident", "name": "赵建国"}])
        for action in DISPUTE_PATHS[state]:
            disputes.perform(worker, dispute, action, **dispute_input(action, dispute))
        return db.session.get(Dispute, dispute.id)
    outcomes = walk(db, disputes_table, dispute_people, make_subject, disputes.perform, dispute_input, Dispute,
                    DisputeEvent, "dispute_id", state)
    if state == "registered":
        assert outcomes[("open_deliberation", "worker")] == 200 and outcomes[("decide", "worker")] == 409
        assert outcomes[("add_party", "resident")] == 403 and outcomes[("add_party", "other_community_admin")] == 403


def test_every_state_of_each_table_is_walked_and_every_row_is_somebodys():
    assert set(WISH_PATHS) == set(wishes_table.TABLE.states)
    assert set(DISPUTE_PATHS) == set(disputes_table.TABLE.states)
    kinds = {"resident", "staff", "system"}
    for table in (wishes_table.TABLE, disputes_table.TABLE):
        assert all(row.actors & kinds for row in table.rows.values()), table.name
