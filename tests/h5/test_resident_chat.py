"""The resident's H5 pages as people expect them (issue 24, item 5): the chat keeps the conversation,
takes a photo, and says what happens after each step; 我的诉求 shows the claim and the resolve limits
apart; a rating says what happens now. The bot is down here (the order is stored anyway); the
journey with the real bot is tests/browser/test_resident_journey.py."""
import io
import re

from backend.accounts.actors import Actor
from backend.accounts.models import Resident
from backend.chat import talk
from backend.orders import services
from backend.orders.models import Order
from tests.h5.test_resident_pages import PNG, _csrf, login


def _resident(client, db) -> Resident:
    with client.session_transaction() as session:
        return db.session.get(Resident, session["resident_id"])


def _turns(home: str) -> list[str]:
    return re.findall(r'<div class="bubble you">(.*?)</div>', home)


def test_the_chat_keeps_the_conversation_and_says_what_happens_next(client, stub, make, db):
    make.world()
    login(client, stub, "zhao")
    for n, text in enumerate(("水晶城小区3号楼楼道灯坏了", "水晶城小区5号楼门口井盖松了")):
        for _ in range(2):  # a double tap sends the form twice with one client_id: one turn, one order
            client.post("/m/chat", data={"text": text, "client_id": f"message-{n}", "csrf": _csrf(client)})
    home = client.get("/m/").get_data(as_text=True)
    # Both exchanges on screen, oldest first — not only the last.
    assert _turns(home) == ["水晶城小区3号楼楼道灯坏了", "水晶城小区5号楼门口井盖松了"]
    first, second = db.session.query(Order).order_by(Order.id).all()
    assert first.number in home and second.number in home
    # After the order: who takes it and by when, the claim and the resolve limits apart.
    steps = re.findall(r'<p class="next-step" role="status">(.*?)</p>', home)
    assert len(steps) == 2 and all("前接单" in s and "前办好" in s and "请您评价" in s for s in steps)
    # Kept per resident: another resident's chat starts empty; logging out forgets it.
    resident = _resident(client, db)
    assert len(talk.history(resident.id)) == 2
    client.post("/m/logout", data={"csrf": _csrf(client)})
    assert talk.history(resident.id) == []


def test_a_photo_in_the_chat_goes_with_the_order_described(client, stub, make, db):
    make.world()
    login(client, stub, "qian")
    photo = {"csrf": _csrf(client), "photo": (io.BytesIO(PNG), "lamp.png")}
    sent = client.post("/m/chat/photo", data=photo, content_type="multipart/form-data")
    assert sent.status_code == 302 and sent.location.endswith("/m/#latest")
    home = client.get("/m/").get_data(as_text=True)
    assert "照片收到了" in home and "提交诉求时会把照片一起附上" in home
    assert db.session.query(Order).count() == 0  # a photo alone is no order
    client.post("/m/chat", data={"text": "水晶城小区3号楼楼道灯坏了", "csrf": _csrf(client)})
    order = db.session.query(Order).one()
    assert [a.content_type for a in order.attachments] == ["image/png"]
    assert "已附上您的 1 张照片" in client.get("/m/").get_data(as_text=True)
    # A second photo within the day goes to that open order, and the chat says so.
    again = {"csrf": _csrf(client), "photo": (io.BytesIO(PNG), "lamp2.png")}
    client.post("/m/chat/photo", data=again, content_type="multipart/form-data")
    db.session.expire_all()
    assert len(db.session.get(Order, order.id).attachments) == 2
    assert f"照片已补充到诉求 {order.number}" in client.get("/m/").get_data(as_text=True)
    # Not a photo: refused in Chinese, nothing kept.
    fake = client.post("/m/chat/photo", data={"csrf": _csrf(client), "photo": (io.BytesIO(b"<svg/>"), "x.jpg")},
                       content_type="multipart/form-data")
    assert "JPEG、PNG 或 WebP" in client.get(fake.location).get_data(as_text=True)
    assert len(talk.history(_resident(client, db).id)) == 3


def test_my_orders_show_the_claim_and_the_resolve_limits_apart(client, stub, make, db):
    world = make.world()
    login(client, stub, "sun")
    resident = _resident(client, db)
    waiting, claimed = make.order(resident), make.order(resident)
    services.perform(Actor.for_staff(world["workers"][0]), claimed, "claim")
    home = client.get("/m/").get_data(as_text=True)
    items = re.findall(r"<li><a href=\"/m/orders/(HX[^\"]+)\">(.*?)</a></li>", home, re.S)
    shown = dict(items)
    assert "接单时限" in shown[waiting.number] and "办理时限" in shown[waiting.number]
    assert "接单时限" not in shown[claimed.number] and "办理时限" in shown[claimed.number]
    # 办理时限 is the resolve limit (3 working days), not the 2-hour claim limit.
    assert waiting.resolve_by > waiting.claim_by
    page = client.get(f"/m/orders/{waiting.number}").get_data(as_text=True)
    assert "接单时限" in page and "办理时限" in page


def test_after_rating_the_resident_is_told_what_happens_now(client, stub, make, db):
    world = make.world()
    login(client, stub, "li")
    resident = _resident(client, db)
    worker = Actor.for_staff(world["workers"][0])
    first, second = make.order(resident), make.order(resident)
    for order in (first, second):
        services.perform(worker, order, "claim")
        services.perform(worker, order, "resolve", result="已修好")
    bad = client.post(f"/m/orders/{first.number}/rating", data={"satisfaction": "unsatisfied", "csrf": _csrf(client)})
    assert "已重新交给网格员办理" in client.get(bad.location).get_data(as_text=True)
    good = client.post(f"/m/orders/{second.number}/rating", data={"satisfaction": "satisfied", "csrf": _csrf(client)})
    assert "感谢评价，此件已办结" in client.get(good.location).get_data(as_text=True)
