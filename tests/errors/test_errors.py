"""The error contract: JSON {"error": {"code", "message", "fields"}}, right status, nothing half-written."""
import pytest
from sqlalchemy import func, select

from backend.orders.models import Order


def _count(db):
    return db.session.scalar(select(func.count()).select_from(Order))


@pytest.fixture
def resident_headers(make, auth):
    make.world()
    return auth.headers_for(make.resident())


@pytest.mark.parametrize("payload,field", [
    ({}, "text"),
    ({"text": ""}, "text"),
    ({"text": "   "}, "text"),
    ({"text": 123}, "text"),
    ({"text": "灯坏了", "kind": "gossip"}, "kind"),
    ({"text": "灯坏了", "building_id": "3"}, "building_id"),
    ({"text": "灯坏了", "photos": ["ftp://x/y.jpg"]}, "photos"),
    ({"text": "灯坏了", "is_admin": True}, "is_admin"),
    ({"text": "x" * 2001}, "text"),
])
def test_bad_fields_are_422_with_field_messages(client, db, resident_headers, payload, field):
    before = _count(db)
    response = client.post("/api/v1/orders", json=payload, headers=resident_headers)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"]
    assert _count(db) == before


def test_malformed_json_is_400(client, db, resident_headers):
    response = client.post("/api/v1/orders", data='{"text": "灯坏'.encode(), headers={**resident_headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"


def test_bad_utf8_is_400(client, db, resident_headers):
    response = client.post("/api/v1/orders", data=b'{"text": "\xff\xfe"}', headers={**resident_headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert "error" in response.json
    assert _count(db) == 0


def test_oversized_body_is_413(app, client, db, resident_headers):
    big = b'{"text": "' + b"a" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    response = client.post("/api/v1/orders", data=big, headers={**resident_headers, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert _count(db) == 0


def test_unknown_path_is_json_404(client):
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(client):
    response = client.delete("/api/v1/orders")
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"


def test_unexpected_error_is_json_500_without_trace(app, client, resident_headers, monkeypatch):
    from backend.orders import services

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")
    monkeypatch.setattr(services, "list_orders", boom)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/api/v1/orders", headers=resident_headers)
    assert response.status_code == 500
    assert response.json == {"error": {"code": "internal_error", "message": "系统出错了，请稍后再试"}}
    assert "secret internals" not in response.get_data(as_text=True)


def test_failure_inside_the_transaction_leaves_nothing(app, client, db, resident_headers, monkeypatch):
    """An error after the order row is flushed but before commit must roll everything back."""
    from backend.orders.signals import order_changed

    def explode(sender, **kwargs):
        raise RuntimeError("notification table unavailable")
    order_changed.connect(explode)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    try:
        response = client.post("/api/v1/orders", json={"text": "楼道灯坏了"}, headers=resident_headers)
    finally:
        order_changed.disconnect(explode)
    assert response.status_code == 500
    assert _count(db) == 0
