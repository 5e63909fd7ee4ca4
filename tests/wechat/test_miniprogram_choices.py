"""附议 through the mini-program's customer service (issue 21): a mini-program's customer-service API
takes text, image, link and mini-program cards, not the official account's menu message. A push
addressed to the mini-program (ToUserName = WECHAT_MINIPROGRAM_ID, its 原始ID) gets the bot's
choices written out 「回复 1 附议，回复 2 不是一回事」, and a reply of 1 or 2 reaches the bot as the
choice's words, as a menu tap would. An official account's push still gets the menu; a menu the
account refuses anyway (40008: WECHAT_MINIPROGRAM_ID not set) goes out as the written text."""
import pytest
from sqlalchemy import select

from backend.chat import services as chat
from backend.notifications.models import Notification
from tests.wechat.conftest import text_xml

QUESTION = "这个问题已有居民反映（HX20261207-0001，办理中），要不要附议？附议后进展会同步通知您"
MINIPROGRAM = "gh_minimailbox"


@pytest.fixture
def bot(monkeypatch):
    """The bot as the order form leaves it: asked 附议 / 不是一回事 on the first message."""
    heard = []

    def handle_message(resident_id, text, channel="wechat", key=None):
        heard.append(text)
        if len(heard) == 1:
            return {"replies": [QUESTION], "order_number": None, "buttons": [
                {"title": "附议", "payload": "/join_report"}, {"title": "不是一回事", "payload": "/report_separately"}]}
        return {"replies": [f"收到：{text}"], "order_number": None}

    monkeypatch.setattr(chat, "handle_message", handle_message)
    return heard


def sent(stub, openid):
    return [c["json"] for c in stub.calls("cgi-bin/message/custom/send") if (c["json"] or {}).get("touser") == openid]


def test_the_mini_programs_customer_service_gets_the_choices_written_out(app, pusher, stub, worker, db, bot,
                                                                         monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_MINIPROGRAM_ID", MINIPROGRAM)
    stub.config(account="miniprogram")
    assert pusher.push(text_xml("o-mp-1", "3号楼门口路灯不亮了", to=MINIPROGRAM), safe=True).status_code == 200
    worker()
    assert sent(stub, "o-mp-1") == [{"touser": "o-mp-1", "msgtype": "text", "text": {
        "content": QUESTION + "\n回复 1 附议，回复 2 不是一回事"}}]  # one message, no refused menu first

    assert pusher.push(text_xml("o-mp-1", "1", to=MINIPROGRAM), safe=True).status_code == 200
    worker()
    assert bot == ["3号楼门口路灯不亮了", "附议"]  # the number is the choice
    assert sent(stub, "o-mp-1")[-1]["text"]["content"] == "收到：附议"
    # a number with no choices before it is just what the resident wrote
    assert pusher.push(text_xml("o-mp-1", "2", to=MINIPROGRAM), safe=True).status_code == 200
    worker()
    assert bot[-1] == "2"


def test_an_official_accounts_push_still_gets_the_menu(app, pusher, stub, worker, db, bot, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_MINIPROGRAM_ID", MINIPROGRAM)
    assert pusher.push(text_xml("o-oa-1", "3号楼门口路灯不亮了"), safe=True).status_code == 200  # to gh_redmailbox
    worker()
    [menu] = sent(stub, "o-oa-1")
    assert menu["msgtype"] == "msgmenu" and menu["msgmenu"]["head_content"] == QUESTION
    assert [i["content"] for i in menu["msgmenu"]["list"]] == ["附议", "不是一回事"]
    # its tap pushes the words back; a bare number is not read as a choice here
    assert pusher.push(text_xml("o-oa-1", "２"), safe=True).status_code == 200
    worker()
    assert bot == ["3号楼门口路灯不亮了", "２"]


def test_a_menu_refused_by_the_account_goes_out_written(app, pusher, stub, worker, db, bot):
    """WECHAT_MINIPROGRAM_ID not set, the pushes a mini-program's: WeChat refuses the menu (40008) and
    the same reply goes out as text with the choices written out, answered by number (full-width too)."""
    stub.config(account="miniprogram")
    assert pusher.push(text_xml("o-mp-2", "3号楼门口路灯不亮了", to=MINIPROGRAM), safe=True).status_code == 200
    worker()
    calls = sent(stub, "o-mp-2")
    assert [c["msgtype"] for c in calls] == ["msgmenu", "text"]
    assert calls[-1]["text"]["content"] == QUESTION + "\n回复 1 附议，回复 2 不是一回事"
    note = db.session.scalar(select(Notification).where(Notification.channel == "wechat_cs"))
    assert note.status == "sent" and note.payload["written"] is True
    assert pusher.push(text_xml("o-mp-2", "２", to=MINIPROGRAM), safe=True).status_code == 200
    worker()
    assert bot == ["3号楼门口路灯不亮了", "不是一回事"]
