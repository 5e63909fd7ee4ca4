"""Residents (and the bot for them) file orders from WeChat, the mini-program or H5 only: a hotline call, a walk-in or a
photo report is recorded by staff. Refused at the edge (422 naming channel) and again in the service,
so no other way in can store one."""
import html
import json
import re

import pytest
from sqlalchemy import func, select

from backend.accounts.actors import Actor
from backend.errors import ValidationFailed
from backend.orders import services
from backend.orders.models import Order

STAFF_CHANNELS = ["hotline", "walk_in", "photo_report"]


def _count(db):
    return db.session.scalar(select(func.count()).select_from(Order))


@pytest.mark.parametrize("channel", STAFF_CHANNELS)
def test_the_api_refuses_a_resident_order_on_a_staff_channel(client, db, make, auth, channel):
    make.world()
    headers = auth.headers_for(make.resident())
    response = client.post("/api/v1/orders", json={"text": "楼道灯坏了", "channel": channel}, headers=headers)
    assert response.status_code == 422
    assert "channel" in response.json["error"]["fields"]
    assert _count(db) == 0


@pytest.mark.parametrize("channel", STAFF_CHANNELS)
def test_the_bot_api_refuses_a_staff_channel(client, db, make, auth, channel):
    resident = make.resident()
    response = client.post("/api/v1/bot/orders", json={"sender_id": auth.sender(resident), "text": "楼道灯坏了",
                                                        "channel": channel}, headers=auth.bot())
    assert response.status_code == 422
    assert "channel" in response.json["error"]["fields"]
    assert _count(db) == 0


@pytest.mark.parametrize("kind", ["resident", "bot"])
def test_the_service_refuses_it_whatever_the_caller(db, make, kind):
    resident = make.resident()
    actor = Actor.for_resident(resident) if kind == "resident" else Actor("bot")
    with pytest.raises(ValidationFailed) as refused:
        services.create_order(actor, text="楼道灯坏了", channel="hotline", resident_id=resident.id)
    assert refused.value.status == 422 and "channel" in refused.value.fields
    assert _count(db) == 0


def test_staff_still_record_a_hotline_call(db, make):
    world = make.world()
    order = services.create_order(Actor.for_staff(world["community_admin"]), text="来电：3号楼路灯不亮",
                                  channel="hotline", location_text="水晶城小区3号楼")
    assert order.channel == "hotline"


@pytest.mark.parametrize("channel", ["wechat", "miniprogram", "h5"])
def test_residents_channels_are_accepted(client, make, auth, channel):
    make.world()
    response = client.post("/api/v1/orders", json={"text": "楼道灯坏了", "channel": channel},
                           headers=auth.headers_for(make.resident()))
    assert response.status_code == 201 and response.json["channel"] == channel


def test_the_mini_programs_orders_are_counted_apart_on_the_dashboard(client, make, auth, db):
    """本月按渠道: what residents sent from the mini-program's pages (小程序) beside WeChat's
    customer-service chat (微信) and the H5 pages (网页), in the figures and on the console."""
    from backend.orders import figures
    from tests.console.test_console import _login
    world = make.world()
    headers = auth.headers_for(world["resident"])
    for channel in ("miniprogram", "miniprogram", "wechat", "h5"):
        response = client.post("/api/v1/orders", json={"text": "水晶城小区3号楼楼道灯坏了", "channel": channel},
                               headers=headers)
        assert response.status_code == 201, response.json
    board = figures.dashboard(Actor.for_staff(world["community_admin"]))
    assert board["by_channel"] == [{"channel": "miniprogram", "count": 2}, {"channel": "h5", "count": 1},
                                   {"channel": "wechat", "count": 1}]
    assert _login(client, world["community_admin"]).status_code == 302
    page = client.get("/console/").get_data(as_text=True)
    chart = re.search(r"id=\"chart-by-channel\" data-chart='([^']*)'", page).group(1)
    assert json.loads(html.unescape(chart)) == [{"channel": "小程序", "count": 2}, {"channel": "网页", "count": 1},
                                                {"channel": "微信", "count": 1}]
