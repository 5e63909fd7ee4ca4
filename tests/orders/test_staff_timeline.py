"""Issue 24: the staff timeline names who did each step (操作人) — staff by name and role, the
resident by name only for those who may see the reporter's name, masked for everyone else."""
from backend.accounts.actors import Actor
from backend.dispatch import claims
from backend.orders import services, timeline


def test_the_timeline_says_who_did_what_and_masks_the_resident_for_those_above(make, db):
    world = make.world()
    worker, leader = world["workers"][0], world["leader"]
    order = make.order(world["resident"], text="楼道灯坏了")
    claims.act(Actor.for_staff(worker), order.number, "claim")
    claims.act(Actor.for_staff(leader), order.number, "supervise", note="请今天办结")
    order = services.get_order(Actor.for_staff(worker), order.number)
    rows = timeline.for_staff(Actor.for_staff(worker), order)
    assert [(r["action"], r["who"]) for r in rows] == [
        ("submit", "居民 王秀英"), ("claim", f"{worker.name}（网格员）"), ("supervise", f"{leader.name}（网格长）")]
    above = timeline.for_staff(Actor.for_staff(make.staff("sysadmin")), order)  # no callback is theirs to make
    assert above[0]["who"] != "居民 王秀英" and above[0]["who"].startswith("居民 王")
    assert rows[2]["note"] == "请今天办结" and (rows[1]["from"], rows[1]["to"]) == ("submitted", "claimed")


def test_a_resident_without_a_name_is_no_none(make, db):
    world = make.world()
    nameless = make.resident(name=None, phone=None)
    order = make.order(nameless)
    rows = timeline.for_staff(Actor.for_staff(world["workers"][0]), services.get_order(Actor.for_staff(world["workers"][0]), order.number))
    assert rows[0]["who"] == "居民" and "None" not in rows[0]["who"]
