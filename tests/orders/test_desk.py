"""The order desk: filters, Chinese search over text and place, keyset pages that neither skip nor
repeat an order, scope (nobody sees past their own), and exports that hold exactly the filtered list."""
import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from backend import clock
from backend.accounts.actors import Actor
from backend.errors import DomainError
from backend.orders import desk, services
from backend.orders.desk import Filters


@pytest.fixture
def desk_world(make, db, redis):
    world = make.world()
    resident = world["resident"]
    g1, g2 = world["grids"]
    orders = []
    for i in range(12):
        orders.append(make.order(resident, text=f"水晶城小区3号楼第{i}件事：楼道灯坏了", location_text="水晶城小区3号楼",
                                 category="城乡建设/住房保障与房地产/物业服务", grade="urgent" if i % 4 == 0 else "normal"))
    for i in range(5):
        orders.append(make.order(resident, text=f"8号楼门口垃圾没人清理{i}", location_text="水晶城小区8号楼",
                                 category="城乡建设/城市建设和市政管理/环境卫生", contact="13912345678"))
    worker = Actor.for_staff(world["workers"][0])
    services.perform(worker, orders[0], "claim")
    services.perform(worker, orders[1], "claim")
    services.perform(worker, orders[1], "resolve", result="换了灯泡")
    return {**world, "orders": orders, "g1": g1, "g2": g2, "worker": worker}


def _all_pages(actor, f, limit=4):
    seen, after = [], None
    while True:
        page = desk.search(actor, f, after=after, limit=limit)
        seen += [o.number for o in page["orders"]]
        if not page["next"]:
            return seen, page["total"]
        after = page["next"]


@pytest.mark.parametrize("sort", desk.SORTS)
def test_keyset_pages_cover_the_list_once_in_order(desk_world, sort):
    admin = Actor.for_staff(desk_world["community_admin"])
    numbers, total = _all_pages(admin, Filters(sort=sort), limit=4)
    expected_all = [o.number for o in desk_world["orders"]]
    if sort == "due":  # only what someone owes work on: the resolved one has no deadline
        expected_all = [n for n in expected_all if n != desk_world["orders"][1].number]
    assert sorted(numbers) == sorted(expected_all) and len(numbers) == len(set(numbers)) == total
    if sort == "newest":
        assert numbers == list(reversed([o.number for o in desk_world["orders"]]))


def test_filters_and_search(desk_world):
    admin = Actor.for_staff(desk_world["community_admin"])
    g2 = desk_world["g2"]
    by_grid = desk.search(admin, Filters(grid_id=g2.id))
    assert by_grid["total"] == 5 and all(o.grid_id == g2.id for o in by_grid["orders"])
    assert desk.search(admin, Filters(q="垃圾"))["total"] == 5
    assert desk.search(admin, Filters(q="第3件事"))["total"] == 1
    assert desk.search(admin, Filters(q="8号楼"))["total"] == 5  # the place counts too
    assert desk.search(admin, Filters(q=desk_world["orders"][0].number))["total"] == 1
    assert desk.search(admin, Filters(q="100%"))["total"] == 0  # LIKE wildcards are literal
    assert desk.search(admin, Filters(category="城乡建设/城市建设和市政管理"))["total"] == 5
    assert desk.search(admin, Filters(category="城乡建设"))["total"] == 17
    assert desk.search(admin, Filters(grade="urgent"))["total"] == 3
    assert desk.search(admin, Filters(states=("claimed",)))["total"] == 1
    assert desk.search(admin, Filters(assignee_id=desk_world["worker"].id))["total"] == 1
    today = clock.local(clock.now()).date()
    assert desk.search(admin, Filters(created_from=today, created_to=today))["total"] == 17
    assert desk.search(admin, Filters(created_to=today - timedelta(days=1)))["total"] == 0


def test_a_whole_number_is_matched_exactly_and_a_fragment_still_searches(desk_world, make):
    admin = Actor.for_staff(desk_world["community_admin"])
    first = desk_world["orders"][0]
    # A resident who quotes the number in another request: the number names one order, not the quote.
    quoting = make.order(desk_world["resident"], text=f"上次反映的{first.number}还没人处理", location_text="水晶城小区3号楼")
    assert desk.whole_number(first.number) == first.number
    assert desk.whole_number(f"  {first.number.lower()} ") == first.number  # typed in lower case, spaced
    for fragment in (first.number[:-1], first.number[2:], "楼道灯", f"{first.number}号"):
        assert desk.whole_number(fragment) is None
    for q in (first.number, first.number.lower()):
        found = desk.search(admin, Filters(q=q))
        assert found["total"] == 1 and [o.id for o in found["orders"]] == [first.id]
    # Fragments go through the text/place/number search as before: the day's numbers, the quote too.
    day = first.number[:len("HX") + 8]
    assert desk.search(admin, Filters(q=day))["total"] == 18
    assert quoting.id in [o.id for o in desk.search(admin, Filters(q=first.number[2:]))["orders"]]
    # Scope still holds: someone else's whole number finds nothing.
    outsider = Actor.for_staff(make.staff("community_admin", community=make.community()))
    assert desk.search(outsider, Filters(q=first.number))["total"] == 0


def test_overdue_filter_follows_the_clock(desk_world):
    admin = Actor.for_staff(desk_world["community_admin"])
    assert desk.search(admin, Filters(overdue=True))["total"] == 0
    clock.travel(timedelta(days=30))
    assert desk.search(admin, Filters(overdue=True))["total"] == 16  # every open one; not the resolved


def test_nobody_sees_past_their_scope(desk_world, make):
    worker_2 = Actor.for_staff(desk_world["workers"][1])
    assert desk.search(worker_2, Filters())["total"] == 5
    outsider = Actor.for_staff(make.staff("community_admin", community=make.community()))
    assert desk.search(outsider, Filters())["total"] == 0
    with pytest.raises(DomainError):
        desk.search(Actor.for_resident(desk_world["resident"]), Filters())


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwgMV0"])
def test_a_forged_cursor_is_a_422_not_a_crash(desk_world, cursor):
    with pytest.raises(DomainError) as refused:
        desk.search(Actor.for_staff(desk_world["community_admin"]), Filters(), after=cursor)
    assert refused.value.status == 422


def test_exports_hold_exactly_the_filtered_list(desk_world):
    admin = Actor.for_staff(desk_world["community_admin"])
    f = Filters(q="垃圾")
    xlsx = b"".join(desk.export_xlsx(admin, f))
    sheet = load_workbook(io.BytesIO(xlsx)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == desk.HEADERS
    assert sorted(r[0] for r in rows[1:]) == sorted(o.number for o in desk_world["orders"][12:])
    assert all(r[9] == "139****5678" for r in rows[1:])  # a community admin sees the phone masked
    lines = list(csv.reader(io.StringIO("".join(desk.export_csv(admin, f)).lstrip("\ufeff"))))
    assert tuple(lines[0]) == desk.HEADERS and len(lines) == 6
    worker_2 = Actor.for_staff(desk_world["workers"][1])
    own = list(csv.reader(io.StringIO("".join(desk.export_csv(worker_2, f)).lstrip("\ufeff"))))
    assert all(r[9] == "13912345678" for r in own[1:])  # the grid's own worker calls back


def test_a_formula_in_a_residents_text_is_exported_as_text(desk_world, make):
    make.order(desk_world["resident"], text="=HYPERLINK(\"http://evil\",\"点我\")", location_text="水晶城小区3号楼")
    admin = Actor.for_staff(desk_world["community_admin"])
    rows = list(load_workbook(io.BytesIO(b"".join(desk.export_xlsx(admin, Filters(q="HYPERLINK"))))).active.iter_rows(values_only=True))
    assert rows[1][8].startswith("'=")


def test_search_indexes_per_database(desk_world, db):
    """PostgreSQL gets pg_trgm GIN indexes for the desk's search; SQLite, which has no such index
    type, gets none (and scans)."""
    if db.engine.dialect.name == "postgresql":
        names = db.session.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'orders'")).scalars().all()
        plan = db.session.execute(text("EXPLAIN SELECT id FROM orders WHERE text ILIKE '%楼道灯坏%'")).scalars().all()
        assert {"ix_orders_text_trgm", "ix_orders_location_trgm"} <= set(names), names
        assert plan  # the planner accepts the pattern the desk sends (index use depends on table size)
    else:
        names = db.session.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars().all()
        assert not [n for n in names if n.endswith("_trgm")]
