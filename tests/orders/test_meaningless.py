"""Meaningless input (issue 24, item 7): real-looking junk a resident sends is asked back with
「请描述一下遇到的问题」 instead of becoming an order — on the chat API, the H5 chat, a WeChat push and
the order API — while short real complaints pass, and staff intake keeps free text."""
import pytest
from sqlalchemy import func, select

from backend.accounts.actors import Actor
from backend.orders import intake
from backend.orders.meaningless import is_meaningless
from backend.orders.models import Order

# What residents' chat boxes really receive when nobody means a problem: a pocket tap, a stray key,
# a pasted formula, punctuation, emoji, filler sounds.
JUNK = ["0", "00", ".ô", "ô", "1", "123456", "?", "？？？", "。。。", "...", "~~~", "!!!", "、", "，",
        "=SUM(A1:A3)", "1+1=2", "x²+y²=z²", "=B2*C2", "(a+b)/2", "∑", "😀", "👍👍", "🙏", "😡😡😡", "[]",
        "asdf", "qwe", "ok", "a", "嗯", "嗯嗯", "哈哈哈", "啊", "哦哦", "好的", "呵呵", "…", "——", "   .  ",
        "#", "@", "🌹🌹", "灯", "0.0", "^_^", "T_T"]
# Short real complaints (and real ones with punctuation, emoji or digits) that must still pass.
REAL = ["灯坏了", "漏水", "停电", "停水了", "有老鼠", "电梯坏了！！！", "路灯不亮😡", "井盖丢了", "3号楼漏水",
        "噪音扰民", "垃圾没人收", "狗叫", "楼道堵了", "门禁坏了", "暖气不热", "树倒了", "Water leak in building 3",
        "燃气泄漏", "着火了！", "有人晕倒", "你好", "2单元没水"]


@pytest.mark.parametrize("text", JUNK)
def test_junk_is_meaningless(text):
    assert is_meaningless(text), text


@pytest.mark.parametrize("text", REAL)
def test_short_real_complaints_pass(text):
    assert not is_meaningless(text), text


def test_the_order_api_asks_back_and_stores_nothing(client, db, make, auth):
    world = make.world()
    headers = auth.headers_for(world["resident"])
    for text in ("0", ".ô", "=SUM(A1:A3)", "😀😀"):
        answer = client.post("/api/v1/orders", json={"text": text}, headers=headers)
        assert answer.status_code == 422, answer.json
        assert answer.json["error"]["code"] == "meaningless"
        assert answer.json["error"]["message"].startswith("请描述一下遇到的问题")
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    assert client.post("/api/v1/orders", json={"text": "漏水"}, headers=headers).status_code == 201


def test_the_chat_asks_back_without_an_order_or_a_bot_turn(client, db, make, auth, monkeypatch):
    from backend.chat import gateway
    world = make.world()

    def no_turn(*args, **kwargs):
        raise AssertionError("junk must not reach the bot")
    monkeypatch.setattr(gateway, "turn", no_turn)
    for text in ("0", ".ô", "1+1=2", "？？？", "👍"):
        answer = client.post("/api/v1/chat", json={"text": text}, headers=auth.headers_for(world["resident"]))
        assert answer.status_code == 200, answer.json
        assert answer.json["order_number"] is None
        assert answer.json["replies"] == ["请描述一下遇到的问题：在哪里、出了什么事，例如“3号楼2单元楼道灯坏了”。"]
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_wechat_push_of_junk_is_asked_back(app, db, make):
    """The WeChat path runs the same turn (wechat.services → chat.handle_message)."""
    from backend.chat import services as chat
    resident = make.world()["resident"]
    answer = chat.handle_message(resident.id, ".ô", channel="wechat", key="wechat:msg:1")
    assert answer["order_number"] is None and answer["replies"][0].startswith("请描述一下遇到的问题")
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_staff_intake_keeps_free_text(db, make):
    world = make.world()
    order = intake.record(Actor.for_staff(world["workers"][0]), channel="hotline", text="0",
                          location_text="水晶城小区3号楼")
    assert order.number and order.text == "0"
