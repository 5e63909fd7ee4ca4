"""Routing's per-process registry snapshot: reused while nothing changed, replaced the moment the
registry changes (here, or in another process: the Redis token), read afresh when Redis is down."""
from sqlalchemy import event, text

from backend.extensions import db as _db
from backend.grids import routing
from backend.grids.models import Building
from backend.grids.routing import place


def _statements(fn):
    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)
    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        result = fn()
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)
    return result, seen


def test_a_second_order_reads_no_registry_table(make, db, redis):
    make.world()
    db.session.commit()
    place("水晶城小区3号楼")
    placement, statements = _statements(lambda: place("水晶城小区8号楼"))
    assert placement.building.number == 8
    assert not any("communities" in s.split("FROM")[-1] and "buildings" not in s for s in statements)
    assert statements == []  # the snapshot names the building, its grid and community: no query


def test_a_building_added_here_routes_at_once(make, db, redis):
    world = make.world()
    db.session.commit()
    assert place("水晶城小区12号楼").grid is None
    db.session.add(Building(grid=world["grids"][1], compound="水晶城小区", number=12))
    assert place("水晶城小区12号楼").grid.id == world["grids"][1].id  # pending: flushed, then seen
    db.session.commit()
    assert place("水晶城小区12号楼").grid.id == world["grids"][1].id


def test_a_change_in_another_process_is_seen_through_the_redis_token(make, db, redis):
    grid_id = make.world()["grids"][0].id
    db.session.commit()
    assert place("水晶城小区15号楼").grid is None
    db.session.commit()  # SQLite: this session's transaction holds the write lock
    with db.engine.begin() as conn:  # another process: no ORM event here
        conn.execute(text("INSERT INTO buildings (grid_id, compound, number, units, aliases) "
                          "VALUES (:g, '水晶城小区', 15, 1, '[]')"), {"g": grid_id})
    assert place("水晶城小区15号楼").grid is None  # the snapshot, as long as nobody says otherwise
    db.session.commit()
    redis.set(routing.VERSION_KEY, "changed-elsewhere")
    assert place("水晶城小区15号楼").grid.id == grid_id


def test_with_redis_down_routing_reads_the_database(make, db, redis_stopped):
    grid_id = make.world()["grids"][0].id
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO buildings (grid_id, compound, number, units, aliases) "
                          "VALUES (:g, '水晶城小区', 16, 1, '[]')"), {"g": grid_id})
    assert place("水晶城小区16号楼").grid.id == grid_id


def test_a_rolled_back_building_is_not_routed_to(make, db, redis):
    world = make.world()
    db.session.commit()
    db.session.add(Building(grid=world["grids"][0], compound="水晶城小区", number=21))
    assert place("水晶城小区21号楼").grid is not None
    db.session.rollback()
    assert place("水晶城小区21号楼").grid is None
