"""Who may see an order and when it is due exist twice: as Python (per order) and as SQL (for
listings). These tests keep the two from drifting apart."""
import itertools
from datetime import timedelta

from sqlalchemy import select

from backend import clock
from backend.accounts.actors import Actor, in_scope
from backend.dispatch import deadlines
from backend.dispatch.services import due_expression, scope_filter
from backend.orders import states
from backend.orders.models import Order


def _orders_everywhere(make, db):
    street = make.street()
    communities = [make.community(street, aliases=[f"小区{i}"]) for i in range(2)]
    other_street_community = make.community(make.street())
    grids = [make.grid(c) for c in communities + [other_street_community]]
    department = make.department(street)
    resident = make.resident()
    orders = []
    for grid, state, rung in itertools.product(grids, states.STATES, ("grid_worker", "department")):
        order = make.order(resident, text="路灯坏了", location_text="某处")
        order.grid_id, order.community_id, order.state, order.rung = grid.id, grid.community_id, state, rung
        order.department_id = department.id if rung == "department" else None
        order.ack_by = clock.now() + timedelta(minutes=5) if rung == "department" else None
        orders.append(order)
    db.session.commit()
    staff = [make.staff("grid_worker", grid=grids[0]), make.staff("grid_leader", grid=grids[1]),
             make.staff("community_admin", community=communities[0]), make.staff("street_admin", street=street),
             make.staff("department_liaison", department=department), make.staff("sysadmin")]
    return orders, [Actor.for_staff(s) for s in staff]


def test_scope_in_sql_matches_scope_in_python(make, db):
    orders, actors = _orders_everywhere(make, db)
    for actor in actors:
        in_sql = set(db.session.scalars(select(Order.id).where(scope_filter(actor))))
        in_python = {o.id for o in orders if in_scope(actor, o)}
        assert in_sql == in_python, actor.role


def test_due_time_in_sql_matches_due_time_in_python(make, db):
    orders, _ = _orders_everywhere(make, db)
    due_in_sql = dict(db.session.execute(select(Order.id, due_expression())).all())
    for order in orders:
        expected = deadlines.due_at(order)
        got = due_in_sql[order.id]
        if expected is None:
            assert got is None, (order.state, order.rung)
        else:
            got = got if got.tzinfo else got.replace(tzinfo=expected.tzinfo)
            assert abs((got - expected).total_seconds()) < 1, (order.state, order.rung)
