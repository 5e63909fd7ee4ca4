"""The dashboard's figures for a seeded set of orders, per scope: counted by hand here, computed by
backend.orders.figures there — received, claimed, resolved, the rates, mean hours, satisfaction,
unrated, overdue, the charts' series and the hot spots."""
from datetime import timedelta

import pytest

from backend import clock
from backend.accounts.actors import SYSTEM, Actor
from backend.orders import figures, services


@pytest.fixture
def seeded(make, db, redis):
    """Ten orders made this month in grid 1, four in grid 2; claimed, resolved, rated as listed."""
    world = make.world()
    resident = Actor.for_resident(world["resident"])
    w1, w2 = (Actor.for_staff(w) for w in world["workers"])
    day = figures.local_starts(clock.now())[1] + timedelta(days=1, hours=9)  # the 2nd of this month, 09:00 local
    clock.travel(day - clock.now())

    def order(grid_no, category):
        return make.order(world["resident"], location_text=f"水晶城小区{3 if grid_no == 1 else 8}号楼", category=category)
    property_ = "城乡建设/住房保障与房地产/物业服务"
    g1 = [order(1, property_) for _ in range(7)] + [order(1, "环境保护/环境污染/噪音污染") for _ in range(3)]
    g2 = [order(2, "城乡建设/城市建设和市政管理/环境卫生") for _ in range(4)]
    clock.travel(timedelta(hours=2))  # claimed two hours after they came in
    for o in g1[:6]:
        services.perform(w1, o, "claim")
    services.perform(w2, g2[0], "claim")
    clock.travel(timedelta(hours=4))  # resolved six hours after creation
    for o in g1[:4]:
        services.perform(w1, o, "resolve", result="已处理")
    services.rate(resident, g1[0], satisfaction="satisfied")
    services.rate(resident, g1[1], satisfaction="basically_satisfied")
    services.rate(resident, g1[2], satisfaction="unsatisfied")  # reopened: no longer counted as resolved
    services.perform(resident, g2[3], "cancel")
    return {**world, "g1": g1, "g2": g2}


def test_a_community_admins_month(seeded):
    board = figures.dashboard(Actor.for_staff(seeded["community_admin"]))
    month = board["month"]
    assert (month["received"], month["claimed"], month["resolved"]) == (13, 7, 3)
    assert month["resolve_rate"] == round(3 / 13, 4) and month["on_time_rate"] == 1.0
    assert month["hours_to_claim"] == 2.0 and month["hours_to_resolve"] == 6.0
    # overdue: the six nobody claimed within their two working hours (g1[6:], g2[1:3])
    assert (month["rated"], month["satisfaction_rate"], month["unrated"], month["overdue"]) == (3, round(2 / 3, 4), 0, 6)
    assert board["today"]["received"] == 13  # all of it happened today
    assert month["minutes_to_claim"] == 120  # 接单 is said in minutes (issue 24)
    # Every chart adds up to 受理: the cancelled g2[3] is in none of them (issue 24: 75 beside 73).
    assert sum(d["count"] for d in board["per_day"]) == 13 and len(board["per_day"]) == 30
    top = {c["category"]: c["count"] for c in board["by_category"]}
    assert top == {"城乡建设": 10, "环境保护": 3}
    second = {c["category"]: c["count"] for c in board["by_category"][0]["children"]}
    assert second == {"城乡建设/住房保障与房地产": 7, "城乡建设/城市建设和市政管理": 3}
    assert {g["grid"]: g["count"] for g in board["by_grid"]} == {seeded["grids"][0].name: 10, seeded["grids"][1].name: 3}
    assert board["by_channel"] == [{"channel": "h5", "count": 13}]
    for chart in ("by_category", "by_grid", "by_channel"):
        assert sum(row["count"] for row in board[chart]) == month["received"]


def test_a_grid_workers_dashboard_sees_only_the_grid(seeded):
    board = figures.dashboard(Actor.for_staff(seeded["workers"][1]))
    assert board["month"]["received"] == 3 and board["month"]["claimed"] == 1
    assert {g["grid"] for g in board["by_grid"]} == {seeded["grids"][1].name}


def test_overdue_and_unrated_follow_the_clock(seeded):
    clock.travel(timedelta(days=20))
    board = figures.dashboard(Actor.for_staff(seeded["community_admin"]))
    assert board["month"]["overdue"] == 10  # every open one: 14 less 2 rated, 1 resolved, 1 cancelled
    from backend.dispatch import ticks
    ticks.archive_tick()
    board = figures.dashboard(Actor.for_staff(seeded["community_admin"]))
    assert board["month"]["unrated"] == 1  # g1[3]: resolved, never rated, archived as 未评价


def test_a_rising_category_is_a_hot_spot(make, db, redis):
    world = make.world()
    start = clock.now()
    for weeks_ago in (4, 3, 2, 1):  # one noise complaint a week before …
        clock.travel(start - timedelta(weeks=weeks_ago) - clock.now())
        make.order(world["resident"], location_text="水晶城小区3号楼", category="环境保护/环境污染/噪音污染")
    clock.travel(start - clock.now())
    for _ in range(4):  # … then four this week
        make.order(world["resident"], location_text="水晶城小区3号楼", category="环境保护/环境污染/噪音污染")
    make.order(world["resident"], location_text="水晶城小区3号楼", category="城乡建设/住房保障与房地产/物业服务")
    spots = figures.dashboard(Actor.for_staff(world["community_admin"]))["hot_spots"]
    noise = next(s for s in spots if s["category"] == "环境保护/环境污染")
    assert noise["this_week"] == 4 and noise["weekly_before"] == 1.0 and noise["rising"] is True
    assert next(s for s in spots if s["category"] == "城乡建设/住房保障与房地产")["rising"] is False
