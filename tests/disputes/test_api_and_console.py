"""The same five steps over HTTP: the API's JSON and the console's forms reach the same table."""
from datetime import timedelta

from backend import clock
from backend.accounts.actors import Actor
from backend.accounts import sessions


def _post(client, auth, who, path, body=None):
    return client.post(f"/api/v1/disputes{path}", json=body or {}, headers=auth.headers_for(who))


def test_the_api_runs_a_dispute_from_a_grid_to_publication(client, auth, world):
    worker, admin = world["workers"][0], world["community_admin"]
    made = _post(client, auth, worker, "", {"topic": "lift", "grid": world["grids"][0].code,
                                           "subject": "3号楼电梯更新费用分摊，一楼住户不愿出资",
                                           "parties": [{"kind": "resident", "name": "一楼住户"},
                                                       {"kind": "committee", "name": "业委会"},
                                                       {"kind": "property", "name": "物业公司"}]})
    assert made.status_code == 201, made.json
    d = made.json
    assert (d["state"], d["level"], d["grid"]) == ("registered", "grid", world["grids"][0].code)
    steps = [("open_deliberation", {}),
             ("hold_meeting", {"held_at": "2026-11-20T19:00:00+08:00", "place": "社区议事厅",
                               "attendees": ["网格员", "业委会", "物业", "居民代表"], "minutes": "讨论分摊比例"}),
             ("hold_meeting", {"held_at": "2026-11-27T19:00:00+08:00", "place": "社区议事厅",
                               "attendees": ["网格员", "业委会", "物业", "全体住户"], "minutes": "表决"}),
             ("decide", {"method": "vote", "decision": "一楼按三成分摊", "votes_for": 20, "votes_against": 3,
                         "votes_abstain": 1}),
             ("finish_work", {"result": "资金已到位"}),
             ("give_feedback", {"feedback": "已反馈各方"})]
    for action, body in steps:
        answer = _post(client, auth, worker, f"/{d['id']}/{action}", body)
        assert answer.status_code == 200, (action, answer.json)
    d = answer.json
    assert d["votes"] == {"for": 20, "against": 3, "abstain": 1} and len(d["meetings"]) == 2
    early = _post(client, auth, admin, f"/{d['id']}/publish")
    assert early.status_code == 409 and early.json["error"]["code"] == "invalid_transition"
    for party in d["parties"]:
        assert _post(client, auth, worker, f"/{d['id']}/record_consent",
                     {"party_id": party["id"], "consent": "agreed"}).status_code == 200
    assert _post(client, auth, worker, f"/{d['id']}/publish").status_code == 403  # a leader's
    published = _post(client, auth, admin, f"/{d['id']}/publish")
    assert published.status_code == 200 and published.json["published_at"]
    page = client.get("/public/disputes")
    assert page.status_code == 200 and "一楼按三成分摊" in page.get_data(as_text=True)


def test_bad_input_names_its_fields(client, auth, world, parking):
    worker = world["workers"][0]
    assert _post(client, auth, worker, f"/{parking.id}/open_deliberation").status_code == 200
    cases = [({"held_at": "昨天", "place": "x", "attendees": ["a"], "minutes": "m"}, "held_at"),
             ({"place": "x", "attendees": ["a"], "minutes": "m"}, "held_at"),
             ({"held_at": "2099-01-01T19:00:00+08:00", "place": "x", "attendees": ["a"], "minutes": "m"}, "held_at"),
             ({"held_at": "2026-11-20T19:00:00+08:00", "place": "x", "attendees": ["a"], "minutes": "m",
               "unknown": 1}, "unknown")]
    for body, field in cases:
        answer = _post(client, auth, worker, f"/{parking.id}/hold_meeting", body)
        assert answer.status_code == 422 and field in answer.json["error"]["fields"], answer.json
    assert _post(client, auth, worker, f"/{parking.id}/no_such_step").status_code == 422
    assert client.get("/api/v1/disputes/99999999999", headers=auth.headers_for(worker)).status_code == 404


def _console(client, staff):
    with client.session_transaction() as session:
        sessions.sign_in(session, "staff", staff)
        session["csrf"] = "t"
    return client


def test_the_console_registers_and_steps_a_dispute_with_its_forms(client, world, make):
    order = make.order(world["resident"], kind="dispute", text="楼上漏水到楼下，协商未果")
    c = _console(client, world["workers"][0])
    made = c.post("/console/disputes/new", data={"csrf": "t", "topic": "neighbour", "order_number": order.number,
                                                 "party_kind": ["resident", "resident", "resident"],
                                                 "party_name": ["王秀英", "赵建国", ""]})
    assert made.status_code == 302, made.get_data(as_text=True)
    page_url = made.location
    page = c.get(page_url).get_data(as_text=True)
    assert "楼上漏水到楼下" in page and "开始协商" in page
    for action, form in [("open_deliberation", {}),
                         ("hold_meeting", {"held_at": "2026-11-20T19:00", "place": "党群服务站",
                                           "attendees": "网格员、王秀英，赵建国", "minutes": "各自陈述"}),
                         ("decide", {"method": "mediation", "decision": "楼上修复防水，赔偿楼下吊顶"})]:
        done = c.post(f"{page_url}/{action}", data={"csrf": "t", "do": action, **form})
        assert done.status_code == 302
        assert "操作未完成" not in c.get(page_url).get_data(as_text=True), action
    page = c.get(page_url).get_data(as_text=True)
    assert "网格员、王秀英、赵建国" in page and "落实中" in page
    # A step without its required input is refused on the page, the field named in Chinese.
    c.post(f"{page_url}/finish_work", data={"csrf": "t"})
    assert "请填写：落实情况" in c.get(page_url).get_data(as_text=True)


def test_an_escalated_dispute_reaches_the_community_admins_console(client, world, parking):
    worker = Actor.for_staff(world["workers"][0])
    from backend.disputes import jobs, services
    d = services.perform(worker, parking, "open_deliberation")
    clock.travel(d.due_at - clock.now() + timedelta(minutes=1))
    jobs.stall_tick()
    c = _console(client, world["community_admin"])
    listing = c.get("/console/disputes").get_data(as_text=True)
    assert "商·协商中" in listing and "社区" in listing
    assert "矛盾纠纷" in c.get("/console/").get_data(as_text=True)  # the inbox tells them
