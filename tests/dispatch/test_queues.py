"""Redis is the fast path and can be rebuilt; the database decides."""
from datetime import timedelta

from sqlalchemy import select

from backend import clock
from backend.dispatch import jobs
from backend.dispatch import claims
from backend.orders import states
from backend.orders.models import Order
from tests.conftest import actor


def _queued(redis) -> dict[str, str]:
    return {number: key for number, key in redis.hgetall("rm:q:where").items()
            if redis.zscore(key, number) is not None}


def test_flush_mid_flight_then_rebuild_queues_finds_every_open_order(app, db, redis, make, city, client, auth):
    worker = actor(city["workers"][0])
    w = [make.order(city["resident"], text=f"第{i}件", location_text=loc)
         for i, loc in enumerate(["水晶城小区3号楼", "水晶城小区8号楼", "不知道在哪", "水晶城小区3号楼", "八栋"])]
    claims.claim(worker, w[0].number)  # claimed: in nobody's queue
    urgent = make.order(city["resident"], grade="urgent")
    clock.travel(timedelta(minutes=11))
    jobs.sla_tick()  # the urgent one (and only it) went up to the grid leader
    before = _queued(redis)
    assert len(before) == 5

    redis.flushdb()  # Redis lost everything mid-flight
    assert client.get("/api/v1/queue", headers=auth.headers_for(city["workers"][0])).json["waiting"] == []
    # …but the database still decides: a claim on a stale (empty) Redis works, exactly once.
    assert claims.claim(worker, w[3].number).state == "claimed"

    result = app.test_cli_runner().invoke(args=["rebuild-queues"])
    assert result.exit_code == 0, result.output
    after = _queued(redis)
    db.session.rollback()
    waiting = db.session.scalars(select(Order).where(Order.state.in_(states.UNCLAIMED_STATES))).all()
    assert {o.number for o in waiting} == set(after) == set(before) - {w[3].number}
    assert after[urgent.number] == f"rm:q:leader:{city['grids'][0].id}"
    assert after[w[2].number] == f"rm:q:pool:{city['community'].id}"
    listed = client.get("/api/v1/queue", headers=auth.headers_for(city["workers"][1])).json["waiting"]
    assert [o["number"] for o in listed] == [w[1].number, w[4].number]  # most urgent first


def test_stale_redis_entry_is_filtered_by_the_database_and_cleaned(db, redis, make, city, client, auth):
    order = make.order(city["resident"])
    claims.claim(actor(city["workers"][0]), order.number)
    redis.zadd(f"rm:q:grid:{city['grids'][0].id}", {order.number: 1})  # stale: the DB says claimed
    redis.hset("rm:q:where", order.number, f"rm:q:grid:{city['grids'][0].id}")
    headers = auth.headers_for(city["workers"][1 - 1])
    queue = client.get("/api/v1/queue", headers=headers).json
    assert queue["waiting"] == [] and [o["number"] for o in queue["mine"]] == [order.number]
    assert redis.zscore(f"rm:q:grid:{city['grids'][0].id}", order.number) is None
    other = make.staff("grid_worker", grid=city["grids"][0])
    response = client.post(f"/api/v1/orders/{order.number}/claim", json={}, headers=auth.headers_for(other))
    assert response.status_code == 409


def test_queue_falls_back_to_the_database_when_redis_is_down(app, db, redis, make, city, client, auth, monkeypatch):
    from redis.exceptions import ConnectionError as RedisDown
    from backend.dispatch import queues
    order = make.order(city["resident"])

    def down(*_a, **_k):
        raise RedisDown("down")
    monkeypatch.setattr(queues, "members", down)
    listed = client.get("/api/v1/queue", headers=auth.headers_for(city["workers"][0])).json["waiting"]
    assert [o["number"] for o in listed] == [order.number]
