"""The 知识库's console pages: a community admin adds, edits, retires, searches, exports and imports;
the 待补充 page shows ten similar questions as one line with its count; an answered 咨询 order
opens the new-entry form prefilled."""
import re

from sqlalchemy import select

from backend.accounts.actors import Actor
from backend.accounts import sessions
from backend.knowledge import services
from backend.knowledge.models import KnowledgeEntry


def _console(app, staff):
    client = app.test_client()
    with client.session_transaction() as session:
        session["csrf"] = "t"
        sessions.sign_in(session, "staff", staff)
    return client


def test_a_community_admin_keeps_the_communitys_entries(app, db, redis, make):
    world = make.world()
    client = _console(app, world["community_admin"])
    target = f"community:{world['community'].id}"
    page = client.get("/console/knowledge/new").get_data(as_text=True)
    assert f'value="{target}"' in page and 'value="district"' not in page
    response = client.post("/console/knowledge/new", data={
        "csrf": "t", "target": target, "question": "社区疫苗接种时间", "variants": "打疫苗哪天\n疫苗在哪打",
        "answer": "每周二上午", "valid_until": "2030-01-01"})
    assert response.status_code == 302
    entry = db.session.scalar(select(KnowledgeEntry).where(KnowledgeEntry.question == "社区疫苗接种时间"))
    assert entry.variants == ["打疫苗哪天", "疫苗在哪打"] and entry.updated_by == world["community_admin"].id
    assert "社区疫苗接种时间" in client.get("/console/knowledge?q=疫苗").get_data(as_text=True)
    assert "社区疫苗接种时间" not in client.get("/console/knowledge?q=垃圾").get_data(as_text=True)
    client.post(f"/console/knowledge/{entry.id}", data={"csrf": "t", "target": target, "question": "社区疫苗接种时间",
                                                        "answer": "每周三上午"})
    client.post(f"/console/knowledge/{entry.id}/retire", data={"csrf": "t"})
    db.session.expire_all()
    assert entry.answer == "每周三上午" and entry.active is False
    page = client.get(f"/console/knowledge/{entry.id}").get_data(as_text=True)
    assert "停用" in page and "修改" in page and "新增" in page
    exported = client.get("/console/knowledge/export.xlsx")
    assert exported.status_code == 200 and exported.data[:2] == b"PK"
    import io
    imported = client.post("/console/knowledge/import", data={"csrf": "t", "file": (io.BytesIO(exported.data), "k.xlsx")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "未变1条" in imported.get_data(as_text=True)


def test_a_grid_worker_has_no_knowledge_pages(app, db, redis, make):
    world = make.world()
    client = _console(app, world["workers"][0])
    assert client.get("/console/knowledge").status_code == 403
    assert client.get("/console/knowledge/unanswered").status_code == 403


def test_ten_similar_questions_are_one_line_with_their_count(app, db, redis, make):
    world = make.world()
    resident = make.resident()
    make.order(resident)  # the resident lives in the world's community
    for text in ["社区电影什么时候放", "露天电影几号放映", "今晚放电影吗", "社区电影放的什么片", "这周有没有露天电影",
                 "广场电影几点开始", "放电影在哪个位置", "露天电影要带凳子吗", "社区电影每月放几次", "今年还放露天电影吗",
                 "幸福食堂今天吃什么"]:
        services.ask(resident.id, text)
    page = _console(app, world["community_admin"]).get("/console/knowledge/unanswered").get_data(as_text=True)
    rows = re.findall(r'<tr class="unanswered-group">.*?<td class="count">(\d+)</td>', page, re.S)
    assert rows[0] == "10" and all(n == "1" for n in rows[1:])


def test_an_answered_consultation_opens_the_form_prefilled(app, db, redis, make):
    from backend.orders import services as orders
    world = make.world()
    order = make.order(world["resident"], text="老年助餐卡在哪办", kind="consultation")
    worker = Actor.for_staff(world["workers"][0])
    orders.perform(worker, order, "claim")
    orders.perform(worker, order, "resolve", result="带身份证到社区服务中心一楼办理")
    client = _console(app, world["community_admin"])
    assert "转为知识库条目" in client.get(f"/console/orders/{order.number}").get_data(as_text=True)
    page = client.get(f"/console/knowledge/new?order={order.number}").get_data(as_text=True)
    assert "老年助餐卡在哪办" in page and "带身份证到社区服务中心一楼办理" in page
    client.post("/console/knowledge/new", data={"csrf": "t", "target": f"community:{world['community'].id}",
                                                "question": "老年助餐卡在哪办", "answer": "带身份证到社区服务中心一楼办理",
                                                "order": order.number})
    assert db.session.scalar(select(KnowledgeEntry).where(KnowledgeEntry.source_order_id.is_not(None))).source_order_id == order.id
