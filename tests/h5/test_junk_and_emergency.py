"""The resident's H5 chat (issue 24, items 6 and 7): junk is asked back and never becomes an order;
a danger is answered at once with what to do and whom to call, and the order is urgent."""
from backend.orders.models import Order
from tests.h5.test_resident_pages import _csrf, login


def test_h5_chat_asks_back_for_junk_and_answers_danger_at_once(client, stub, make, db):
    world = make.world()
    login(client, stub, "sun")
    for junk in (".ô", "0", "=A1+B1", "😀😀"):
        assert client.post("/m/chat", data={"text": junk, "csrf": _csrf(client)}).status_code == 302
        assert "请描述一下遇到的问题" in client.get("/m/").get_data(as_text=True)
    assert db.session.query(Order).count() == 0
    client.post("/m/chat", data={"text": "水晶城小区3号楼有人被困在电梯里了", "csrf": _csrf(client)})
    home = client.get("/m/").get_data(as_text=True)
    order = db.session.query(Order).one()
    assert "119" in home and "不要扒门" in home and order.number in home
    assert order.grade == "urgent" and order.grid_id == world["grids"][0].id
