"""The console's order desk: filters, paging, exports, the staff's photo route, the source talk."""
import csv
import io
import re
from pathlib import Path
from urllib.parse import unquote

from openpyxl import load_workbook

from backend.accounts.actors import Actor
from backend.orders import photos
from tests.console.test_console import _csrf, _login

PNG = (Path(__file__).resolve().parents[1] / "fixtures/wechat/media.png").read_bytes()


def _numbers(page: bytes) -> list[str]:
    return re.findall(r'data-number="([^"]+)"', page.decode())


def test_the_desk_filters_searches_and_pages_within_scope(client, make, db):
    world = make.world()
    mine = [make.order(world["resident"], text=f"楼道灯坏了第{i}次") for i in range(3)]
    other = make.order(world["resident"], text="垃圾没人清", location_text="水晶城小区8号楼")
    _login(client, world["workers"][0])
    page = client.get("/console/orders")
    assert page.status_code == 200 and "工单台账".encode() in page.data
    # A grid-1 worker sees grid 1's orders only, newest first.
    assert _numbers(page.data) == [o.number for o in reversed(mine)]
    found = client.get("/console/orders?q=第1次")
    assert _numbers(found.data) == [mine[1].number]
    first = client.get("/console/orders?sort=oldest&state=submitted")
    # 50 a page: three fit, so no 下一页.
    assert _numbers(first.data) == [o.number for o in mine] and "下一页".encode() not in first.data
    assert other.number.encode() not in client.get("/console/orders?q=垃圾").data


def test_the_next_page_link_keeps_the_filters(client, make, db, monkeypatch):
    from backend.console import desk as console_desk
    world = make.world()
    orders = [make.order(world["resident"]) for _ in range(3)]
    monkeypatch.setattr(console_desk, "PAGE", 2)
    _login(client, world["community_admin"])
    page = client.get("/console/orders?sort=oldest&channel=h5")
    assert _numbers(page.data) == [o.number for o in orders[:2]]
    link = re.search(r'id="next-page" href="([^"]+)"', page.data.decode()).group(1).replace("&amp;", "&")
    assert "sort=oldest" in link and "channel=h5" in link
    assert _numbers(client.get(link).data) == [orders[2].number]


def test_bad_filters_are_refused_in_chinese_not_a_server_error(client, make):
    world = make.world()
    _login(client, world["workers"][0])
    for query in ("state=nonsense", "grid=99999999999999999999", "created_from=昨天", "sort=x", "after=garbage",
                  "created_to=9999-12-31", "assignee=-1"):
        page = client.get(f"/console/orders?{query}")
        assert page.status_code == 400, query
        assert "请检查" in page.data.decode() or "翻页位置无效" in page.data.decode(), query


def test_control_characters_in_the_search_are_dropped_not_a_database_error(client, make):
    world = make.world()
    order = make.order(world["resident"], text="楼道灯坏了")
    _login(client, world["workers"][0])
    for query in ("q=%00楼道", "category=%00城乡建设", "q=%E2%80%AE楼道"):
        page = client.get(f"/console/orders?{query}")
        assert page.status_code == 200 and order.number in page.data.decode(), query
    assert client.get("/console/export/orders.csv?q=%00").status_code == 200


def test_exports_hold_exactly_the_filtered_list_with_a_chinese_filename(client, make, db):
    world = make.world()
    urgent = make.order(world["resident"], text="窨井盖丢了", grade="urgent")
    make.order(world["resident"], text="楼道灯坏了")
    _login(client, world["community_admin"])
    sheet = client.get("/console/export/orders.xlsx?grade=urgent")
    assert sheet.status_code == 200
    assert sheet.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = sheet.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "工单导出_" in unquote(disposition.split("UTF-8''")[1])
    rows = list(load_workbook(io.BytesIO(sheet.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "工单号" and [r[0] for r in rows[1:]] == [urgent.number]
    text = client.get("/console/export/orders.csv?q=楼道").data.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][0] == "工单号" and len(table) == 2 and table[1][8] == "楼道灯坏了"


def test_staff_see_photos_through_their_session_and_only_in_scope(client, make, db):
    world = make.world()
    order = make.order(world["resident"])
    photos.attach(Actor.for_resident(world["resident"]), order, PNG)
    name = next(a.url for a in order.attachments if a.url.startswith("/uploads/"))[len("/uploads/"):]
    _login(client, world["workers"][0])
    page = client.get(f"/console/orders/{order.number}")
    assert f"/console/photos/{name}".encode() in page.data
    assert client.get(f"/console/photos/{name}").data == PNG
    other = make.world()
    client.post("/console/logout", data={"csrf": _csrf(page.data)})
    _login(client, other["workers"][0])
    assert client.get(f"/console/photos/{name}").status_code == 404


def test_the_order_page_says_when_no_conversation_was_stored(client, make):
    world = make.world()
    order = make.order(world["resident"], channel="h5")
    _login(client, world["workers"][0])
    assert "没有保存的对话记录".encode() in client.get(f"/console/orders/{order.number}").data


def test_the_order_page_shows_the_wechat_talk_that_made_the_order(client, make, db):
    from backend.notifications.models import Notification
    from backend.wechat.models import WechatInbound
    world = make.world()
    resident = world["resident"]
    earlier = make.order(resident, channel="wechat", text="上一次的诉求")
    order = make.order(resident, channel="wechat", text="3号楼楼道灯坏了")
    rows = [("m0", "上一次的诉求", earlier.number), ("m1", "楼道灯坏了", None), ("m2", "3号楼2单元", order.number)]
    for key, text, number in rows:
        push = WechatInbound(msg_key=key, openid=resident.openid, resident_id=resident.id, msg_type="text",
                             content=text, order_number=number, status="done")
        db.session.add(push)
        db.session.flush()
        db.session.add(Notification(recipient_type="resident", recipient_id=resident.id, channel="wechat_cs",
                                    kind="reply", payload={"text": f"答复{key}", "inbound_id": push.id}))
    db.session.commit()
    _login(client, world["workers"][0])
    page = client.get(f"/console/orders/{order.number}").data.decode()
    talk = page[page.index('id="conversation"'):page.index("全程记录")]
    assert talk.index("楼道灯坏了") < talk.index("答复m1") < talk.index("3号楼2单元") < talk.index("答复m2")
    assert "上一次的诉求" not in talk and "答复m0" not in talk  # the talk that made another order


def test_past_the_cap_the_desk_says_more_than_instead_of_counting_on(client, make, db, monkeypatch):
    from backend.orders import desk
    world = make.world()
    for _ in range(4):
        make.order(world["resident"])
    _login(client, world["community_admin"])
    page = client.get("/console/orders").get_data(as_text=True)
    assert '共 <strong id="desk-total">4</strong> 张工单' in page
    monkeypatch.setattr(desk, "COUNT_CAP", 3)
    found = desk.search(Actor.for_staff(world["community_admin"]), desk.Filters())
    assert (found["total"], found["total_capped"], len(found["orders"])) == (3, True, 4)  # the page is whole
    assert (desk.search(Actor.for_staff(world["community_admin"]), desk.Filters(q="第"))["total_capped"]) is False
    page = client.get("/console/orders").get_data(as_text=True)
    assert '超过 <strong id="desk-total">3</strong> 张工单' in page
