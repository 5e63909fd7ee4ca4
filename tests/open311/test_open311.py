"""Open311 GeoReport v2 at /open311/v2/: the PyPI client `georeport` reads our services and requests
from a live server in JSON and in XML; a partner's POST (plain `requests`, as the spec's form)
creates an order in the right grid's queue; every endpoint answers in the spec's fields; personal
data is masked and hidden orders never appear."""
import pytest
import requests
import xmltodict
from georeport import GeoReport

from backend.accounts.actors import Actor
from backend.categories import taxonomy
from backend.open311 import services as open311
from backend.orders import services as orders

# The spec's fields (GeoReport v2), per response.
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                  "description", "agency_responsible", "service_notice", "requested_datetime",
                  "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                  "lat", "long", "media_url"}
CREATED_FIELDS = {"service_request_id", "service_notice", "account_id"}
ERROR_FIELDS = {"code", "description"}


def _code(path: str) -> str:
    return taxonomy.lookup(path).code


@pytest.fixture
def partner(app, db, redis):
    return open311.issue_key("12345热线平台")


@pytest.fixture
def city(make, db, redis):
    world = make.world()
    db.session.rollback()  # SQLite: the live server must not wait for this thread's read lock
    return world


def _post(live_server, fmt="json", **form):
    return requests.post(f"{live_server}/open311/v2/requests.{fmt}", data=form, timeout=10)


def test_georeport_lists_our_services_in_json_and_xml(live_server, city):
    for fmt in ("json", "xml"):
        client = GeoReport(f"{live_server}/open311/v2", output_format=fmt)
        listed = client.get_service_list()
        assert len(listed) == len(taxonomy.labels(2))
        property_service = next(s for s in listed if s["service_name"] == "物业服务" or
                                s["description"] == "城乡建设/住房保障与房地产")
        assert set(property_service) == SERVICE_FIELDS
        assert property_service["group"] == "城乡建设"
        definition = client.get_service_definition(property_service["service_code"])
        assert definition["service_code"] == property_service["service_code"]


def test_a_partner_post_becomes_an_order_in_the_grids_queue(live_server, city, partner, client, auth, db, make):
    created = _post(live_server, api_key=partner, service_code=_code("城乡建设/住房保障与房地产"),
                    description="水晶城小区3号楼电梯停了两天，住户王芳13912345678说没人管",
                    address_string="水晶城小区3号楼", media_url="https://example.org/lift.jpg")
    assert created.status_code == 201, created.text
    [answer] = created.json()
    assert CREATED_FIELDS <= set(answer)
    number = answer["service_request_id"]
    queue = client.get("/api/v1/queue", headers=auth.headers_for(city["workers"][0])).json
    assert number in [o["number"] for o in queue["waiting"]]
    other = client.get("/api/v1/queue", headers=auth.headers_for(city["workers"][1])).json
    assert number not in [o["number"] for o in other["waiting"]]
    db.session.rollback()
    # Open orders are not public (公示 lists finished ones): only the partner that sent it sees it,
    # with its key — at once, but its words only once WeChat's content check has passed.
    assert requests.get(f"{live_server}/open311/v2/requests/{number}.json", timeout=10).status_code == 404
    assert number not in requests.get(f"{live_server}/open311/v2/requests.json", timeout=10).text
    mine = {"api_key": partner}
    unchecked = requests.get(f"{live_server}/open311/v2/requests/{number}.json", params=mine, timeout=10).json()[0]
    assert unchecked["description"] is None and unchecked["address"] is None and unchecked["status"] == "open"
    from backend.orders.models import Order
    make.passed_content_check(db.session.query(Order).filter_by(number=number).one())
    db.session.rollback()

    for fmt in ("json", "xml"):
        client311 = GeoReport(f"{live_server}/open311/v2", output_format=fmt)
        got = requests.get(f"{live_server}/open311/v2/requests/{number}.{fmt}", params=mine, timeout=10)
        shown = got.json()[0] if fmt == "json" else xmltodict.parse(got.content)["service_requests"]["request"]
        assert set(shown) == REQUEST_FIELDS
        assert shown["status"] == "open" and shown["service_request_id"] == number
        assert "13912345678" not in shown["description"] and "139****5678" in shown["description"]
        assert shown["media_url"] == "https://example.org/lift.jpg"
        assert shown["agency_responsible"].endswith("网格员")
        assert shown["expected_datetime"] and shown["expected_datetime"][-6:] == "+08:00"
        listed = requests.get(f"{live_server}/open311/v2/requests.{fmt}", params={**mine, "status": "open"},
                              timeout=10)
        assert number in listed.text
        if fmt == "json":  # (the client cannot read an empty XML list: <service_requests/> parses to None)
            closed = client311.get_service_requests(status="closed")
            assert number not in [r["service_request_id"] for r in closed]
            assert client311.get_service_requests(status="open") == []  # nobody else's business
    token = requests.get(f"{live_server}/open311/v2/tokens/{number}.json", timeout=10).json()
    assert token == [{"service_request_id": number, "token": number}]


def test_a_resolved_request_is_closed_with_the_masked_result(live_server, city, make, db):
    order = make.order(city["resident"], text="路灯不亮", location_text="水晶城小区3号楼")
    worker = Actor.for_staff(city["workers"][0])
    orders.perform(worker, order, "claim")
    orders.perform(worker, order, "resolve", result="已换灯，联系了张阿姨确认")
    make.passed_content_check(order)
    number = order.number
    db.session.rollback()
    shown = GeoReport(f"{live_server}/open311/v2").get_service_request(number)
    assert shown["status"] == "closed" and shown["status_notes"] == "已换灯，联系了*阿姨确认"
    assert shown["media_url"] is None  # a resident's photos are not published


def test_hidden_orders_and_personal_fields_never_appear(live_server, city, make, db):
    resident = Actor.for_resident(city["resident"])
    cancelled = make.order(city["resident"], text="打错了")
    orders.perform(resident, cancelled, "cancel")
    private = make.order(city["resident"], text="家里的私事")
    orders.perform(Actor.for_staff(city["community_admin"]), private, "make_private", reason="隐私")
    shown = make.order(city["resident"], text="我叫张三，楼道灯坏了")
    worker = Actor.for_staff(city["workers"][0])
    orders.perform(worker, shown, "claim")
    orders.perform(worker, shown, "resolve", result="已换灯")
    numbers = (cancelled.number, private.number, shown.number)
    openid = city["resident"].openid
    db.session.rollback()
    body = requests.get(f"{live_server}/open311/v2/requests.json", timeout=10).text
    assert numbers[2] in body and numbers[0] not in body and numbers[1] not in body
    assert openid not in body and "张三" not in body
    for hidden in numbers[:2]:
        missing = requests.get(f"{live_server}/open311/v2/requests/{hidden}.json", timeout=10)
        assert missing.status_code == 404 and set(missing.json()[0]) == ERROR_FIELDS


def test_every_endpoint_answers_in_the_specs_xml(live_server, city, partner):
    base = f"{live_server}/open311/v2"
    discovery = xmltodict.parse(requests.get(f"{base}/discovery.xml", timeout=10).content)["discovery"]
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(discovery)
    assert discovery["endpoints"]["endpoint"]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    json_discovery = requests.get(f"{base}/discovery.json", timeout=10).json()
    assert json_discovery["endpoints"][0]["formats"] == ["application/json", "text/xml"]
    services = xmltodict.parse(requests.get(f"{base}/services.xml", timeout=10).content)["services"]["service"]
    assert set(services[0]) == SERVICE_FIELDS and services[0]["metadata"] == "false"
    code = services[0]["service_code"]
    definition = xmltodict.parse(requests.get(f"{base}/services/{code}.xml", timeout=10).content)
    assert definition["service_definition"]["service_code"] == code
    created = _post(live_server, "xml", api_key=partner, service_code=code, description="井盖松动",
                    address_string="水晶城小区8号楼")
    assert created.status_code == 201 and created.headers["Content-Type"].startswith("text/xml")
    request = xmltodict.parse(created.content)["service_requests"]["request"]
    assert CREATED_FIELDS <= set(request)
    listed = xmltodict.parse(requests.get(f"{base}/requests.xml", params={"api_key": partner},  # its own, open
                                          timeout=10).content)["service_requests"]["request"]
    listed = listed if isinstance(listed, list) else [listed]
    assert set(listed[0]) == REQUEST_FIELDS
    token = xmltodict.parse(requests.get(f"{base}/tokens/{request['service_request_id']}.xml", timeout=10).content)
    assert token["service_requests"]["request"]["service_request_id"] == request["service_request_id"]


@pytest.mark.parametrize("form,status", [
    ({"api_key": "not-a-key", "service_code": "x", "description": "d"}, 403),
    ({"service_code": "x", "description": "d"}, 403),
    ({"api_key": "PARTNER", "description": "楼道灯坏了"}, 400),
    ({"api_key": "PARTNER", "service_code": "no.such", "description": "楼道灯坏了"}, 400),
    ({"api_key": "PARTNER", "service_code": "CODE"}, 400),
    ({"api_key": "PARTNER", "service_code": "CODE", "description": "灯", "media_url": "javascript:alert(1)"}, 400),
])
def test_bad_posts_get_the_specs_errors_and_store_nothing(live_server, city, partner, db, form, status):
    from backend.orders.models import Order
    form = {k: (partner if v == "PARTNER" else _code("城乡建设/住房保障与房地产") if v == "CODE" else v)
            for k, v in form.items()}
    for fmt in ("json", "xml"):
        answer = _post(live_server, fmt, **form)
        assert answer.status_code == status, answer.text
        error = answer.json()[0] if fmt == "json" else xmltodict.parse(answer.content)["errors"]["error"]
        assert set(error) == ERROR_FIELDS and int(error["code"]) == status
    db.session.rollback()
    assert db.session.query(Order).count() == 0


@pytest.mark.parametrize("query", ["start_date=yesterday", "status=pending",
                                   "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"])
def test_bad_filters_are_400_in_the_specs_format(live_server, city, query):
    answer = requests.get(f"{live_server}/open311/v2/requests.json?{query}", timeout=10)
    assert answer.status_code == 400 and set(answer.json()[0]) == ERROR_FIELDS


def test_a_partners_retry_with_its_idempotency_key_makes_one_order(live_server, city, partner, db):
    from backend.orders.models import Order
    form = {"api_key": partner, "service_code": _code("城乡建设/住房保障与房地产"), "description": "8号楼电梯坏了",
            "address_string": "水晶城小区8号楼"}
    first = requests.post(f"{live_server}/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "p-1"}, timeout=10)
    again = requests.post(f"{live_server}/open311/v2/requests.json", data=form, headers={"Idempotency-Key": "p-1"}, timeout=10)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    db.session.rollback()
    assert db.session.query(Order).count() == 1


def test_a_partner_past_its_limit_gets_429_with_retry_after(app, live_server, city, partner, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMIT_OPEN311", "2 per minute")
    form = {"api_key": partner, "service_code": _code("城乡建设/住房保障与房地产"), "description": "井盖坏了"}
    answers = [requests.post(f"{live_server}/open311/v2/requests.json", data=form, timeout=10) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1 and answers[2].json()[0]["code"] == 429


def test_a_new_key_replaces_the_old_one_and_keys_are_stored_hashed(app, db, redis, city):
    from backend.open311.models import Partner
    first = open311.issue_key("网格通")
    second = open311.issue_key("网格通")
    stored = db.session.query(Partner).filter_by(name="网格通").one()
    assert first not in (stored.key_hash, stored.key_prefix + "x") and stored.key_hash != second
    with pytest.raises(Exception):
        open311.partner_for(first)
    assert open311.partner_for(second).id == stored.id
