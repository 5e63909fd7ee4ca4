"""Co-reporters are followed (issue 20, item 4): every resident who raised the problem — its reporter
and each co-reporter (merged in, or 附议) — is told of its claim, escalation, resolution and reopening,
sees it in their own list in their own view (the reporter's words masked, no photos of theirs), and
rates it once per resolution: the order holds the least satisfied answer, and the first 不满意 from
anyone reopens it, once, audited like the reporter's own."""
import json

from sqlalchemy import select

from backend.notifications.models import Notification
from backend.orders.models import Order, OrderEvent

LAMP = "3号楼门口路灯不亮了，我叫张桂兰，电话13912345678"


def _merged(client, auth, make, city, n=2):
    """An order, and n duplicates of other residents merged into it: n co-reporters."""
    original = make.order(city["resident"], text=LAMP, photos=["https://img.example/mine.jpg"])
    others = [make.resident(name=f"居民{i}") for i in range(n)]
    worker = auth.headers_for(city["workers"][0])
    for resident in others:
        duplicate = make.order(resident, text="3号楼前面的路灯坏了")
        merged = client.post(f"/api/v1/orders/{duplicate.number}/merge", json={"original": original.number},
                             headers=worker)
        assert merged.status_code == 200, merged.get_json()
    return original, others, worker


def _told(db, order_id, kind):
    return sorted(db.session.scalars(select(Notification.recipient_id).where(
        Notification.order_id == order_id, Notification.recipient_type == "resident",
        Notification.channel == "wechat_subscribe", Notification.kind == kind)))


def _resolve(client, order, worker):
    for path, body in (("claim", {}), ("resolve", {"result": "已更换灯泡"})):
        answer = client.post(f"/api/v1/orders/{order.number}/{path}", json=body, headers=worker)
        assert answer.status_code == 200, answer.get_json()


def test_every_co_reporter_is_told_of_claim_escalation_resolution_and_reopening(client, auth, make, db, redis, city):
    original, others, worker = _merged(client, auth, make, city)
    everyone = sorted([city["resident"].id, *(r.id for r in others)])
    client.post(f"/api/v1/orders/{original.number}/claim", json={}, headers=worker)
    escalated = client.post(f"/api/v1/orders/{original.number}/escalate", json={"reason": "需要网格长协调"},
                            headers=worker)
    assert escalated.status_code == 200, escalated.get_json()
    leader = auth.headers_for(city["leader"])
    for path, body in (("claim", {}), ("resolve", {"result": "已更换灯泡"})):
        assert client.post(f"/api/v1/orders/{original.number}/{path}", json=body, headers=leader).status_code == 200
    unhappy = client.post(f"/api/v1/orders/{original.number}/rating", json={"satisfaction": "不满意"},
                          headers=auth.headers_for(others[1]))
    assert unhappy.status_code == 200 and unhappy.get_json()["state"] == "reopened", unhappy.get_json()
    db.session.expire_all()
    for kind in ("claimed", "escalated", "resolved", "reopened"):
        assert _told(db, original.id, kind) == (sorted(everyone * 2) if kind == "claimed" else everyone), kind
    # a reply answers the reporter's own words: to the reporter alone
    client.post(f"/api/v1/orders/{original.number}/reply", json={"text": "正在协调"}, headers=leader)
    replies = db.session.scalars(select(Notification.recipient_id).where(
        Notification.order_id == original.id, Notification.kind == "reply")).all()
    assert replies == [city["resident"].id]


def test_a_co_reporter_sees_the_order_in_their_own_view(client, auth, make, db, redis, city):
    original, others, worker = _merged(client, auth, make, city, n=1)
    co = auth.headers_for(others[0])
    listed = client.get("/api/v1/orders", headers=co).get_json()["orders"]
    mine = next(o for o in listed if o["number"] == original.number)
    assert mine["co_reporter"] is True and mine["photos"] == []
    assert "13912345678" not in mine["text"] and "张桂兰" not in mine["text"] and "路灯" in mine["text"]
    own = client.get(f"/api/v1/orders/{original.number}", headers=auth.headers_for(city["resident"])).get_json()
    assert own["co_reporter"] is False and own["text"] == LAMP and own["photos"] == ["https://img.example/mine.jpg"]
    # a stranger does not find the order at all
    stranger = auth.headers_for(make.resident())
    assert client.get(f"/api/v1/orders/{original.number}", headers=stranger).status_code == 404
    # a co-reporter may not withdraw it or add photos to it
    assert client.post(f"/api/v1/orders/{original.number}/cancel", json={}, headers=co).status_code == 403
    _resolve(client, original, worker)
    shown = client.get(f"/api/v1/orders/{original.number}", headers=co).get_json()
    assert {"rate", "reopen"} <= set(shown["allowed_actions"]) and "cancel" not in shown["allowed_actions"]
    page = client.get("/api/v1/orders", headers=stranger).get_json()["orders"]
    assert original.number not in [o["number"] for o in page]


def test_each_rates_once_the_least_satisfied_answer_counts_and_one_unhappy_reopens(client, auth, make, db, redis,
                                                                                   city):
    original, (first, second), worker = _merged(client, auth, make, city)
    _resolve(client, original, worker)
    url = f"/api/v1/orders/{original.number}/rating"
    reporter = auth.headers_for(city["resident"])
    assert client.post(url, json={"satisfaction": "满意", "comment": "谢谢"}, headers=reporter).get_json()["state"] == "rated"
    # the reporter has answered; a co-reporter still may, on the rated order
    again = client.post(url, json={"satisfaction": "不满意"}, headers=reporter)
    assert again.status_code == 403, again.get_json()
    shown = client.get(f"/api/v1/orders/{original.number}", headers=auth.headers_for(first)).get_json()
    assert "rate" in shown["allowed_actions"]
    basic = client.post(url, json={"satisfaction": "基本满意", "comment": "有点慢"}, headers=auth.headers_for(first))
    assert basic.status_code == 200 and basic.get_json()["state"] == "rated"
    db.session.expire_all()
    order = db.session.get(Order, original.id)
    assert order.satisfaction == "basically_satisfied"  # the least satisfied answer so far
    assert order.rating_comment == "谢谢"  # the reporter's own comment stays theirs
    assert client.post(url, json={"satisfaction": "满意"}, headers=auth.headers_for(first)).status_code == 403

    unhappy = client.post(url, json={"satisfaction": "不满意", "comment": "晚上还是黑"}, headers=auth.headers_for(second))
    assert unhappy.status_code == 200 and unhappy.get_json()["state"] == "reopened", unhappy.get_json()
    db.session.expire_all()
    order = db.session.get(Order, original.id)
    assert order.state == "reopened" and order.reopen_count == 1 and order.satisfaction == "unsatisfied"
    answers = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == original.id,
                                                          OrderEvent.action.in_(("rate", "reopen")))
                                 .order_by(OrderEvent.id)).all()
    assert [(e.action, e.actor_id, e.data["satisfaction"], e.data.get("co_reporter", False)) for e in answers] == [
        ("rate", city["resident"].id, "satisfied", False), ("rate", first.id, "basically_satisfied", True),
        ("reopen", second.id, "unsatisfied", True)]
    assert answers[1].data["was"] == "satisfied"
    # reopened once: the others' answers to that resolution are moot (wrong state), and the next
    # resolution is everyone's to rate again
    assert client.post(url, json={"satisfaction": "不满意"}, headers=auth.headers_for(first)).status_code == 409
    for path, body in (("claim", {}), ("resolve", {"result": "换了整个灯头"})):
        assert client.post(f"/api/v1/orders/{original.number}/{path}", json=body, headers=worker).status_code == 200
    assert client.post(url, json={"satisfaction": "满意"}, headers=auth.headers_for(first)).get_json()["state"] == "rated"
    assert client.post(url, json={"satisfaction": "满意"}, headers=reporter).status_code == 200


def test_without_co_reporters_a_second_rating_is_refused_as_before(client, auth, make, db, redis, city):
    order = make.order(city["resident"])
    _resolve(client, order, auth.headers_for(city["workers"][0]))
    url = f"/api/v1/orders/{order.number}/rating"
    reporter = auth.headers_for(city["resident"])
    assert client.post(url, json={"satisfaction": "满意"}, headers=reporter).status_code == 200
    assert client.post(url, json={"satisfaction": "不满意"}, headers=reporter).status_code == 409


def test_figures_count_problems_and_reporters_apart(client, auth, make, db, redis, city):
    """「反映 N 人次，合并为 M 件」 on the dashboard and 公示; 公示 lists the lamp once, with how many
    residents raised it and none of their names."""
    from backend.accounts.actors import Actor
    from backend.orders import figures
    from tests.console.test_console import _login
    original, others, worker = _merged(client, auth, make, city)
    make.order(make.resident(), text="5号楼电梯坏了", location_text="水晶城小区3号楼1单元")
    month = figures.dashboard(Actor.for_staff(city["community_admin"]))["month"]
    assert (month["received"], month["reports"]) == (2, 4)
    _login(client, city["community_admin"])
    assert "反映 4 人次，合并为 2 件" in client.get("/console/").get_data(as_text=True)

    _resolve(client, original, worker)
    make.passed_content_check(db.session.get(Order, original.id))
    page = client.get(f"/public/communities/{city['community'].id}").get_data(as_text=True)
    assert page.count(original.number) == 1 and "3 位居民反映" in page
    assert "反映 4 人次，合并为 2 件" in page
    assert not any(r.name in page for r in others) and "张桂兰" not in page


# What a co-reporter (B, whose own report was merged into A's order) may do on A's order, route by
# route — rows beside tests/security/test_authorization_matrix.py, whose res_b is a stranger to A's
# order: a co-reporter reads it (A's words masked) and rates it, and nothing else of A's.
# (method, path, body, status when submitted, status when resolved)
CO_REPORTER_ROWS = [
    ("GET", "/api/v1/orders", None, 200, 200),
    ("GET", "/api/v1/orders/{number}", None, 200, 200),
    ("POST", "/api/v1/orders/{number}/cancel", {}, 403, 409),
    ("POST", "/api/v1/orders/{number}/photos", "photo", 403, 403),
    ("POST", "/api/v1/orders/{number}/rating", {"satisfaction": "满意"}, 409, 200),
    ("GET", "/m/", None, 200, 200),
    ("GET", "/m/orders/{number}", None, 200, 200),
    ("POST", "/m/orders/{number}/rating", {"satisfaction": "satisfied"}, "refused", "done"),
    ("POST", "/m/orders/{number}/cancel", {}, "refused", "refused"),
]


def test_what_a_co_reporter_may_do_route_by_route(client, auth, make, db, redis, city):
    import io
    import itertools
    from pathlib import Path

    from backend.accounts import sessions
    png = (Path(__file__).resolve().parents[1] / "fixtures/wechat/media.png").read_bytes()
    for (method, path, body, *expected), when in itertools.product(CO_REPORTER_ROWS, ("submitted", "resolved")):
        original, (co,), worker = _merged(client, auth, make, city, n=1)  # a fresh order per call
        if when == "resolved":
            _resolve(client, original, worker)
        expect = expected[0 if when == "submitted" else 1]
        db.session.expire_all()
        before = db.session.get(Order, original.id).version
        url = path.format(number=original.number)
        h5 = url.startswith("/m/")
        with client.session_transaction() as session:
            session.clear()
            session["csrf"] = "co-csrf"
            if h5:
                sessions.sign_in(session, "resident", co)
        headers = {} if h5 else auth.headers_for(co)
        if body == "photo":
            answer = client.post(url, data={"photo": (io.BytesIO(png), "p.png")}, headers=headers,
                                 content_type="multipart/form-data")
        elif h5 and method == "POST":
            answer = client.post(url, data={**body, "csrf": "co-csrf"})
        else:
            answer = client.open(url, method=method, json=body, headers=headers)
        text = answer.get_data(as_text=True)
        assert "13912345678" not in text and "张桂兰" not in text, (when, method, path)
        db.session.expire_all()
        changed = db.session.get(Order, original.id).version != before
        if expect in ("done", "refused"):
            assert answer.status_code == 302 and changed == (expect == "done"), (when, method, path, expect)
        else:
            assert answer.status_code == expect, (when, method, path, answer.status_code, text[:300])
            assert changed == (method == "POST" and expect == 200), (when, method, path)


def test_a_reply_to_the_reporter_is_not_read_by_a_co_reporter(client, auth, make, db, redis, city):
    """A reply names the reporter ({居民称呼}) and answers their words: a co-reporter's timeline (API and
    H5) shows that staff replied, not the words, so the reporter's name never reaches them."""
    from backend.accounts import sessions
    original, (co,), worker = _merged(client, auth, make, city, n=1)
    said = client.post(f"/api/v1/orders/{original.number}/reply", json={"text": "{居民称呼}您好，师傅明天上门"},
                       headers=worker)
    assert said.status_code == 200, said.get_json()
    name = city["resident"].name
    own = client.get(f"/api/v1/orders/{original.number}", headers=auth.headers_for(city["resident"])).get_json()
    assert any(e["action"] == "reply" and e["note"] == f"{name}您好，师傅明天上门" for e in own["events"])
    seen = client.get(f"/api/v1/orders/{original.number}", headers=auth.headers_for(co)).get_json()
    assert [e["note"] for e in seen["events"] if e["action"] == "reply"] == [None]  # the step, not the words
    assert name not in json.dumps(seen, ensure_ascii=False)
    with client.session_transaction() as session:
        session.clear()
        sessions.sign_in(session, "resident", co)
    page = client.get(f"/m/orders/{original.number}").get_data(as_text=True)
    assert "回复居民" in page and "师傅明天上门" not in page and name not in page
