"""Real processes killed mid-turn, with the real Rasa server and action server.

1. The RQ worker (`flask run-worker`, a child process) is SIGKILLed in the middle of a WeChat turn,
   at the worst moment: the bot has created the order and the backend has answered, but the answer
   is held by a proxy, so the worker never writes the reply or marks the push done. A second worker
   started afterwards takes the stale push over: the resident gets exactly one reply for it and there
   is exactly one order — the push's MsgId, stored as the order's idempotency key, finds it.
2. Rasa is SIGKILLed while several residents chat at once over HTTP: no answer is a 5xx, and every
   message answered after the bot died is a stored order.
3. With the Rasa server stopped, chat still answers and stores the order, routed by its text.

Their stack is this module's own: the other modules share one that nobody stops."""
import signal
import threading
import uuid

import pytest
import requests
from sqlalchemy import func, select

from backend.notifications.models import Notification
from backend.orders.models import Order
from backend.wechat.models import WechatInbound
from tests.conftest import answer_to, running_rasa, use_rasa
from tests.faults.conftest import TcpProxy, backend_env, wait_until, worker_argv
from tests.wechat.conftest import WeChatPusher, text_xml

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def proxy(live_server):
    proxy = TcpProxy(int(live_server.rsplit(":", 1)[1]))
    yield proxy
    proxy.close()


@pytest.fixture(scope="module")
def bot_processes(app, proxy, redis_url, tmp_path_factory):
    """Rasa and the action server of this module's own (its tests kill them), the actions reaching
    the backend through the proxy."""
    with running_rasa(app, f"http://{proxy.url_host}", redis_url, tmp_path_factory) as stack:
        yield stack


@pytest.fixture
def bot_stack(app, bot_processes, redis_url, monkeypatch):
    use_rasa(monkeypatch, app, bot_processes, redis_url)
    return bot_processes


@pytest.fixture
def pusher(app, client, stub):
    return WeChatPusher(app, client)


def _replies(stub, openid):
    return [c["json"]["text"]["content"] for c in stub.calls("cgi-bin/message/custom/send")
            if c["json"] and c["json"].get("touser") == openid]


def _read(db, query, rows=False):
    """One read in a transaction of its own, ended at once: on SQLite every transaction here takes
    the write lock (BEGIN IMMEDIATE), and a poll that kept one open would starve the worker."""
    db.session.rollback()
    try:
        return [tuple(r) for r in db.session.execute(query)] if rows else db.session.scalar(query)
    finally:
        db.session.rollback()


def _count(db, model, *where):
    return _read(db, select(func.count()).select_from(model).where(*where))


def test_worker_killed_after_the_bot_made_the_order_gives_one_order_and_one_reply(
        app, bot_stack, proxy, pusher, stub, make, db, spawn):
    make.world()
    db.session.commit()
    openid = f"o-kill-{uuid.uuid4().hex[:8]}"
    worker = spawn("worker-1", worker_argv(), backend_env(app))
    # Only the order create's answer is held: every other call of the action server flows.
    proxy.hold(b"POST /api/v1/bot/orders HTTP")  # the create, not the 附议 check (/orders/duplicates) before it
    msg_id, text = 7_100_000 + uuid.uuid4().int % 100_000, "3号楼2单元楼道灯坏了好几天了"
    for _turn in range(10):
        before = len(_replies(stub, openid))
        assert pusher.push(text_xml(openid, text, msg_id=msg_id), safe=True).status_code == 200
        # The test client shares this test's session: end its transaction, or on SQLite it keeps
        # the write lock the worker process needs.
        db.session.rollback()
        # Either the bot asks its next question, or it has made the order and we hold the answer.
        wait_until(lambda: proxy.holding.is_set() or len(_replies(stub, openid)) > before, 60,
                   lambda: f"the bot's answer to {text!r}\n{worker.tail()}")
        if proxy.holding.is_set():
            break
        text = answer_to(_replies(stub, openid)[-1])
        assert text, f"unexpected question from the bot: {_replies(stub, openid)}"
        msg_id += 1
    assert proxy.holding.is_set(), "the bot never created the order"

    worker.kill()  # SIGKILL: the worker is mid-turn, waiting for the bot's answer
    replies_before = len(_replies(stub, openid))
    key_of_turn = f"wechat:msg:{msg_id}"
    [(row_id, status, number)] = _read(db, select(WechatInbound.id, WechatInbound.status, WechatInbound.order_number)
                                       .where(WechatInbound.msg_key == f"msg:{msg_id}"), rows=True)
    assert status == "processing" and number is None
    assert _count(db, Order) == 1  # committed by the bot's create before the kill
    [(order_number, order_key, resident_id)] = _read(
        db, select(Order.number, Order.idempotency_key, Order.resident_id), rows=True)
    assert order_key == f"{resident_id}:{key_of_turn}"
    proxy.release()  # the action server gets its answer; the worker it was for is gone

    # A new worker treats a push held this long as its dead worker's, and sweeps every second.
    worker = spawn("worker-2", worker_argv(),
                   backend_env(app, WECHAT_STALE_CLAIM_SECONDS=2, WECHAT_SWEEP_SECONDS=1))
    inbound = select(WechatInbound.status).where(WechatInbound.id == row_id)
    wait_until(lambda: _read(db, inbound) == "done", 90, lambda: f"the retried push to be done\n{worker.tail()}")
    wait_until(lambda: _reply_states(db, row_id) and "pending" not in _reply_states(db, row_id), 60,
               "the retry's reply to be delivered")
    assert _count(db, Order) == 1
    assert _reply_states(db, row_id) == ["sent"]  # one reply row for the turn, delivered once
    after = _replies(stub, openid)[replies_before:]
    assert len(after) == 1 and order_number in after[0], after
    assert _read(db, select(WechatInbound.order_number).where(WechatInbound.id == row_id)) == order_number


def _reply_states(db, row_id):
    rows = _read(db, select(Notification.payload, Notification.status).where(Notification.kind == "reply"), rows=True)
    return [status for payload, status in rows if (payload or {}).get("inbound_id") == row_id]


def test_rasa_killed_while_residents_chat_over_http_loses_nothing(app, bot_stack, live_server, make, auth, db):
    """Six residents chat at once; during their third message Rasa is SIGKILLed. Every answer is a
    200; every message after the kill is stored once as an order under its client_id."""
    make.world()
    residents = [make.resident() for _ in range(6)]
    db.session.commit()
    headers = [auth.headers_for(r) for r in residents]
    db.session.rollback()
    answers, errors = [], []
    killed = threading.Event()

    def chat(i):
        for n in range(6):
            if n == 2 and i == 0:
                bot_stack["rasa"].send_signal(signal.SIGKILL)
                bot_stack["rasa"].wait(10)
                killed.set()
            if n >= 3:
                killed.wait(60)
            client_id = f"c{i}-{n}-{uuid.uuid4().hex[:6]}"
            try:
                r = requests.post(f"{live_server}/api/v1/chat", headers=headers[i], timeout=90,
                                  json={"text": f"{i + 1}号楼门口的路灯坏了{n}", "client_id": client_id})
                answers.append((n, client_id, r.status_code, r.json()))
            except (requests.RequestException, ValueError) as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=chat, args=(i,)) for i in range(len(residents))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert not errors and len(answers) == 6 * len(residents)
    assert {status for _, _, status, _ in answers} == {200}, answers
    numbers = [body["order_number"] for _, _, _, body in answers if body.get("order_number")]
    assert len(numbers) == len(set(numbers))
    assert set(numbers) <= {number for (number,) in _read(db, select(Order.number), rows=True)}
    for n, client_id, _, body in answers:
        if n >= 3:  # sent after the kill: the fallback stored it, once, under its client_id
            assert body["bot"] == "unavailable" and body["order_number"], body
            assert _count(db, Order, Order.idempotency_key.like(f"%:chat:{client_id}")) == 1


def test_with_the_rasa_server_stopped_chat_still_answers_and_stores_the_order(bot_stack, client, make, auth, db):
    rasa = bot_stack["rasa"]
    if rasa.poll() is None:  # the test before may have killed it already; stopped either way
        rasa.terminate()
        rasa.wait(30)
    world = make.world()
    headers = auth.headers_for(world["resident"])
    db.session.rollback()
    reply = client.post("/api/v1/chat", json={"text": "水晶城小区8号楼门口的窨井盖松了 车压过去哐哐响"},
                        headers=headers).json
    assert reply["bot"] == "unavailable" and reply["order_number"], reply
    assert reply["order_number"] in reply["replies"][0]
    order = client.get(f"/api/v1/orders/{reply['order_number']}", headers=headers).json
    assert order["grid"] == world["grids"][1].name and "bot_unavailable" in order["flags"]
