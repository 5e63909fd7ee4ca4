"""常用语 on the console (issue 20, item 6): a community's admin keeps them; a worker picks one when
replying to a resident on the order page, and the resident gets it with the variables filled."""
from sqlalchemy import select

from backend.orders.models import CannedReply, OrderEvent
from tests.console.test_console import _csrf, _login


def test_an_admin_keeps_canned_replies_and_a_worker_sends_one(app, make, db, redis):
    world = make.world()
    admin_client, worker_client = app.test_client(), app.test_client()
    assert _login(admin_client, world["community_admin"]).status_code == 302
    token = _csrf(admin_client.get("/console/canned-replies").data)
    saved = admin_client.post("/console/canned-replies", data={
        "csrf": token, "community": str(world["community"].id), "title": "已派人",
        "text": "{居民称呼}您好，{工单号}已由{网格员}处理"})
    assert saved.status_code == 302
    page = admin_client.get("/console/canned-replies").get_data(as_text=True)
    assert "<td>已派人</td><td>{居民称呼}您好，{工单号}已由{网格员}处理</td>" in page
    canned = db.session.scalar(select(CannedReply).where(CannedReply.title == "已派人"))

    worker = world["workers"][0]
    order = make.order(world["resident"])
    assert _login(worker_client, worker).status_code == 302
    shown = worker_client.get(f"/console/orders/{order.number}").get_data(as_text=True)
    assert f'<option value="{canned.id}">已派人</option>' in shown  # offered on the order page
    worker_client.post(f"/console/orders/{order.number}/reply", data={"csrf": _csrf(shown.encode()),
                                                                     "canned_id": str(canned.id), "text": ""})
    said = db.session.scalar(select(OrderEvent.note).where(OrderEvent.order_id == order.id,
                                                           OrderEvent.action == "reply"))
    assert said == f"{world['resident'].name or '居民'}您好，{order.number}已由{worker.name}处理"  # nobody holds it: the worker replying

    retired = admin_client.post(f"/console/canned-replies/{canned.id}/retire", data={"csrf": token})
    assert retired.status_code == 302
    assert "<td>已派人</td>" not in admin_client.get("/console/canned-replies").get_data(as_text=True)
    # a worker keeps none
    assert worker_client.get("/console/canned-replies").status_code == 403
