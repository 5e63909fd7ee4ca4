"""Emergencies (issue 24, item 6): danger words get safety advice and the emergency numbers at once
(words in templates/chat), the order made urgent with the short limits, the community told at once,
and escalated by the SLA rules when nobody takes it; a blocked fire exit is urgent too; per community
words, switches and numbers."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend import clock
from backend.accounts.actors import Actor
from backend.notifications.models import Notification
from backend.orders import emergencies, intake, states
from backend.orders.models import Order, OrderEvent


@pytest.fixture(autouse=True)
def _clock():
    yield
    clock.reset()


@pytest.mark.parametrize("text, kind", [
    ("水晶城小区3号楼2单元好大的煤气味", "gas"), ("家里燃气泄漏了怎么办", "gas"), ("8号楼着火了！", "fire"),
    ("楼下车库起火冒烟", "fire"), ("有人触电了", "electric"), ("电梯里有人被困", "trapped"),
    ("困在电梯里出不来了", "trapped"), ("门口有个老人晕倒了", "collapse"), ("邻居昏迷叫不醒", "collapse"),
    ("3号楼消防通道堵塞，堆满了杂物", "fire_exit"), ("电动车占用消防通道", "fire_exit"),
    ("楼道灯坏了", None), ("漏水", None), ("想办一张燃气卡", None),
])
def test_danger_words(app, db, text, kind):
    found = emergencies.find(text)
    assert (found.kind if found else None) == kind


def test_gas_in_the_chat_is_answered_at_once_and_the_order_is_urgent(client, db, make, auth, monkeypatch):
    from backend.chat import gateway
    world = make.world()

    def no_turn(*args, **kwargs):
        raise AssertionError("an emergency must not wait for the bot's questions")
    monkeypatch.setattr(gateway, "turn", no_turn)
    answer = client.post("/api/v1/chat", json={"text": "水晶城小区3号楼2单元楼道里好大的煤气味"},
                         headers=auth.headers_for(world["resident"]))
    assert answer.status_code == 200, answer.json
    reply = answer.json["replies"][0]
    for said in ("不要开关电灯", "离开", "119", "120", answer.json["order_number"]):
        assert said in reply, reply
    order = db.session.scalar(select(Order).where(Order.number == answer.json["order_number"]))
    assert order.grade == "urgent" and "emergency" in order.flags and order.grid_id == world["grids"][0].id
    assert order.claim_by - order.created_at <= timedelta(minutes=10)  # the urgent limits
    submit = db.session.scalar(select(OrderEvent).where(OrderEvent.order_id == order.id, OrderEvent.action == "submit"))
    assert submit.data["emergency"] == "gas" and submit.data["emergency_word"] == "煤气味"
    told = db.session.scalars(select(Notification).where(Notification.kind == "emergency")).all()
    assert [n.recipient_id for n in told] == [world["community_admin"].id]
    from backend.notifications.services import render
    assert "险情（燃气泄漏）" in render(told[0])


def test_an_unclaimed_emergency_climbs_the_ladder_when_its_short_limit_passes(db, redis, make):
    from backend.dispatch import ticks
    world = make.world()
    order = make.order(world["resident"], text="8号楼楼道有人晕倒了", location_text="水晶城小区3号楼")
    assert order.grade == "urgent"
    clock.travel(timedelta(minutes=11))
    ticks.sla_tick()
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.rung != "grid_worker" and order.state == states.ESCALATED


def test_a_blocked_fire_exit_is_urgent_without_advice(client, db, make, auth):
    world = make.world()
    order = make.order(world["resident"], text="3号楼消防通道堵塞，电动车堆满了")
    assert order.grade == "urgent" and order.resolve_by - order.created_at <= timedelta(hours=24)
    assert not emergencies.find("3号楼消防通道堵塞").advice
    # Staff entering a hotline call about it get the urgent grade too.
    by_phone = intake.record(Actor.for_staff(world["workers"][0]), channel="hotline",
                             text="有人打电话说2单元着火了", location_text="水晶城小区3号楼")
    assert by_phone.grade == "urgent" and "emergency" in by_phone.flags


def test_a_community_adds_words_turns_a_kind_off_and_gives_its_numbers(app, db, redis, make, client, auth):
    world = make.world()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["community-emergency", world["community"].name, "--word", "gas=液化气罐漏",
                                 "--off", "fire_exit", "--phone", "燃气抢修=96777"])
    assert result.exit_code == 0, result.output
    assert make.order(world["resident"], text="家里液化气罐漏了").grade == "urgent"
    assert make.order(world["resident"], text="消防通道堵塞").grade == "normal"  # off here
    answer = client.post("/api/v1/chat", json={"text": "水晶城小区3号楼燃气泄漏"}, headers=auth.headers_for(world["resident"]))
    assert "燃气抢修 96777" in answer.json["replies"][0]
    # Another community keeps the defaults.
    assert emergencies.find("消防通道堵塞", None).kind == "fire_exit"
    assert runner.invoke(args=["community-emergency", world["community"].name, "--off", "nothing"]).exit_code != 0
