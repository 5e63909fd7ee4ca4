"""电话回访 and 回复居民 with 常用语 (issue 20, items 5 and 6)."""
from datetime import timedelta

from sqlalchemy import select, update

from backend import clock
from backend.accounts.actors import Actor
from backend.notifications.models import Notification
from backend.orders import figures, replies, services
from backend.orders.models import Order, OrderEvent


def _resolved_hotline_order(city):
    worker = Actor.for_staff(city["workers"][0])
    order = services.create_order(worker, channel="hotline", text="3号楼门口路灯不亮", caller_name="李桂兰",
                                  contact="13900001111", location_text="水晶城小区3号楼2单元")
    services.perform(worker, order, "claim")
    return services.perform(worker, order, "resolve", result="已更换灯泡")


def _resolved_resident_order(make, city):
    worker = Actor.for_staff(city["workers"][0])
    order = make.order(city["resident"], text="3号楼门口路灯不亮")
    services.perform(worker, order, "claim")
    return services.perform(worker, order, "resolve", result="已更换灯泡")


def _last(db, order_id):
    return db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)
                              .order_by(OrderEvent.id.desc())).first()


def test_a_callback_rates_an_order_nobody_could_rate_counted_apart(client, auth, make, db, redis, city):
    order = _resolved_hotline_order(city)
    answer = client.post(f"/api/v1/orders/{order.number}/callback",
                         json={"satisfaction": "基本满意", "note": "老人说灯亮了，就是修得慢"},
                         headers=auth.headers_for(city["workers"][0]))
    assert answer.status_code == 200, answer.get_json()
    db.session.expire_all()
    done = db.session.get(Order, order.id)
    assert (done.state, done.satisfaction, done.rating_source) == ("rated", "basically_satisfied", "callback")
    event = _last(db, order.id)
    assert event.action == "callback" and event.actor_id == city["workers"][0].id
    assert event.data["caller"] == city["workers"][0].id and event.data["called_at"]
    assert event.note == "老人说灯亮了，就是修得慢"
    month = figures.dashboard(Actor.for_staff(city["community_admin"]))["month"]
    assert (month["callbacks"], month["callback_satisfaction_rate"]) == (1, 1.0)
    assert month["rated"] == 0 and month["satisfaction_rate"] is None  # self-rated only


def test_a_resident_who_may_still_rate_is_not_called_then_unsatisfied_reopens(client, auth, make, db, redis, city):
    order = _resolved_resident_order(make, city)
    url, worker = f"/api/v1/orders/{order.number}/callback", auth.headers_for(city["workers"][0])
    early = client.post(url, json={"satisfaction": "满意"}, headers=worker)
    assert early.status_code == 409  # resolved just now: the resident rates it themselves first
    db.session.execute(update(Order).where(Order.id == order.id)
                       .values(resolved_at=clock.now() - timedelta(days=4)))
    db.session.commit()
    late = client.post(url, json={"satisfaction": "不满意", "note": "灯又坏了"}, headers=worker)
    assert late.status_code == 200, late.get_json()
    db.session.expire_all()
    done = db.session.get(Order, order.id)
    assert (done.state, done.reopen_count, done.satisfaction, done.rating_source) == \
        ("reopened", 1, "unsatisfied", "callback")
    assert _last(db, order.id).action == "callback_reopen"
    # the grid's leader hears of the reopening, as when the resident says 不满意
    assert db.session.scalar(select(Notification).where(Notification.order_id == order.id,
                                                        Notification.kind == "reopened",
                                                        Notification.recipient_type == "staff")) is not None
    bad = client.post(f"/api/v1/orders/{_resolved_hotline_order(city).number}/callback",
                      json={"satisfaction": "还行"}, headers=worker)
    assert bad.status_code == 422


def test_a_canned_reply_reaches_the_resident_with_its_variables_filled(client, auth, make, db, redis, city):
    admin = Actor.for_staff(city["community_admin"])
    canned = replies.save_canned(admin, community_id=city["community"].id, title="已派人",
                                 text="{居民称呼}您好，您反映的{工单号}已由{网格员}处理，预计{预计时间}前办好。")
    worker = city["workers"][0]
    order = make.order(city["resident"], text="3号楼门口路灯不亮")
    services.perform(Actor.for_staff(worker), order, "claim")
    answer = client.post(f"/api/v1/orders/{order.number}/reply", json={"canned_id": canned.id, "expected": "明天下午"},
                         headers=auth.headers_for(worker))
    assert answer.status_code == 200, answer.get_json()
    said = _last(db, order.id).note
    assert said == f"{city['resident'].name or '居民'}您好，您反映的{order.number}已由{worker.name}处理，预计明天下午前办好。"
    sent = db.session.scalar(select(Notification).where(Notification.order_id == order.id,
                                                        Notification.kind == "reply"))
    assert sent.channel == "wechat_cs" and sent.payload["text"] == said
    seen = client.get(f"/api/v1/orders/{order.number}", headers=auth.headers_for(city["resident"])).get_json()
    assert any(e["note"] == said for e in seen["events"])  # on the resident's timeline
    # another community's canned reply, or nothing to say, is refused
    other = replies.save_canned(Actor.for_staff(make.staff("sysadmin")), community_id=make.community(city["street"]).id,
                                title="别的社区", text="您好")
    headers = auth.headers_for(worker)
    assert client.post(f"/api/v1/orders/{order.number}/reply", json={"canned_id": other.id},
                       headers=headers).status_code == 422
    assert client.post(f"/api/v1/orders/{order.number}/reply", json={}, headers=headers).status_code == 422
    own = client.post(f"/api/v1/orders/{order.number}/reply", json={"text": "{居民称呼}您好，师傅马上到"},
                      headers=headers)
    assert own.status_code == 200 and _last(db, order.id).note.endswith("您好，师傅马上到")
