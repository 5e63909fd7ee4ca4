"""The architecture's promise: with Redis down, an order a resident sends is still stored and
routed, and `flask rebuild-queues` puts it in its grid's queue once Redis is back."""
import redis as redis_lib
from sqlalchemy import select

from backend.extensions import redis as app_redis
from backend.orders.models import Order
from tests.conftest import _free_port


def test_orders_are_stored_and_routed_while_redis_is_down(app, client, make, auth, db, redis_stopped):
    world = make.world()
    headers = auth.headers_for(world["resident"])
    db.session.rollback()
    created = client.post("/api/v1/orders", json={"text": "8号楼电梯困人了", "location_text": "水晶城小区8号楼",
                                                  "grade": "urgent"}, headers=headers)
    assert created.status_code == 201, created.json
    chatted = client.post("/api/v1/chat", json={"text": "水晶城小区3号楼门口路灯不亮"}, headers=headers)
    assert chatted.status_code == 200 and chatted.json["order_number"]
    health = client.get("/healthz").json
    assert health["redis"].startswith("down") and health["db"] == "ok"
    grids = dict(db.session.execute(select(Order.number, Order.grid_id)).all())
    assert grids[created.json["number"]] == world["grids"][1].id
    assert grids[chatted.json["order_number"]] == world["grids"][0].id


def test_rebuild_queues_after_the_outage_puts_them_in_their_queue(app, client, make, auth, db, redis):
    world = make.world()
    headers = auth.headers_for(world["resident"])
    saved = app_redis.client
    app_redis.client = redis_lib.Redis(port=_free_port(), socket_connect_timeout=0.5, decode_responses=True)
    try:
        number = client.post("/api/v1/orders", json={"text": "楼道灯坏了", "location_text": "水晶城小区3号楼"},
                             headers=headers).json["number"]
    finally:
        app_redis.client = saved
    assert app.test_cli_runner().invoke(args=["rebuild-queues"]).exit_code == 0
    queue = client.get("/api/v1/queue", headers=auth.headers_for(world["workers"][0])).json
    assert number in [o["number"] for o in queue["waiting"]]
