"""One intake, one order: every way in carries or derives an idempotency key (the Idempotency-Key
header, a chat message's client_id, the WeChat MsgId, the key the bot gets for its turn), stored
with the order under a unique index. A retry after a crash, or a twin sent at the same moment,
answers with the first order."""
import threading

import pytest
from sqlalchemy import func, select

from backend.accounts.actors import Actor
from backend.chat import gateway
from backend.orders import services as orders
from backend.orders.models import Order, OrderEvent
from tests.factories import count_orders


def test_api_create_with_the_same_key_answers_the_first_order(client, db, make, auth, world):
    resident, other = world["resident"], make.resident()
    headers = {**auth.headers_for(resident), "Idempotency-Key": "4b9c2f1e-retry"}
    first = client.post("/api/v1/orders", json={"text": "8号楼电梯困人了"}, headers=headers)
    again = client.post("/api/v1/orders", json={"text": "8号楼电梯困人了"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["number"] == first.json["number"]
    # The key is the resident's own: another resident's identical key is another order.
    theirs = client.post("/api/v1/orders", json={"text": "路灯不亮"},
                         headers={**auth.headers_for(other), "Idempotency-Key": "4b9c2f1e-retry"})
    assert theirs.status_code == 201 and theirs.json["number"] != first.json["number"]
    # Without a key nothing is deduplicated: two sends, two orders.
    for _ in range(2):
        assert client.post("/api/v1/orders", json={"text": "楼道灯坏了"},
                           headers=auth.headers_for(resident)).status_code == 201
    assert count_orders(db, resident_id=resident.id) == 3
    assert db.session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.action == "submit")) == 4


@pytest.mark.parametrize("key", ["", "含中文", "has space", "x" * 129])
def test_a_malformed_key_is_a_422_naming_the_header(client, db, auth, world, key):
    response = client.post("/api/v1/orders", json={"text": "楼道灯坏了"},
                           headers={**auth.headers_for(world["resident"]), "Idempotency-Key": key})
    assert response.status_code == 422 and "Idempotency-Key" in response.json["error"]["fields"]
    assert count_orders(db) == 0


def test_concurrent_twins_with_one_key_make_one_order(app, db, auth, world):
    headers = {**auth.headers_for(world["resident"]), "Idempotency-Key": "twins-1"}
    db.session.rollback()
    start, answers = threading.Barrier(4), []

    def send():
        client = app.test_client()
        start.wait()
        answers.append(client.post("/api/v1/orders", json={"text": "3号楼水管爆了"}, headers=headers))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json["number"] for a in answers}) == 1
    assert count_orders(db) == 1


def test_the_unique_index_decides_a_retry_without_a_look_up_first(db, world, monkeypatch):
    """A new order makes no look-up of its key (a round trip every submission would pay): the
    retry's insert fails on the unique index, is rolled back, and the first order is the answer —
    one order, one submit event. The same path decides a twin that commits between another's
    classification and its insert. On PostgreSQL the number is taken inside the INSERT, so the
    refused retry has spent one (a gap in the day's numbers, as any rolled-back order leaves);
    SQLite numbers after the insert and spends none."""
    resident = Actor.for_resident(world["resident"])
    real, calls = orders._first_for, []

    def counted(key, resident_id):
        calls.append(key)
        return real(key, resident_id)
    monkeypatch.setattr(orders, "_first_for", counted)
    first = orders.create_order(resident, text="3号楼水管爆了", idempotency_key="race-1")
    assert calls == []
    again = orders.create_order(resident, text="3号楼水管爆了", idempotency_key="race-1")
    assert again.replayed and again.number == first.number and len(calls) == 1
    assert count_orders(db) == 1
    assert db.session.scalar(select(func.count()).select_from(OrderEvent)) == 1
    spent = 1 if db.engine.dialect.name == "postgresql" else 0
    assert orders.create_order(resident, text="另一件事").number.endswith(f"-{2 + spent:04d}")


def test_chat_with_the_same_client_id_does_not_run_the_turn_again(client, db, auth, world, monkeypatch):
    turns = []
    real_turn = gateway.turn

    def counted(*args):
        turns.append(args)
        return real_turn(*args)  # the test bot is down: the chat stores the message itself
    monkeypatch.setattr(gateway, "turn", counted)
    headers = auth.headers_for(world["resident"])
    body = {"text": "水晶城小区3号楼门口路灯不亮", "client_id": "msg-7f3a"}
    first = client.post("/api/v1/chat", json=body, headers=headers).json
    again = client.post("/api/v1/chat", json=body, headers=headers).json
    assert first["order_number"] and again["order_number"] == first["order_number"]
    assert len(turns) == 1 and count_orders(db) == 1
    # A new message (another client id, or none) is a new turn.
    client.post("/api/v1/chat", json={**body, "client_id": "msg-7f3b"}, headers=headers)
    client.post("/api/v1/chat", json={"text": body["text"]}, headers=headers)
    assert len(turns) == 3 and count_orders(db) == 3


def test_the_bot_api_answers_a_repeated_turn_key_with_the_first_order(client, db, auth, world):
    body = {"sender_id": auth.sender(world['resident']), "text": "3号楼楼道灯坏了",
            "location_text": "水晶城小区3号楼", "channel": "wechat", "idempotency_key": "wechat:msg:777"}
    first = client.post("/api/v1/bot/orders", json=body, headers=auth.bot())
    again = client.post("/api/v1/bot/orders", json=body, headers=auth.bot())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["number"] == first.json["number"] and count_orders(db) == 1
