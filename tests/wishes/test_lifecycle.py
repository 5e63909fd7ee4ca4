"""The wish lifecycle through its one service: who may do what from which state, the claim's limits,
the resident's confirmation recording the hours, and every change audited."""
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backend import clock
from backend.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from backend.accounts.actors import Actor
from backend.notifications.models import Notification
from backend.wishes import jobs, lifecycle, services
from backend.wishes.models import VolunteerHours, Wish, WishEvent


def _reload(db, wish_id):
    db.session.rollback()
    return db.session.get(Wish, wish_id)


def test_a_wish_goes_from_the_check_to_the_board_to_a_claimant_and_back_to_the_resident(db, board):
    wish = services.create_wish(board["wisher"], community_id=board["community"].id,
                                text="想给孙子找一位数学辅导老师", beneficiary="孙子（初二）")
    assert wish.state == "submitted"
    assert services.get_wish(board["admin_actor"], wish.id).allowed_actions == ["approve", "reject"]
    with pytest.raises(NotFound):  # not on the board before the community checked it
        services.get_wish(board["actors"]["陈丽"], wish.id)
    services.perform(board["admin_actor"], wish, "approve")
    school = board["actors"]["陈丽"]
    assert services.get_wish(school, wish.id).allowed_actions == ["claim"]
    services.perform(school, wish, "claim")
    assert wish.claimant_id == board["members"]["school"].id and wish.unit_id == board["units"]["school"].id
    assert wish.claim_due_at > wish.claimed_at
    services.perform(school, wish, "fulfil", evidence="每周六上午辅导两小时，已辅导三次", hours=Decimal("6"))
    assert services.get_wish(board["wisher"], wish.id).allowed_actions == ["confirm"]
    services.perform(board["wisher"], wish, "confirm")
    wish = _reload(db, wish.id)
    assert wish.state == "confirmed" and wish.confirmed_at is not None
    hours = db.session.scalars(select(VolunteerHours)).all()
    assert [(h.member_id, h.wish_id, h.hours) for h in hours] == [(board["members"]["school"].id, wish.id, Decimal("6.0"))]
    assert [e.action for e in wish.events] == ["submit", "approve", "claim", "fulfil", "confirm"]
    told = {(n.recipient_type, n.recipient_id, n.kind) for n in db.session.scalars(select(Notification))}
    assert ("staff", board["admin"].id, "wish_submitted") in told
    assert ("resident", board["people"]["李桂兰"].id, "wish_fulfilled") in told
    assert ("resident", board["people"]["陈丽"].id, "wish_confirmed") in told


# Who may do each action on a published wish (or one claimed by the party member): one row each.
@pytest.mark.parametrize("action, state, who, given, outcome", [
    ("approve", "submitted", "李桂兰", {}, Forbidden),          # the wisher does not check her own wish
    ("approve", "published", "admin", {}, InvalidTransition),   # checked once
    ("reject", "submitted", "admin", {}, ValidationFailed),     # a refusal says why
    ("reject", "submitted", "other_admin", {"reason": "x"}, Forbidden),  # another community's admin
    ("claim", "published", "李桂兰", {}, Forbidden),             # nobody claims their own wish
    ("claim", "published", "钱多", {}, Forbidden),               # not registered with the community
    ("claim", "published", "admin", {}, Forbidden),             # staff do not claim wishes
    ("claim", "claimed", "赵敏", {}, InvalidTransition),         # one claimant at a time
    ("fulfil", "claimed", "赵敏", {"evidence": "x", "hours": 1}, Forbidden),  # only the claimant
    ("fulfil", "claimed", "张伟", {"evidence": "已修好"}, ValidationFailed),    # hours are part of it
    ("confirm", "claimed", "李桂兰", {}, InvalidTransition),     # nothing to confirm yet
    ("withdraw", "claimed", "李桂兰", {}, InvalidTransition),    # someone is on it
    ("withdraw", "published", "张伟", {}, Forbidden),
    ("release", "claimed", "张伟", {}, None),
    ("withdraw", "published", "李桂兰", {}, None),
])
def test_the_rows_refuse_and_allow(db, make, board, publish, action, state, who, given, outcome):
    wish = services.create_wish(board["wisher"], community_id=board["community"].id, text="想学用智能手机挂号")
    if state != "submitted":
        services.perform(board["admin_actor"], wish, "approve")
    if state == "claimed":
        services.perform(board["actors"]["张伟"], wish, "claim")
    actor = {"admin": board["admin_actor"],
             "other_admin": Actor.for_staff(make.staff("community_admin", community=board["other"]))}.get(who) \
        or board["actors"][who]
    before = _reload(db, wish.id)
    version, events = before.version, len(before.events)
    if outcome is None:
        services.perform(actor, before, action, **given)
        assert _reload(db, wish.id).state == lifecycle.ACTIONS[action].target
        return
    with pytest.raises(outcome):
        services.perform(actor, before, action, **given)
    after = _reload(db, wish.id)
    assert (after.version, len(after.events)) == (version, events)


def test_two_partner_units_race_to_claim_one_wish_and_exactly_one_wins(app, db, board, publish):
    """Real threads, each with its own connection; on PostgreSQL the loser's UPDATE waits for the
    winner's commit and then matches no row."""
    wish_id = publish().id
    racers = [board["actors"]["王建军"], board["actors"]["陈丽"]]
    db.session.rollback()  # SQLite: this thread must not hold a read lock the racers wait for
    barrier, results = threading.Barrier(len(racers)), {}

    # PostgreSQL: both read the published wish, then both claim. SQLite takes its write lock at
    # BEGIN, so there the reads themselves queue: the loser reads the wish claimed.
    read_first = db.engine.dialect.name == "postgresql"

    def claim(i):
        with app.app_context():
            from backend.extensions import db as thread_db
            if not read_first:
                barrier.wait()
            wish = thread_db.session.get(Wish, wish_id)
            if read_first:
                assert wish.state == "published"
                barrier.wait()
            try:
                services.perform(racers[i], wish, "claim")
                results[i] = "won"
            except (Conflict, InvalidTransition) as exc:
                results[i] = exc.status
            finally:
                thread_db.session.remove()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(racers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results.values(), key=str) == [409, "won"]
    wish = _reload(db, wish_id)
    winner = next(i for i, r in results.items() if r == "won")
    assert wish.state == "claimed" and wish.claimant.resident_id == racers[winner].id
    assert db.session.scalar(select(func.count()).select_from(WishEvent).where(WishEvent.action == "claim")) == 1


def test_the_database_refuses_a_claimed_wish_without_a_claimant(db, publish):
    from sqlalchemy.exc import IntegrityError
    wish = publish()
    wish.state = "claimed"
    wish.claim_due_at = clock.now()
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_member_holds_at_most_the_configured_number_of_open_claims(app, db, board, publish):
    volunteer = board["actors"]["赵敏"]
    cap = app.config["WISH_MAX_OPEN_CLAIMS"]
    for i in range(cap):
        services.perform(volunteer, publish(f"第{i}个心愿"), "claim")
    one_more = publish("再来一个心愿")
    with pytest.raises(Conflict) as refused:
        services.perform(volunteer, one_more, "claim")
    assert refused.value.code == "claim_limit" and _reload(db, one_more.id).state == "published"


def test_the_tick_returns_a_lapsed_claim_offers_unclaimed_wishes_and_expires_old_ones(app, db, board, publish):
    lapsing, unclaimed = publish("帮忙换个灯泡"), publish("想借一台轮椅用两周")
    expiring = publish("想参加中秋晚会", wanted_by=clock.now().date())
    services.perform(board["actors"]["张伟"], lapsing, "claim")
    clock.travel(timedelta(days=30))
    assert jobs.wish_tick() == {"expire": 1, "lapse": 1, "offer": 1}
    assert jobs.wish_tick() == {"expire": 0, "lapse": 0, "offer": 1}  # the lapsed one, back on the board
    assert jobs.wish_tick() == {"expire": 0, "lapse": 0, "offer": 0}  # idempotent
    assert _reload(db, lapsing.id).state == "published" and _reload(db, lapsing.id).claimant_id is None
    assert _reload(db, unclaimed.id).offered_at is not None
    assert _reload(db, expiring.id).state == "expired"
    offered = db.session.scalars(select(Notification).where(Notification.kind == "wish_offered",
                                                            Notification.recipient_type == "resident")).all()
    contacts = {board["people"]["王建军"].id, board["people"]["陈丽"].id}
    assert {n.recipient_id for n in offered} == contacts and len(offered) == 2 * len(contacts)


def test_a_unit_code_of_another_community_or_a_wrong_one_registers_nobody(db, board):
    from backend.wishes import registry
    with pytest.raises(ValidationFailed):
        registry.register(board["actors"]["钱多"], community_id=board["other"].id, kind="unit_contact",
                          name="钱多", skills=[], hours_available=1, join_code=board["units"]["bank"].join_code)
