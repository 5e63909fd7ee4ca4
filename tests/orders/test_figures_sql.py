"""The figures counted in SQL (backend.orders.figures) equal the definition they replaced, counting
loaded orders in Python (figures_reference), on a varied set of orders spread over ten weeks: two
grids and the unplaced pool, several categories and channels, patrol reports settled on the spot,
takes released and taken again, cancellations before and after a claim, ratings of every kind,
archived 未评价 ones and overdue ones — for every scope, and for the public pages."""
from datetime import timedelta

import pytest

from backend import clock
from backend.accounts.actors import Actor
from backend.orders import figures, services
from backend.orders.models import Order
from backend.orders.services import scope_filter
from backend.public import services as public

from . import figures_reference as reference

CATEGORIES = ("城乡建设/住房保障与房地产/物业服务", "环境保护/环境污染/噪音污染", "城乡建设/市政设施/路灯",
              "卫生计生/医疗服务", None)
PLACES = ("水晶城小区3号楼", "水晶城小区8号楼", "不知道哪里")  # grid 1, grid 2, unplaced


@pytest.fixture
def history(make, db, redis):
    world = make.world()
    resident = Actor.for_resident(world["resident"])
    w1, w2 = (Actor.for_staff(w) for w in world["workers"])
    leader = Actor.for_staff(world["leader"])
    admin = Actor.for_staff(world["community_admin"])  # also decides 延期 and 免责 (rows of issue 26)
    # the 20th of this month, 10:00 local: the month, the week and the four weeks before all hold orders
    start = figures.local_starts(clock.now())[1] + timedelta(days=19, hours=10)
    made = []
    for day in range(70, 2, -2):  # every other day for ten weeks, oldest first
        clock.travel(start - timedelta(days=day, hours=(day * 7) % 11) - clock.now())
        i = len(made)
        grid_no = i % 3
        if grid_no == 2 and i % 2:
            o = services.create_order(Actor.for_staff(world["workers"][0]), text="巡查发现垃圾", channel="patrol",
                                      location_text=PLACES[0], category=CATEGORIES[i % 4],
                                      settle="已当场清理" if i % 4 == 1 else None)
        else:
            o = make.order(world["resident"], location_text=PLACES[grid_no], category=CATEGORIES[i % 5])
        made.append(o)
        worker = w1 if o.grid_id == world["grids"][0].id else w2
        step = i % 7
        if o.state != "submitted" or o.grid_id is None:
            continue
        if step == 0:
            services.perform(resident, o, "cancel")
            continue
        clock.travel(timedelta(hours=1 + i % 5))
        if step == 1:
            services.perform(worker, o, "claim")
            services.perform(worker, o, "release")
            clock.travel(timedelta(hours=3))
        if step == 2 and worker is w1:
            services.perform(leader, o, "assign", assignee_id=w1.id)  # 派单: taken by the leader's hand
        else:
            services.perform(worker, o, "claim")
        if step == 3:
            services.perform(resident, o, "cancel")  # withdrawn after a take
            continue
        if step == 4:
            continue  # left in hand (overdue once its limit passes)
        # some within their limit, some late (past the seven days), none later than `start`
        if step == 6 and i % 2:  # 延期, approved by the community
            services.perform(worker, o, "extend", reason="等配件", until=o.resolve_by + timedelta(days=2))
            services.perform(admin, o, "approve_extension")
        if step == 6 and not i % 2:  # 挂起 for a while, then on again
            services.perform(worker, o, "pause", reason="等居民在家", why="resident")
            clock.travel(timedelta(hours=30))
            services.perform(worker, o, "resume")
        clock.travel(timedelta(hours=2 + ((i * 53) % 220 if day > 12 else i % 30)))
        services.perform(worker, o, "resolve", result="已处理")
        if step == 5:
            clock.travel(timedelta(hours=5))
            services.rate(resident, o, satisfaction=("satisfied", "basically_satisfied", "unsatisfied")[i % 3])
            if i % 2:  # 申诉 approved: out of both rates, still counted
                services.perform(worker, o, "appeal", ground="unreasonable", reason="超出公共服务范围")
                services.perform(admin, o, "approve_appeal")
    clock.travel(start - clock.now())
    from backend.dispatch import ticks
    ticks.archive_tick()  # the old resolved and unrated ones are archived as 未评价
    return {**world, "admin": admin, "orders": made}


def _scopes(history):
    return [Actor.for_staff(s) for s in (history["community_admin"], history["street_admin"], history["workers"][0],
                                         history["workers"][1], history["leader"])]


def test_the_dashboard_counted_in_sql_equals_the_python_definition(history):
    # the dataset really exercises what is compared
    month = reference.dashboard(scope_filter(_scopes(history)[1]))["month"]
    assert all(month[k] for k in ("received", "claimed", "resolved", "rated", "overdue", "hours_to_claim"))
    assert month["on_time"] < month["resolved"]
    # and 延期, 挂起 and 免责 (issue 26) are among what is compared
    history_flags = [set(o.flags or []) for o in history["orders"]]
    assert all(any(flag in f for f in history_flags) for flag in ("extended", "was_paused", "exempt"))
    for days in (0, 12, 31):  # now, and later as the history ages out of the periods
        clock.travel(timedelta(days=days))
        for actor in _scopes(history):
            board = figures.dashboard(actor)
            board.pop("by_property")
            board.pop("assessment")  # orders/assessment.py's own tests: tests/orders/test_assessment.py
            assert board == reference.dashboard(scope_filter(actor)), (actor.role, days)


def test_the_public_figures_counted_in_sql_equal_the_python_definition(app, history, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_CACHE_SECONDS", 0)
    community = history["community"]
    since = figures.local_starts(clock.now())[1]
    page = public.community_page(community.id)
    assert page["figures"] == reference.public_figures(Order.community_id == community.id, since)
    for shown, grid in zip(page["grids"], sorted(history["grids"], key=lambda g: g.code)):
        assert shown["figures"] == reference.public_figures(Order.community_id == community.id, since, grid.id)
    listed = {c["id"]: c["figures"] for c in public.index()["communities"]}
    assert listed[community.id] == page["figures"]
