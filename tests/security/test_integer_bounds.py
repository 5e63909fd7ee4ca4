"""Every integer a request carries is bounded at the edge: a number past what the database can hold
is a 422 naming the field, never a 500 (schemathesis once found two: a list offset of 4.8e21 and a
transfer building_id past 64 bits). The OpenAPI test makes a new unbounded integer fail."""
import pytest
from sqlalchemy import func, select

from backend.orders.models import Order, OrderEvent

HUGE = 4816379011821602865152  # the fuzzer's offset: past 64 bits
PAST_INT32 = 2**31
PAST_INT64 = 2**64


@pytest.fixture
def setting(make, auth, db):
    world = make.world()
    admin = make.staff("sysadmin")
    resident = world["resident"]
    order = make.order(resident=resident)
    return {"order": order.number, "resident": auth.headers_for(resident), "admin": auth.headers_for(admin),
            "bot": auth.bot(), "sender": auth.sender(resident)}


# (who, method, path, where the value goes, field, extra body)
CASES = [
    ("resident", "GET", "/api/v1/orders", "query", "offset", {}),
    ("resident", "GET", "/api/v1/orders", "query", "limit", {}),
    ("admin", "GET", "/api/v1/orders", "query", "offset", {}),
    ("admin", "GET", "/api/v1/queue", "query", "limit", {}),
    ("admin", "GET", "/api/v1/supervision", "query", "within", {}),
    ("resident", "POST", "/api/v1/orders", "json", "building_id", {"text": "楼道灯坏了"}),
    ("admin", "POST", "/api/v1/orders/{order}/transfer", "json", "building_id", {"reason": "不归我们"}),
    ("admin", "POST", "/api/v1/orders/{order}/transfer", "json", "grid_id", {"reason": "不归我们"}),
    ("admin", "POST", "/api/v1/orders/{order}/place", "json", "building_id", {}),
    ("admin", "POST", "/api/v1/orders/{order}/place", "json", "grid_id", {}),
    ("resident", "POST", "/api/v1/orders/{order}/rating", "json", "score", {}),
    ("bot", "POST", "/api/v1/bot/orders/{order}/rating", "json", "score", {"sender_id": "{sender}"}),
]
VALUES = [HUGE, PAST_INT64, PAST_INT32, -1, -PAST_INT64]


def _fill(value, setting):
    return value.format(**setting) if isinstance(value, str) else value


@pytest.mark.parametrize("value", VALUES, ids=["fuzzer", "2^64", "2^31", "-1", "-2^64"])
@pytest.mark.parametrize("who,method,path,where,field,extra", CASES,
                         ids=[f"{c[1]} {c[2]} {c[4]}" for c in CASES])
def test_out_of_range_integers_are_422_naming_the_field(client, db, setting, who, method, path, where,
                                                       field, extra, value):
    before = db.session.scalar(select(func.count()).select_from(OrderEvent))
    url = _fill(path, setting)
    body = {k: _fill(v, setting) for k, v in extra.items()}
    if where == "query":
        response = client.open(url, method=method, query_string={field: str(value)}, headers=setting[who])
    else:
        response = client.open(url, method=method, json={**body, field: value}, headers=setting[who])
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.json["error"]
    assert error["code"] == "validation_failed" and field in error["fields"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OrderEvent)) == before


@pytest.mark.parametrize("value", ["3", 2.5, True, [], {}], ids=["string", "float", "bool", "list", "object"])
def test_ids_in_a_body_must_be_integers(client, db, setting, value):
    response = client.post(f"/api/v1/orders/{setting['order']}/transfer",
                           json={"reason": "x", "building_id": value}, headers=setting["admin"])
    assert response.status_code == 422
    assert "building_id" in response.json["error"]["fields"]


@pytest.mark.parametrize("sender", [f"r{HUGE}-{'0' * 32}", f"r١٢٣-{'0' * 32}", "r-", "r1x", "resident-1"])
def test_bot_conversation_ids_are_ascii_and_short(client, setting, sender):
    listed = client.get("/api/v1/bot/orders", query_string={"sender_id": sender}, headers=setting["bot"])
    created = client.post("/api/v1/bot/orders", json={"sender_id": sender, "text": "楼道灯坏了"}, headers=setting["bot"])
    for response in (listed, created):
        assert response.status_code == 422 and "sender_id" in response.json["error"]["fields"]


@pytest.mark.parametrize("assignee", [str(HUGE), str(PAST_INT64), str(PAST_INT32), "0"])
def test_assigning_to_a_number_past_any_id_is_a_field_error(client, db, setting, assignee):
    response = client.post(f"/api/v1/orders/{setting['order']}/assign", json={"assignee": assignee},
                           headers=setting["admin"])
    assert response.status_code == 422
    assert "assignee" in response.json["error"]["fields"]
    assert db.session.scalar(select(Order.state).where(Order.number == setting["order"])) == "submitted"


def _integer_properties(schema, components, seen=()):
    """(name, schema) of every integer property reachable from an OpenAPI schema object."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        yield from _integer_properties(components[name], components, (*seen, name))
        return
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            yield from _integer_properties(part, components, seen)
    if schema.get("type") == "array" and "items" in schema:
        yield from _integer_properties(schema["items"], components, seen)
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("type") == "integer" and not prop.get("readOnly"):
            yield name, prop
        else:
            yield from _integer_properties(prop, components, seen)


def test_every_integer_a_request_may_carry_is_bounded_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    components = spec["components"]["schemas"]
    unbounded = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            found = [(p["name"], p.get("schema", {})) for p in operation.get("parameters", [])
                     if p.get("schema", {}).get("type") == "integer"]
            for content in (operation.get("requestBody") or {}).get("content", {}).values():
                found += list(_integer_properties(content.get("schema", {}), components))
            unbounded += [f"{method.upper()} {path} {name}" for name, prop in found
                          if "minimum" not in prop or "maximum" not in prop]
    assert not unbounded, unbounded
    # The walk did find the integers it guards.
    assert any("offset" in p.get("name", "") for p in spec["paths"]["/api/v1/orders"]["get"]["parameters"])


HUGE_BUILDINGS = [f"水晶城小区{HUGE}号楼", "3" * 30 + "栋", f"{PAST_INT64}号"]


@pytest.mark.parametrize("location", HUGE_BUILDINGS)
def test_a_huge_building_number_in_an_address_is_just_text(client, db, make, auth, location):
    """An integer hiding in free text reached the database too: the order is stored (in the pool)."""
    world = make.world()
    headers = auth.headers_for(world["resident"])
    created = client.post("/api/v1/orders", json={"text": "楼道灯坏了", "location_text": location}, headers=headers)
    assert created.status_code == 201 and created.json["grid"] is None
    chatted = client.post("/api/v1/chat", json={"text": location + "楼道灯坏了"}, headers=headers)
    assert chatted.status_code == 200 and chatted.json["order_number"]
    assert db.session.scalar(select(func.count()).select_from(Order)) == 2
