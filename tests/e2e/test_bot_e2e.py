"""End to end through the real Rasa server and action server, against the test backend served
over HTTP: a resident reports a broken stairway light in chat and ends up with a routed,
categorised order in the grid's queue. All on the run's shared stack: nothing here stops it (Rasa
stopped is tests/faults/test_bot_and_worker_killed.py, on a stack of its own)."""
import pytest

pytestmark = pytest.mark.e2e

from tests.conftest import answer_to

def _chat(client, headers, text):
    response = client.post("/api/v1/chat", json={"text": text}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def _report(client, headers, text):
    """Say `text`, then answer the bot's questions as a resident would until it names an order."""
    reply = _chat(client, headers, text)
    transcript = [("resident", text), ("bot", reply["replies"])]
    for _ in range(8):
        if reply["order_number"]:
            break
        assert reply["bot"] == "ok" and reply["replies"], transcript
        answer = answer_to(reply["replies"][-1])
        assert answer, f"unexpected question from the bot: {transcript}"
        reply = _chat(client, headers, answer)
        transcript += [("resident", answer), ("bot", reply["replies"])]
    return reply, transcript


def test_reporting_a_broken_light_ends_in_the_grids_queue(rasa_stack, client, make, auth, db):
    world = make.world()
    headers = auth.headers_for(world["resident"])
    db.session.rollback()
    reply, transcript = _report(client, headers, "3号楼2单元楼道灯坏了好几天了")
    number = reply["order_number"]
    assert number, transcript
    assert any(number in text for text in reply["replies"]), transcript

    order = client.get(f"/api/v1/orders/{number}", headers=headers).json
    assert order["grid"] == world["grids"][0].name, (order, transcript)
    assert order["category"].startswith("城乡建设")
    assert order["kind"] == "repair"  # predicted from the text by the backend (a lamp is 报修)
    assert order["events"][0]["actor_type"] == "bot"
    queue = client.get("/api/v1/queue", headers=auth.headers_for(world["workers"][0])).json
    assert number in str(queue)
    other_queue = client.get("/api/v1/queue", headers=auth.headers_for(world["workers"][1])).json
    assert number not in str(other_queue)


def test_a_report_with_a_full_address_takes_the_order_form_and_is_a_complaint(rasa_stack, client, make, auth, db):
    """Issue 25: "庭院花园小区8号楼2单元门口垃圾成堆" read as `inform` (an answer to a question nobody
    asked); it is a report, the form takes it with its address, and its kind comes from the text."""
    world = make.world()
    headers = auth.headers_for(world["resident"])
    db.session.rollback()
    text = "庭院花园小区8号楼2单元门口垃圾成堆"
    reply, transcript = _report(client, headers, text)
    number = reply["order_number"]
    assert number, transcript
    order = client.get(f"/api/v1/orders/{number}", headers=headers).json
    assert order["text"] == text and order["kind"] == "complaint", (order, transcript)
    assert "8号楼2单元" in (order.get("location_text") or ""), (order, transcript)


def test_status_check_by_my_last_one(rasa_stack, client, make, auth, db):
    resident = make.resident()
    make.world()
    order = make.order(resident)
    db.session.rollback()
    reply = _chat(client, auth.headers_for(resident), "帮我查一下我上次报的那个事怎么样了")
    assert any(order.number in text for text in reply["replies"]), reply


RATINGS = [("基本满意", "rated", "基本满意"), ("3分", "rated", "基本满意"), ("一般", "rated", "基本满意"),
           ("不满意", "reopened", "不满意")]


@pytest.mark.parametrize("said,state,label", RATINGS, ids=[r[0] for r in RATINGS])
def test_rating_in_chat_matches_what_the_backend_did(rasa_stack, client, make, auth, db, said, state, label):
    """The resident rates a resolved order in their own words; the bot's reply says what the
    backend did with it (rated, or reopened), never thanks for a rating that reopened the order."""
    from backend.accounts.actors import Actor
    from backend.orders import services
    world = make.world()
    order = make.order(world["resident"])
    worker = Actor.for_staff(world["workers"][0])
    services.perform(worker, order, "claim")
    services.perform(worker, order, "resolve", result="已更换灯泡")
    number = order.number
    db.session.rollback()
    headers = auth.headers_for(world["resident"])
    reply = _chat(client, headers, "我要评价")
    for _ in range(3):
        if any(number in text for text in reply["replies"]):
            break
        reply = _chat(client, headers, said)
    stored = client.get(f"/api/v1/orders/{number}", headers=headers).json
    assert stored["state"] == state, reply
    assert any(label in text and number in text for text in reply["replies"]), reply
    if state == "reopened":
        assert any("重新" in text for text in reply["replies"]) and not any("感谢评价" in t for t in reply["replies"])


def test_junk_is_asked_back_but_an_answer_the_bot_asked_for_is_not_junk(rasa_stack, client, make, auth, db):
    """Issue 24, item 7, with the real bot: "0" out of the blue is asked back and makes no order; a
    phone number or a bare "1" while the bot's order form asks for something reaches the bot."""
    from sqlalchemy import func, select
    from backend.orders.models import Order
    world = make.world()
    headers = auth.headers_for(world["resident"])
    db.session.rollback()
    for junk in ("0", ".ô", "=SUM(A1:A3)"):
        reply = _chat(client, headers, junk)
        assert reply["bot"] == "skipped" and reply["order_number"] is None
        assert reply["replies"][0].startswith("请描述一下遇到的问题"), reply
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    reply = _chat(client, headers, "3号楼2单元楼道灯坏了")
    assert reply["bot"] == "ok" and reply["order_number"] is None  # the form asks its questions
    reply = _chat(client, headers, "1")  # whatever the bot asked, "1" is now an answer: the bot takes it
    assert reply["bot"] != "skipped", reply
