"""知识库: scope (the nearer wins), validity, retrieval thresholds, the audit trail, the 待补充 groups,
a 咨询 order made an entry, XLSX round trip, and the bot's API."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from backend import clock
from backend.accounts.actors import Actor
from backend.errors import Forbidden, NotFound, ValidationFailed
from backend.knowledge import services, transfer
from backend.knowledge.models import KnowledgeEntry, KnowledgeEvent, KnowledgeQuestion

VACCINE = {"question": "社区疫苗接种时间", "answer": "社区卫生服务站每周二、周四上午8:30-11:00接种疫苗，请带好接种本。",
           "variants": ["打疫苗是哪天", "疫苗在哪里打"], "place": "社区卫生服务站二楼"}


@pytest.fixture
def places(make):
    street = make.street()
    c1, c2 = make.community(street, name="水晶城社区"), make.community(street, name="翠苑社区")
    g1, g2 = make.grid(c1), make.grid(c2)
    make.building(g1, number=3)
    return {"street": street, "c1": c1, "c2": c2,
            "cadmin": Actor.for_staff(make.staff("community_admin", community=c1)),
            "cadmin2": Actor.for_staff(make.staff("community_admin", community=c2)),
            "sadmin": Actor.for_staff(make.staff("street_admin", street=street)),
            "sys": Actor.for_staff(make.staff("sysadmin")),
            "worker": Actor.for_staff(make.staff("grid_worker", grid=g1)),
            "res1": make.resident(), "res2": make.resident()}


def _live_in(make, resident, community):
    from backend.wishes import registry
    registry.register(Actor.for_resident(resident), community_id=community.id, kind="volunteer", name="居民",
                      skills=[], hours_available=1)


def test_the_seed_is_the_bots_29_answers_each_found_by_its_own_ways_of_asking(db, places):
    services.seed()  # the migration seeded the first test's database already
    assert services.seed() == 0
    entries = db.session.scalars(select(KnowledgeEntry)).all()
    assert len(entries) == 29 and {e.scope for e in entries} == {"district"}
    for entry in entries:
        for way in entry.variants[:3]:
            answer = services.ask(None, way)
            assert answer.outcome == "answered" and answer.entry.id == entry.id, (way, answer)


def test_a_communitys_entry_answers_its_residents_only(db, make, places):
    _live_in(make, places["res1"], places["c1"])
    _live_in(make, places["res2"], places["c2"])
    services.add_entry(places["cadmin"], f"community:{places['c1'].id}", VACCINE)
    for asked in ("社区什么时候打疫苗", "疫苗接种时间是几号", "打疫苗在哪"):
        answer = services.ask(places["res1"].id, asked)
        assert answer.outcome == "answered" and answer.entry.question == "社区疫苗接种时间", asked
        assert services.ask(places["res2"].id, asked).outcome == "declined", asked


def test_the_nearer_scope_wins(db, make, places):
    _live_in(make, places["res1"], places["c1"])
    services.add_entry(places["sys"], "district", {"question": "社区居委会办公时间", "answer": "周一至周五办公"})
    street = services.add_entry(places["sadmin"], f"street:{places['street'].id}",
                                {"question": "社区居委会办公时间", "answer": "本街道各居委会周一至周六办公"})
    assert services.ask(places["res1"].id, "居委会办公时间").entry.id == street.id
    mine = services.add_entry(places["cadmin"], f"community:{places['c1'].id}",
                              {"question": "居委会办公时间", "answer": "水晶城居委会周一至周日8:30-17:30"})
    assert services.ask(places["res1"].id, "居委会办公时间").entry.id == mine.id
    assert services.ask(places["res2"].id, "居委会办公时间").entry.scope == "district"  # no place known


def test_an_entry_outside_its_valid_dates_is_never_answered(db, make, places):
    _live_in(make, places["res1"], places["c1"])
    today = services.today()
    expired = services.add_entry(places["cadmin"], f"community:{places['c1'].id}",
                                 {**VACCINE, "valid_until": today - timedelta(days=1)})
    assert services.ask(places["res1"].id, "社区疫苗接种时间").outcome == "declined"
    services.edit_entry(places["cadmin"], expired.id, f"community:{places['c1'].id}",
                        {**VACCINE, "valid_from": today + timedelta(days=1)})
    assert services.ask(places["res1"].id, "社区疫苗接种时间").outcome == "declined"
    services.edit_entry(places["cadmin"], expired.id, f"community:{places['c1'].id}", {**VACCINE, "valid_until": today})
    assert services.ask(places["res1"].id, "社区疫苗接种时间").outcome == "answered"
    services.set_active(places["cadmin"], expired.id, False)
    assert services.ask(places["res1"].id, "社区疫苗接种时间").outcome == "declined"


def test_half_a_match_offers_the_two_closest_and_nothing_near_is_declined(db, places):
    services.seed()
    offered = services.ask(None, "医保")
    assert offered.outcome == "offered" and len(offered.offers) == 2 and offered.entry is None
    assert services.ask(None, "明天天气怎么样").outcome == "declined"
    outcomes = [q.outcome for q in db.session.scalars(select(KnowledgeQuestion).order_by(KnowledgeQuestion.id))]
    assert outcomes == ["offered", "declined"]
    # Between the two offered, the bot's own model's confident choice is answered; a guess is not.
    second = offered.offers[1].seed_key.split(":")[1]
    assert services.ask(None, "医保", hint=f"ask_faq/{second}", hint_confidence=0.9).entry == offered.offers[1]
    assert services.ask(None, "医保", hint=f"ask_faq/{second}", hint_confidence=0.2).outcome == "offered"
    assert services.ask(None, "医保", hint="ask_faq/parking", hint_confidence=0.9).outcome == "offered"


def test_between_two_seeds_the_bots_own_model_is_followed_never_over_a_nearer_entry():
    """follow_hint: the model trained on the 29 seeds picks between the two offered, and between the
    two closest seeds when the 知识库 answered one of them; not a community's own entry, not a seed
    it does not name among the two closest, not when it is unsure."""
    seeds = [("faq:office_hours", "district"), ("faq:office_location", "district")]
    assert services.follow_hint("answered", seeds, "faq:office_location", 0.3, 0.3) == ("answered", 1)
    assert services.follow_hint("answered", seeds, "faq:office_location", 0.29, 0.3) == ("answered", None)
    assert services.follow_hint("answered", seeds, "faq:office_hours", 0.9, 0.3) == ("answered", None)
    assert services.follow_hint("answered", seeds, "faq:parking", 0.9, 0.3) == ("answered", None)
    assert services.follow_hint("offered", seeds, "faq:office_hours", 0.9, 0.3) == ("answered", 0)
    assert services.follow_hint("declined", [], "faq:office_hours", 0.9, 0.3) == ("declined", None)
    local = [(None, "community"), ("faq:office_hours", "district")]
    assert services.follow_hint("answered", local, "faq:office_hours", 0.99, 0.3) == ("answered", None)


def test_the_models_choice_of_the_second_closest_seed_is_answered(db, places, monkeypatch):
    services.seed()
    asked = "社区居委会几点上班在哪办公"
    # whatever the scores, the 知识库 answers the closest (the case follow_hint may overrule)
    monkeypatch.setattr(services, "decide", lambda hits, *a, **k: ("answered", hits[:1]))
    hits = services.index().search(asked, community_id=None, street_id=None, day=services.today())
    second = db.session.get(KnowledgeEntry, hits[1].doc.id)
    hint = "ask_faq/" + second.seed_key.split(":", 1)[1]
    assert services.ask(None, asked, hint=hint, hint_confidence=0.8, record=False).entry == second
    assert services.ask(None, asked, hint=hint, hint_confidence=0.1, record=False).entry.id == hits[0].doc.id


def test_every_change_is_audited_and_each_admin_keeps_only_their_places(db, places):
    c1 = f"community:{places['c1'].id}"
    entry = services.add_entry(places["cadmin"], c1, VACCINE)
    services.edit_entry(places["cadmin"], entry.id, c1, {**VACCINE, "answer": "改到周三上午"})
    services.set_active(places["cadmin"], entry.id, False)
    services.set_active(places["sadmin"], entry.id, True)
    events = services.history(entry)
    assert [e.action for e in events] == ["restore", "retire", "edit", "add"]
    assert events[2].changes["answer"][1] == "改到周三上午" and events[2].actor_id == places["cadmin"].id
    assert entry.updated_by == places["sadmin"].id
    with pytest.raises(NotFound):
        services.get_entry(places["cadmin2"], entry.id)
    with pytest.raises(NotFound):
        services.add_entry(places["cadmin"], "district", VACCINE)
    district = services.add_entry(places["sys"], "district", {"question": "垃圾怎么分", "answer": "四类"})
    with pytest.raises(Forbidden):
        services.edit_entry(places["cadmin"], district.id, c1, VACCINE)
    with pytest.raises(Forbidden):
        services.search(places["worker"])
    with pytest.raises(ValidationFailed):
        services.add_entry(places["cadmin"], c1, {**VACCINE, "answer": " "})


def test_ten_similar_unanswered_questions_are_one_group_with_their_count(db, make, places):
    _live_in(make, places["res1"], places["c1"])
    similar = ["社区电影什么时候放", "露天电影几号放映", "今晚放电影吗", "社区电影放的什么片", "这周有没有露天电影", "广场电影几点开始", "放电影在哪个位置", "露天电影要带凳子吗", "社区电影每月放几次", "今年还放露天电影吗"]
    for text in similar + ["幸福食堂今天吃什么"]:
        assert services.ask(places["res1"].id, text).outcome != "answered", text
    groups = services.unanswered(places["cadmin"])
    assert groups[0]["count"] == 10 and len(groups) == 2 and groups[1]["count"] == 1
    assert services.unanswered(places["cadmin2"]) == []
    draft = services.draft_from_questions(places["cadmin"], groups[0]["ids"])
    assert draft["target"] == f"community:{places['c1'].id}" and len(draft["variants"]) == 9
    services.add_entry(places["cadmin"], draft["target"], {"question": draft["question"], "variants": draft["variants"],
                                                            "answer": "每月第一个周六晚7点在中心广场放映"},
                       question_ids=draft["question_ids"])
    assert [g["count"] for g in services.unanswered(places["cadmin"])] == [1]
    assert services.ask(places["res1"].id, "露天电影哪天放").outcome == "answered"


def test_an_answered_consultation_order_becomes_an_entry_in_one_step(db, make, places):
    from backend.orders import services as orders
    order = make.order(places["res1"], text="社区的核酸检测点还开着吗", kind="consultation")
    with pytest.raises(ValidationFailed):
        services.draft_from_order(places["cadmin"], order.number)  # not answered yet
    orders.perform(places["worker"], order, "claim")
    orders.perform(places["worker"], order, "resolve", result="核酸检测点已撤销，需要检测请到区医院。")
    draft = services.draft_from_order(places["cadmin"], order.number)
    assert draft == {"question": "社区的核酸检测点还开着吗", "answer": "核酸检测点已撤销，需要检测请到区医院。",
                     "order": order.number, "target": f"community:{places['c1'].id}"}
    with pytest.raises(NotFound):
        services.draft_from_order(places["cadmin2"], order.number)
    entry = services.add_entry(places["cadmin"], draft["target"], draft, order_number=order.number)
    assert entry.source_order_id == order.id and services.history(entry)[0].action == "adopt"


def test_xlsx_export_reads_back_unchanged_and_a_bad_row_imports_nothing(db, places):
    c1 = f"community:{places['c1'].id}"
    services.add_entry(places["cadmin"], c1, {**VACCINE, "valid_until": date(2030, 1, 1)})
    content = transfer.export_xlsx(places["cadmin"])
    assert transfer.import_xlsx(places["cadmin"], content) == {"added": 0, "changed": 0, "unchanged": 1, "skipped": 0}
    from openpyxl import load_workbook
    import io
    book = load_workbook(io.BytesIO(content))
    sheet = book["知识库"]
    sheet.append(["", "水晶城社区", "物业电话多少", "", "物业服务中心 0531-88886666"] + [""] * 7)
    sheet.append(["", "翠苑社区", "别人的社区", "", "不归我管"] + [""] * 7)
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ValidationFailed) as refused:
        transfer.import_xlsx(places["cadmin"], out.getvalue())
    assert "第4行「范围」" in str(refused.value)
    assert db.session.scalar(select(KnowledgeEntry).where(KnowledgeEntry.question == "物业电话多少")) is None
    sheet.delete_rows(4)
    out = io.BytesIO()
    book.save(out)
    assert transfer.import_xlsx(places["cadmin"], out.getvalue())["added"] == 1


def test_the_bot_asks_for_the_resident_of_its_conversation(client, auth, make, places):
    _live_in(make, places["res1"], places["c1"])
    services.add_entry(places["cadmin"], f"community:{places['c1'].id}", VACCINE)
    response = client.post("/api/v1/bot/knowledge/answer", headers=auth.bot(),
                           json={"sender_id": auth.sender(places["res1"]), "text": "疫苗在哪里打"})
    assert response.status_code == 200, response.json
    assert response.json["outcome"] == "answered" and response.json["entry"]["place"] == "社区卫生服务站二楼"
    other = client.post("/api/v1/bot/knowledge/answer", headers=auth.bot(),
                        json={"sender_id": auth.sender(places["res2"]), "text": "疫苗在哪里打"})
    assert other.json["outcome"] == "declined" and other.json["entry"] is None
    resident = client.post("/api/v1/bot/knowledge/answer", headers=auth.headers_for(places["res1"]),
                           json={"sender_id": auth.sender(places["res1"]), "text": "疫苗在哪里打"})
    assert resident.status_code == 403


def test_another_processs_change_is_answered_within_the_refresh_interval(app, db, make, places, monkeypatch,
                                                                         request):
    """Issue 23: a new entry is answered within a minute with no retraining. A web process sees its
    own changes at once (`changed`); another process's — here a row committed behind the services'
    back — once KNOWLEDGE_REFRESH_SECONDS have passed since it last read the entries' stamp."""
    _live_in(make, places["res1"], places["c1"])
    monkeypatch.setitem(app.config, "KNOWLEDGE_REFRESH_SECONDS", 5.0)
    now = [1000.0]
    monkeypatch.setattr(services.time, "monotonic", lambda: now[0])
    services.changed()  # the stamp is read on the next question
    request.addfinalizer(services.changed)  # and again after this test's made-up clock is gone
    assert services.ask(places["res1"].id, "社区什么时候打疫苗", record=False).outcome == "declined"
    entry = KnowledgeEntry(scope="community", street_id=places["street"].id, community_id=places["c1"].id,
                           active=True, question=VACCINE["question"], variants=VACCINE["variants"],
                           answer=VACCINE["answer"], created_at=clock.now(), updated_at=clock.now())
    db.session.add(entry)
    db.session.commit()
    now[0] += 4.9
    assert services.ask(places["res1"].id, "社区什么时候打疫苗", record=False).outcome == "declined"
    now[0] += 0.1
    answer = services.ask(places["res1"].id, "社区什么时候打疫苗", record=False)
    assert answer.outcome == "answered" and answer.entry.id == entry.id
    entry.valid_until, entry.updated_at = services.today() - timedelta(days=1), clock.now()
    db.session.commit()
    now[0] += 5.0
    assert services.ask(places["res1"].id, "社区什么时候打疫苗", record=False).outcome == "declined"
