"""定、商、决、办、馈: a dispute through all five steps, and a stalled step escalating on time."""
from datetime import datetime, timedelta, timezone

import pytest

from backend import clock
from backend.accounts.actors import Actor
from backend.disputes import jobs, services
from backend.disputes.models import DisputeEvent
from backend.dispatch import claims, listings
from backend.errors import Forbidden, InvalidTransition, ValidationFailed
from backend.notifications.models import Notification
from backend.public import services as public

MEETING = {"place": "3号楼党群服务站", "minutes": "各方陈述，物业提出划线方案",
           "positions": "王秀英要求恢复车位；赵建国称临时停放"}


def _meeting(actor, dispute, day, attendees):
    return services.perform(actor, dispute, "hold_meeting", held_at=datetime(2026, 11, day, 11, tzinfo=timezone.utc),
                            attendees=attendees, **MEETING)


def test_a_dispute_goes_through_five_steps_and_is_published_only_after_every_party_agrees(db, redis, world, parking, make):
    worker = Actor.for_staff(world["workers"][0])
    admin = Actor.for_staff(world["community_admin"])
    d = parking
    assert (d.state, d.level, d.source_order.kind) == ("registered", "grid", "dispute")
    assert (d.source_order.events[-1].action, d.source_order.events[-1].data["dispute"]) == ("note", d.id)
    assert {"open_deliberation", "add_party"} <= set(d.allowed_actions)
    d = services.perform(worker, d, "open_deliberation", note="约定周五议事")
    # 商: two meetings — a vote with counts is the decision
    d = _meeting(worker, d, 20, ["网格员陈晓燕", "业委会", "物业", "王秀英", "赵建国"])
    d = _meeting(worker, d, 27, ["网格员陈晓燕", "业委会", "物业", "3号楼居民代表"])
    d = services.perform(worker, d, "decide", method="vote", decision="车位按登记归还王秀英，物业施划临时车位",
                         votes_for=11, votes_against=2, votes_abstain=1)
    assert (d.state, len(d.meetings), d.votes_for, d.votes_against, d.votes_abstain) == ("carrying_out", 2, 11, 2, 1)
    # 办: the task is a real order, routed to the grid and on its queue
    d = services.perform(worker, d, "add_task", text="物业施划临时车位并张贴告示", location_text="水晶城小区3号楼")
    task = d.tasks[0].order
    assert (task.kind, task.grid_id, task.state) == ("dispute", world["grids"][0].id, "submitted")
    assert task.due_at is not None and "dispute_task" in task.flags
    assert task.number in [o.number for o in listings.queue(worker)["waiting"]]
    with pytest.raises(InvalidTransition):  # the task is still open
        services.perform(worker, d, "finish_work", result="已落实")
    claims.claim(worker, task.number)
    claims.act(worker, task.number, "resolve", result="临时车位已施划")
    d = services.perform(worker, services.get(worker, d.id), "finish_work", result="车位已归还，临时车位已施划")
    # 馈: told, then each party's agreement to publication
    d = services.perform(worker, d, "give_feedback", feedback="已向王秀英、赵建国及物业反馈，电话13812345678")
    for party in d.parties:
        with pytest.raises(InvalidTransition):
            services.perform(admin, d, "publish")
        d = services.perform(worker, d, "record_consent", party_id=party.id, consent="agreed")
    # publication is a leader's (like 不公示 on orders); the worker who ran it sees no such action
    assert "publish" not in d.allowed_actions and "publish" in services.get(admin, d.id).allowed_actions
    d = services.perform(admin, d, "publish")
    d = services.perform(worker, d, "close", note="结案")
    assert (d.state, d.due_at) == ("closed", None)
    shown = public.disputes_page()["disputes"]
    assert [x["id"] for x in shown] == [d.id]
    text = shown[0]["text"]
    assert "王秀英" not in text and "赵建国" not in text and "13812345678" not in text and "王**" in text
    assert shown[0]["votes"] == (11, 2, 1) and shown[0]["meetings"] == 2
    steps = [e.action for e in db.session.query(DisputeEvent).filter_by(dispute_id=d.id).order_by(DisputeEvent.id)]
    assert steps == ["register", "open_deliberation", "hold_meeting", "hold_meeting", "decide", "add_task",
                     "finish_work", "give_feedback", "record_consent", "record_consent", "record_consent",
                     "publish", "close"]


def test_one_party_declining_keeps_it_off_the_public_page(db, redis, world, parking):
    worker = Actor.for_staff(world["workers"][0])
    d = _to_feedback(worker, parking)
    first, *rest = d.parties
    d = services.perform(worker, d, "record_consent", party_id=first.id, consent="declined")
    for party in rest:
        d = services.perform(worker, d, "record_consent", party_id=party.id, consent="agreed")
    assert "publish" not in services.get(Actor.for_staff(world["community_admin"]), d.id).allowed_actions
    with pytest.raises(InvalidTransition):
        services.perform(Actor.for_staff(world["community_admin"]), d, "publish")
    assert public.disputes_page()["disputes"] == []


def _to_feedback(worker, d):
    d = services.perform(worker, d, "open_deliberation")
    d = _meeting(worker, d, 20, ["网格员", "物业"])
    d = services.perform(worker, d, "decide", method="agreement", decision="协商一致")
    d = services.perform(worker, d, "finish_work", result="已落实")
    return services.perform(worker, d, "give_feedback", feedback="已反馈")


def test_a_stalled_deliberation_escalates_on_time_once_per_level_then_is_overdue(db, redis, world, parking):
    worker = Actor.for_staff(world["workers"][0])
    d = services.perform(worker, parking, "open_deliberation")
    due = d.due_at
    clock.travel(due - clock.now() - timedelta(minutes=1))
    assert jobs.stall_tick()["escalated"] == 0  # a minute before the limit: nothing
    clock.travel(timedelta(minutes=2))
    assert jobs.stall_tick() == {"escalated": 1, "overdue": 0, "skipped": 0}
    assert jobs.stall_tick() == {"escalated": 0, "overdue": 0, "skipped": 0}  # idempotent
    d = services.get(Actor.for_staff(world["community_admin"]), d.id)
    assert (d.state, d.level) == ("deliberating", "community") and d.due_at > clock.now()
    # the grid worker now only sees it; the community holds it
    assert "hold_meeting" not in services.get(worker, d.id).allowed_actions
    told = db.session.query(Notification).filter_by(kind="dispute_escalated").all()
    assert {n.recipient_id for n in told} == {world["community_admin"].id}
    clock.travel(d.due_at - clock.now() + timedelta(minutes=1))
    assert jobs.stall_tick()["escalated"] == 1
    d = services.get(Actor.for_staff(world["street_admin"]), d.id)
    assert d.level == "street"  # the sub-district's mediation centre
    clock.travel(d.due_at - clock.now() + timedelta(minutes=1))
    assert jobs.stall_tick() == {"escalated": 0, "overdue": 1, "skipped": 0}
    assert jobs.stall_tick() == {"escalated": 0, "overdue": 0, "skipped": 0}
    events = [(e.action, e.level, e.actor_type) for e in services.get(Actor.for_staff(world["street_admin"]), d.id).events]
    assert events[-3:] == [("escalate", "community", "system"), ("escalate", "street", "system"),
                           ("overdue", "street", "system")]


def test_a_step_limit_counts_working_days(db, redis, world, parking):
    """商 gets ten working days: from a Monday morning that is two calendar weeks, not ten days."""
    worker = Actor.for_staff(world["workers"][0])
    clock.travel(datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc) - clock.now())  # Mon 09:00 Shanghai
    d = services.perform(worker, parking, "open_deliberation")
    assert clock.local(d.due_at).date().isoformat() == "2026-12-14"


@pytest.mark.parametrize("who, action, given, error", [
    ("worker", "decide", {"method": "agreement", "decision": "x"}, InvalidTransition),  # 商 not opened
    ("admin", "publish", {}, InvalidTransition),  # nobody told yet, nobody agreed
    ("worker", "publish", {}, Forbidden),  # a leader's
    ("other_worker", "open_deliberation", {}, Forbidden),  # another grid's worker cannot see it
    ("worker", "escalate", {}, ValidationFailed),  # a reason is required by hand
    ("worker", "add_party", {"party": {"kind": "unit", "name": ""}}, ValidationFailed),
])
def test_refusals(db, redis, world, parking, who, action, given, error):
    actor = Actor.for_staff({"worker": world["workers"][0], "other_worker": world["workers"][1],
                             "admin": world["community_admin"]}[who])
    with pytest.raises(error):
        services.perform(actor, parking, action, **given)
    assert [e.action for e in services.get(Actor.for_staff(world["workers"][0]), parking.id).events] == ["register"]


def test_a_vote_needs_its_counts_and_a_decision_needs_a_meeting(db, redis, world, parking):
    worker = Actor.for_staff(world["workers"][0])
    d = services.perform(worker, parking, "open_deliberation")
    with pytest.raises(InvalidTransition):
        services.perform(worker, d, "decide", method="agreement", decision="一致")
    d = _meeting(worker, d, 20, ["物业"])
    with pytest.raises(ValidationFailed):
        services.perform(worker, d, "decide", method="vote", decision="表决", votes_for=3)
    with pytest.raises(ValidationFailed):
        services.perform(worker, d, "decide", method="mediation", decision="调解", votes_for=3, votes_against=0,
                         votes_abstain=0)


def test_one_dispute_per_order(db, redis, world, parking):
    from backend.errors import Conflict
    with pytest.raises(Conflict):
        services.register(Actor.for_staff(world["workers"][0]), topic="parking",
                          order_number=parking.source_order.number,
                          parties=[{"kind": "resident", "name": "甲"}, {"kind": "resident", "name": "乙"}])


def test_concurrent_ticks_escalate_each_stalled_dispute_once(app, db, redis, world, make):
    import threading
    worker = Actor.for_staff(world["workers"][0])
    ids = []
    for i in range(8):
        d = services.register(worker, topic="lift", grid=world["grids"][0].code, subject=f"电梯加装第{i}件",
                              parties=[{"kind": "committee", "name": "业委会"}, {"kind": "property", "name": "物业"}])
        ids.append(d.id)
    clock.travel(timedelta(days=5))  # past 定's two working days, whatever the weekday
    db.session.rollback()
    results = []

    def tick():
        with app.app_context():
            results.append(jobs.stall_tick()["escalated"])

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(results) == len(ids)
    db.session.rollback()
    for dispute_id in ids:
        events = db.session.query(DisputeEvent).filter_by(dispute_id=dispute_id, action="escalate").count()
        assert events == 1
