"""轮派 (issue 26, item 7): in a grid with the rule on, a new order goes at intake to the on-duty grid
worker holding the fewest open orders, through the lifecycle's `assign` row acted by the system."""
from collections import Counter

from sqlalchemy import func, select

from backend.orders import states
from backend.orders.models import Order, OrderEvent
from tests.conftest import actor


def _rule(db, grid, on=True):
    grid.auto_assign = on
    db.session.commit()


def test_the_rule_is_turned_on_and_off_by_command(app, db, redis, make, world):
    grid, worker = world["grids"][0], world["workers"][0]
    worker.on_duty = True
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["grid-auto-assign", grid.code, "--on"])
    assert result.exit_code == 0 and "轮派已开启" in result.output, result.output
    assert make.order(world["resident"]).assignee_id == worker.id  # the routing snapshot followed
    result = runner.invoke(args=["grid-auto-assign", grid.code, "--off"])
    assert result.exit_code == 0 and "轮派已关闭" in result.output, result.output
    assert make.order(world["resident"]).assignee_id is None
    result = runner.invoke(args=["grid-auto-assign", "nowhere", "--on"])
    assert result.exit_code != 0 and "没有编号为 nowhere 的网格" in result.output


def _open_load(db, workers) -> dict:
    db.session.expire_all()
    counts = dict(db.session.execute(
        select(Order.assignee_id, func.count()).where(Order.state.in_(states.OPEN_STATES))
        .group_by(Order.assignee_id)).all())
    return {w.id: counts.get(w.id, 0) for w in workers}


def test_two_hundred_orders_over_five_on_duty_workers_never_more_than_one_apart(db, redis, make, world):
    from backend.dispatch import claims
    grid = world["grids"][0]
    on = [world["workers"][0]] + [make.staff("grid_worker", grid=grid) for _ in range(4)]
    # Before the rule: on[0] claimed two by hand (抢单). The new ones even it out first.
    for _ in range(2):
        claims.claim(actor(on[0]), make.order(world["resident"]).number)
    _rule(db, grid)
    off = make.staff("grid_worker", grid=grid)  # off duty: never given one
    gone = make.staff("grid_worker", grid=grid)
    for w in on + [gone]:
        w.on_duty = True
    gone.active = False  # deactivated while on duty: never given one either
    world["leader"].on_duty = True  # a leader is no grid worker: 轮派 passes them by
    db.session.commit()
    assert [make.order(world["resident"]).assignee_id for _ in range(4)] == [w.id for w in on[1:]]

    for i in range(200):
        order = make.order(world["resident"], text=f"第{i}件：楼道灯坏了")
        assert order.state == states.CLAIMED
        load = _open_load(db, on + [off, gone, world["leader"]])
        assert load[off.id] == load[gone.id] == load[world["leader"].id] == 0
        assert max(load[w.id] for w in on) - min(load[w.id] for w in on) <= 1, (i, load)
    assert sum(_open_load(db, on).values()) == 206

    events = db.session.scalars(select(OrderEvent).where(OrderEvent.action == "assign")).all()
    assert len(events) == 204
    assert {(e.actor_type, e.from_state, e.to_state, e.data.get("by_load")) for e in events} == {
        ("system", states.SUBMITTED, states.CLAIMED, True)}
    assert Counter(e.data["assignee"] for e in events).keys() <= {w.id for w in on}


def test_load_counts_only_open_orders(db, redis, make, world):
    """Resolved work no longer weighs: the worker who finished is next."""
    from backend.orders import services
    grid = world["grids"][0]
    _rule(db, grid)
    a, b = world["workers"][0], make.staff("grid_worker", grid=grid)
    a.on_duty = b.on_duty = True
    db.session.commit()
    first, second = make.order(world["resident"]), make.order(world["resident"])
    assert (first.assignee_id, second.assignee_id) == (a.id, b.id)
    services.perform(actor(b), db.session.get(Order, second.id), "resolve", result="已修好")
    assert make.order(world["resident"]).assignee_id == b.id


def test_a_grid_with_the_rule_off_is_untouched(db, redis, make, world):
    worker = world["workers"][1]
    worker.on_duty = True
    db.session.commit()
    order = make.order(world["resident"], location_text="水晶城小区8号楼")  # grid 2: rule off
    assert order.grid_id == world["grids"][1].id
    assert (order.state, order.assignee_id) == (states.SUBMITTED, None)
    assert db.session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.action == "assign")) == 0
    assert redis.zscore(f"rm:q:grid:{order.grid_id}", order.number) is not None  # waits for 抢单


def test_nobody_on_duty_leaves_it_in_the_queue_and_claiming_still_works(db, redis, make, world, client, auth):
    _rule(db, world["grids"][0])
    order = make.order(world["resident"])
    assert (order.state, order.assignee_id) == (states.SUBMITTED, None)
    assert redis.zscore(f"rm:q:grid:{order.grid_id}", order.number) is not None
    answer = client.post(f"/api/v1/orders/{order.number}/claim", json={}, headers=auth.headers_for(world["workers"][0]))
    assert answer.status_code == 200, answer.json
    assert answer.json["state"] == states.CLAIMED


def test_the_worker_toggles_duty_and_the_next_order_follows(db, redis, make, world, client, auth):
    _rule(db, world["grids"][0])
    worker = world["workers"][0]
    answer = client.post("/api/v1/me/duty", json={"on_duty": True}, headers=auth.headers_for(worker))
    assert answer.status_code == 200, answer.json
    assert answer.json == {"on_duty": True}
    assert make.order(world["resident"]).assignee_id == worker.id
    assert client.post("/api/v1/me/duty", json={"on_duty": False}, headers=auth.headers_for(worker)).json == {"on_duty": False}
    assert make.order(world["resident"]).assignee_id is None


def test_duty_refuses_bad_input_and_other_roles(db, redis, make, world, client, auth):
    worker = world["workers"][0]
    for body in ({}, {"on_duty": "yes"}, {"on_duty": True, "x": 1}):
        answer = client.post("/api/v1/me/duty", json=body, headers=auth.headers_for(worker))
        assert answer.status_code == 422, (body, answer.json)
    answer = client.post("/api/v1/me/duty", json={"on_duty": True}, headers=auth.headers_for(world["leader"]))
    assert answer.status_code == 403 and answer.json["error"]["code"] == "not_a_grid_worker" and "网格员" in answer.json["error"]["message"]
    assert client.post("/api/v1/me/duty", json={"on_duty": True}, headers=auth.headers_for(world["resident"])).status_code == 403
    assert client.post("/api/v1/me/duty", json={"on_duty": True}).status_code == 401


def test_the_phone_page_toggles_duty(db, redis, make, world, client):
    import re
    from backend.accounts.models import Staff
    from tests.factories import PASSWORD
    worker = world["workers"][0]

    def csrf(path):
        return re.search(r'name="csrf" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)

    client.post("/console/login", data={"username": worker.username, "password": PASSWORD, "csrf": csrf("/console/login")})
    assert "上班</button>" in client.get("/console/m/").get_data(as_text=True)
    assert client.post("/console/m/duty", data={"on_duty": "1", "csrf": csrf("/console/m/")}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Staff, worker.id).on_duty is True
    assert "下班</button>" in client.get("/console/m/").get_data(as_text=True)
    client.post("/console/m/duty", data={"on_duty": "0", "csrf": csrf("/console/m/")})
    db.session.expire_all()
    assert db.session.get(Staff, worker.id).on_duty is False


def test_concurrent_intakes_still_even_out(app, db, redis, make, world):
    """8 threads make 200 orders at once: the grid's row lock makes each count the others' assignments."""
    import threading
    from backend.accounts.actors import Actor
    from backend.orders import services
    grid = world["grids"][0]
    _rule(db, grid)
    on = [world["workers"][0]] + [make.staff("grid_worker", grid=grid) for _ in range(4)]
    for w in on:
        w.on_duty = True
    db.session.commit()
    resident = Actor.for_resident(world["resident"])
    db.session.rollback()
    barrier, errors = threading.Barrier(8), []

    def intake(t):
        try:
            barrier.wait()
            for i in range(25):
                with app.app_context():
                    services.create_order(resident, text=f"线程{t}第{i}件：楼道灯坏了", location_text="水晶城小区3号楼",
                                          category="城乡建设/住房保障与房地产/物业服务")
        except Exception as exc:  # surfaced below
            errors.append(repr(exc))

    threads = [threading.Thread(target=intake, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    load = _open_load(db, on)
    assert sum(load.values()) == 200 and max(load.values()) - min(load.values()) <= 1, load
