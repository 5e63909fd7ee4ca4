"""The mini-program's journeys (miniprogram/tests/journeys.js): its real pages rendered by
miniprogram-simulate in Node over a `wx` stand-in whose request, uploadFile and downloadFile call
this suite's backend over HTTP — real Flask, the test database, the WeChat stub behind
code2session — so a changed API breaks the mini-program's tests. Each journey asserts on the
rendered WXML tree."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from backend.accounts.actors import Actor
from backend.accounts.models import Resident
from backend.orders.models import Order, OrderEvent
from backend.wishes import services as wishes
from backend.wishes.models import Wish
from tests.conftest import ANSWERS

ROOT = Path(__file__).resolve().parents[2]
JOURNEYS = ROOT / "miniprogram" / "tests" / "journeys.js"
PHOTO = ROOT / "tests" / "fixtures" / "wechat" / "media.png"
USERS = ("alice", "bob", "carol")


def node() -> str:
    found = shutil.which("node")
    if found is None or not (ROOT / "node_modules" / "miniprogram-simulate").exists():
        pytest.fail("node and miniprogram-simulate are needed: scripts/setup.sh installs them (npm ci)")
    return found


@pytest.fixture
def phones(stub, db, make, auth, live_server, tmp_path):
    """Three WeChat users: every code their phone's wx.login gives maps to their own openid, as
    WeChat's would (a new code per login, one person). The standard small world to report in."""
    stub.config(codes={f"{user}-{n}": {"openid": f"openid-mp-{user}"} for user in USERS for n in range(1, 30)})
    world = make.world()
    db.session.commit()
    env = {**os.environ, "API_BASE": live_server, "MP_STATE": str(tmp_path / "state.json"), "PHOTO": str(PHOTO),
           "BUILDING_LABEL": world["buildings"][0].label, "STAFF_TOKEN": auth.headers_for(world["workers"][0])[
               "Authorization"].split(" ", 1)[1], "BOT_ANSWERS": json.dumps(ANSWERS, ensure_ascii=False)}
    db.session.rollback()  # SQLite: the live server must not wait for this thread's read lock
    return {"world": world, "env": env, "state": tmp_path / "state.json"}


def run(phones, journey: str) -> dict:
    done = subprocess.run([node(), str(JOURNEYS), journey], env=phones["env"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"journey {journey}:\n{done.stdout}\n{done.stderr}"
    return json.loads(phones["state"].read_text()) if phones["state"].exists() else {}


def test_sign_in_silently_and_chat_to_an_order_number(phones, db):
    state = run(phones, "chat")
    order = db.session.query(Order).filter_by(number=state["chatOrder"]).one()
    assert order.resident.openid == "openid-mp-alice"  # the second sign-in (after the 401) is the same person
    assert order.channel == "miniprogram"  # the mini-program's chat says where it came from
    assert db.session.query(Order).count() == 1  # the retried message made one order
    assert [a.url.startswith("/uploads/") for a in order.attachments] == [True]  # 补充照片, after consent


def test_the_bots_quick_replies_are_buttons(phones, monkeypatch):
    """A bot that offers buttons (Rasa's REST answer, faked at the gateway of this process's live
    server): the chat draws them, sends the payload of the one tapped, and offers 转人工 when asked."""
    from backend.chat import gateway
    heard = []

    def bot(path, payload):
        heard.append(payload["message"])
        return [{"text": "您对上次的处理满意吗？也可以说“转人工”。", "buttons": [
            {"title": "满意", "payload": '/rate_service{"satisfaction": "满意"}'},
            {"title": "不满意", "payload": '/rate_service{"satisfaction": "不满意"}'}]}]
    monkeypatch.setattr(gateway, "_post", bot)
    run(phones, "quickReplies")
    assert heard == ["我想评价一下上次的工单", '/rate_service{"satisfaction": "不满意"}', "转人工"]


def test_report_with_photo_and_place_rate_unsatisfied_and_withdraw_another(phones, db):
    state = run(phones, "report")
    db.session.expire_all()
    reported = db.session.query(Order).filter_by(number=state["reported"]).one()
    assert reported.state == "reopened" and reported.satisfaction == "unsatisfied"
    assert reported.building_id == phones["world"]["buildings"][0].id and reported.channel == "miniprogram"
    assert [a.url.startswith("/uploads/") for a in reported.attachments] == [True]
    assert reported.rating_comment == "晚上还是会响，没有固定牢"
    assert db.session.query(Order).filter_by(number=state["withdrawn"]).one().state == "cancelled"


def test_a_second_resident_is_offered_to_join_joins_and_rates_it(phones, db):
    """附议 in 随手拍: alice reports the street lamp; bob, reporting the same lamp from his phone, is
    asked 附议 / 不是一回事 with its number, joins (no second order), finds it in 我的诉求 marked
    （附议）, and rates it once a worker has resolved it; carol, asked the same, says 不是一回事 and
    gets her own order."""
    state = run(phones, "sameLamp")
    db.session.expire_all()
    lamp = db.session.query(Order).filter_by(number=state["lamp"]).one()
    assert lamp.resident.openid == "openid-mp-alice" and lamp.channel == "miniprogram"
    separate = db.session.query(Order).filter_by(number=state["separate"]).one()  # carol: 不是一回事
    assert separate.resident.openid == "openid-mp-carol" and separate.channel == "miniprogram"
    assert db.session.query(Order).count() == 2  # bob's 附议 made none
    assert [db.session.get(Resident, c.resident_id).openid for c in lamp.co_reporters] == ["openid-mp-bob"]
    join = db.session.query(OrderEvent).filter_by(order_id=lamp.id, action="join").one()
    assert join.data["channel"] == "miniprogram" and join.note == "三号楼门口路灯坏了，晚上走路看不见"
    rated = db.session.query(OrderEvent).filter_by(order_id=lamp.id, action="rate").one()
    assert rated.data["co_reporter"] is True and rated.data["satisfaction"] == "satisfied"
    assert lamp.state == "rated"


def test_large_type_and_a_network_error_with_retry(phones, make, db):
    resident = make.resident(openid="openid-mp-alice")
    make.order(resident, text="楼下路灯不亮")
    db.session.commit()
    run(phones, "comfort")


def test_post_a_wish_and_a_volunteer_claims_it(phones, db):
    state = run(phones, "wishPost")
    db.session.expire_all()
    wish = db.session.get(Wish, state["wish"])
    assert wish.state == "submitted" and wish.channel == "miniprogram"
    wishes.perform(Actor.for_staff(phones["world"]["community_admin"]), wish, "approve")  # the community checks it
    db.session.rollback()  # SQLite: the live server must not wait for this thread's read lock
    run(phones, "wishClaim")
    db.session.expire_all()
    claimed = db.session.get(Wish, state["wish"])
    assert claimed.state == "claimed" and claimed.claimant.resident.openid == "openid-mp-bob"


@pytest.mark.e2e
def test_chat_with_the_real_bot_to_an_order_number(phones, rasa_stack, db):
    state = run(phones, "chatWithBot")
    db.session.expire_all()
    order = db.session.query(Order).filter_by(number=state["botOrder"]).one()
    assert order.resident.openid == "openid-mp-carol"
    assert order.channel == "miniprogram"  # through the message metadata, the action server and the bot API
