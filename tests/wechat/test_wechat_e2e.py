"""WeChat end to end with the real bot: pushes signed and encrypted as WeChat does, the worker
runs each turn through the real Rasa server and action server, and the bot's answers reach the
WeChat API stub as customer-service messages — ending with an order taken down in chat."""
import pytest
from sqlalchemy import select

from backend.orders.models import Order
from tests.conftest import answer_to
from tests.wechat.conftest import text_xml

pytestmark = pytest.mark.e2e


def _say(pusher, worker, stub, openid, text, msg_id):
    before = len(_replies(stub, openid))
    assert pusher.push(text_xml(openid, text, msg_id=msg_id), safe=True).status_code == 200
    worker()
    return _replies(stub, openid)[before:]


def _replies(stub, openid):
    return [c["json"]["text"]["content"] for c in stub.calls("cgi-bin/message/custom/send")
            if c["json"] and c["json"].get("touser") == openid]


def test_a_wechat_conversation_with_the_real_bot_ends_in_an_order(rasa_stack, pusher, stub, worker, make, db):
    world = make.world()
    db.session.rollback()
    openid = "o-e2e-wechat"
    greeting = _say(pusher, worker, stub, openid, "你好", 9001)
    assert greeting and all("诉求编号" not in text for text in greeting)  # the bot itself answered

    replies = _say(pusher, worker, stub, openid, "3号楼2单元楼道灯坏了好几天了", 9002)
    msg_id = 9003
    while not db.session.scalar(select(Order).where(Order.channel == "wechat")) and msg_id < 9012:
        answer = answer_to(replies[-1])
        assert answer, f"unexpected question from the bot: {replies}"
        replies = _say(pusher, worker, stub, openid, answer, msg_id)
        db.session.rollback()
        msg_id += 1
    order = db.session.scalar(select(Order).where(Order.channel == "wechat"))
    assert order is not None and order.resident.openid == openid
    assert order.grid_id == world["grids"][0].id and order.category.startswith("城乡建设")
    assert any(order.number in text for text in replies)
