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


def test_the_knowledge_base_answers_wechat_and_the_mini_program_alike(rasa_stack, pusher, stub, worker, client,
                                                                      auth, make, db):
    """Issue 23: the H5 pages (tests/browser/test_knowledge_browser.py), WeChat and the mini-program
    get the same 知识库 answers — a community's entry reaches its resident on WeChat and on the
    mini-program's chat, and a WeChat resident of another community is not given it."""
    from backend.accounts.actors import Actor
    from backend.knowledge import services as knowledge
    from backend.wishes import registry
    street = make.street()
    ours, other = make.community(street, name="水晶城社区"), make.community(street, name="翠苑社区")
    make.building(make.grid(ours), number=3)
    make.building(make.grid(other), number=8)
    answer = "社区卫生服务站每周二、周四上午8:30-11:00接种疫苗，请带好接种本。"
    knowledge.add_entry(Actor.for_staff(make.staff("community_admin", community=ours)), f"community:{ours.id}",
                        {"question": "社区疫苗接种时间", "answer": answer, "variants": ["打疫苗是哪天"],
                         "place": "社区卫生服务站二楼"})
    residents = {"o-kb-ours": make.resident(openid="o-kb-ours"), "o-kb-other": make.resident(openid="o-kb-other")}
    for resident, community in zip(residents.values(), (ours, other)):
        registry.register(Actor.for_resident(resident), community_id=community.id, kind="volunteer", name="居民",
                          skills=[], hours_available=1)
    db.session.rollback()

    on_wechat = _say(pusher, worker, stub, "o-kb-ours", "社区什么时候打疫苗", 9101)
    assert answer in on_wechat and "地点：社区卫生服务站二楼" in on_wechat, on_wechat
    elsewhere = _say(pusher, worker, stub, "o-kb-other", "社区什么时候打疫苗", 9102)
    assert elsewhere and answer not in elsewhere, elsewhere

    response = client.post("/api/v1/chat", headers=auth.headers_for(residents["o-kb-ours"]),
                           json={"text": "疫苗接种是哪天", "channel": "miniprogram"})
    assert response.status_code == 200, response.json
    assert response.json["replies"] == on_wechat and response.json["order_number"] is None, response.json
