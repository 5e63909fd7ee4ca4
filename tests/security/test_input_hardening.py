"""Hostile or careless input: body and field limits, control characters, full-width forms, NUL
characters (which PostgreSQL refuses: each of these was a 500 there), photos judged by their bytes,
stored text shown as text, and the security headers of HTML pages."""
import io
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from backend import headers, text
from backend.errors import ValidationFailed
from backend.orders import photos
from backend.orders.models import Order, OrderEvent
from backend.accounts import sessions

ROOT = Path(__file__).resolve().parents[2]
PNG = (ROOT / "tests/fixtures/wechat/media.png").read_bytes()


@pytest.fixture
def world(make, auth):
    world = make.world()
    world["admin"] = auth.headers_for(world["community_admin"])
    world["mine"] = auth.headers_for(world["resident"])
    return world


def _console(app, staff):
    client = app.test_client()
    with client.session_transaction() as session:
        sessions.sign_in(session, "staff", staff)
        session["csrf"] = "t"
    return client


def test_a_body_over_the_limit_is_413_json_on_the_api_and_a_page_on_the_console(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    big = '{"text": "' + "灯" * 4096 + '"}'
    response = client.post("/api/v1/orders", data=big, content_type="application/json", headers=world["mine"])
    assert response.status_code == 413 and response.json["error"]["code"] == "payload_too_large"
    page = _console(app, world["community_admin"]).post("/console/login", data={"csrf": "t", "note": "x" * 5000})
    assert page.status_code == 413 and page.mimetype == "text/html"
    assert client.get("/api/v1/orders", headers=world["mine"]).status_code == 200  # small bodies still pass


@pytest.mark.parametrize("field, value", [("text", "灯" * 2001), ("location_text", "楼" * 201),
                                          ("contact", "1" * 41), ("photos", ["https://img.example/" + "a" * 500])])
def test_fields_over_their_length_are_refused_with_the_field_named(client, world, field, value):
    body = {"text": "楼道灯坏了", field: value}
    response = client.post("/api/v1/orders", json=body, headers=world["mine"])
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_control_characters_are_stripped_from_stored_text_newlines_and_tabs_kept(client, world, db):
    written = "楼道灯坏了\x00\x07\u202e\r\n第二行\t末尾\ufeff"
    response = client.post("/api/v1/orders", json={"text": written, "location_text": "水晶城小区3号楼\x1b"},
                           headers=world["mine"])
    assert response.status_code == 201
    order = db.session.scalar(select(Order).where(Order.number == response.json["number"]))
    assert order.text == "楼道灯坏了\n第二行\t末尾" and order.location_text == "水晶城小区3号楼"


def test_a_text_of_control_characters_only_is_blank(client, world):
    response = client.post("/api/v1/orders", json={"text": "\x00\x01\u202e "}, headers=world["mine"])
    assert response.status_code == 422 and "text" in response.json["error"]["fields"]


def test_console_forms_are_cleaned_and_bounded_too(app, db, make, world):
    order = make.order(world["resident"])
    console = _console(app, world["community_admin"])
    console.post(f"/console/orders/{order.number}/supervise", data={"csrf": "t", "note": "请尽快\x00处理\x08"})
    console.post(f"/console/orders/{order.number}/supervise", data={"csrf": "t", "note": "长" * 2001})
    db.session.rollback()
    notes = db.session.scalars(select(OrderEvent.note).where(OrderEvent.order_id == order.id,
                                                             OrderEvent.action == "supervise")).all()
    assert notes == ["请尽快处理"]


def test_full_width_addresses_route_like_plain_ones_and_are_stored_as_written(client, world, db):
    response = client.post("/api/v1/orders", json={"text": "楼道灯坏了", "location_text": "水晶城小区３号楼２单元"},
                           headers=world["mine"])
    order = db.session.scalar(select(Order).where(Order.number == response.json["number"]))
    assert order.grid_id == world["grids"][0].id
    assert order.location_text == "水晶城小区３号楼２单元"


def test_nul_characters_never_reach_a_query(app, client, make, world, auth):
    """Each of these answered 500 on PostgreSQL ("A string literal cannot contain NUL")."""
    order = make.order(world["resident"])
    sysadmin = auth.headers_for(make.staff("sysadmin"))
    assert client.post("/api/v1/auth/login", json={"username": "admin\x00", "password": "x"}).status_code == 401
    assert client.get("/api/v1/orders/HX%00", headers=world["mine"]).status_code == 404
    assert client.get(f"/api/v1/bot/orders?sender_id={auth.sender(world['resident'])}&number=HX%00",
                      headers=auth.bot()).status_code == 404
    assert client.post(f"/api/v1/orders/{order.number}/assign", json={"assignee": "w\x00"},
                       headers=sysadmin).status_code == 422
    assert client.post(f"/api/v1/orders/{order.number}/transfer", json={"reason": "x", "grid": "g\x00"},
                       headers=sysadmin).status_code == 422
    assert client.post("/api/v1/orders", json={"text": "灯坏了\x00"}, headers=world["mine"]).status_code == 201
    console = app.test_client()
    with console.session_transaction() as session:
        session["csrf"] = "t"
    assert console.post("/console/login", data={"csrf": "t", "username": "a\x00", "password": "x"}).status_code == 401
    assert console.get("/console/orders/HX%00").status_code == 302  # to the login page, not a 500


# --- photos ---------------------------------------------------------------------------------------

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32


@pytest.mark.parametrize("body, kind", [(JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp")])
def test_photo_types_are_read_from_the_bytes(body, kind):
    assert photos.sniff(body) == kind


@pytest.mark.parametrize("body", [b"GIF89a" + b"\x00" * 32, b"<html><script>alert(1)</script>", b"",
                                  b"RIFF\x24\x00\x00\x00WAVEfmt ", b"%PDF-1.7"])
def test_anything_else_is_refused_with_422_and_nothing_is_written(app, tmp_path, monkeypatch, body):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    with app.app_context(), pytest.raises(ValidationFailed) as refused:
        photos.store(body, "test")
    assert refused.value.status == 422 and "photo" in refused.value.fields
    assert list(tmp_path.iterdir()) == []


def test_a_photo_over_the_size_limit_is_refused(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", len(PNG) - 1)
    with app.app_context(), pytest.raises(ValidationFailed):
        photos.store(PNG, "test")
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", len(PNG))
    with app.app_context():
        stored = photos.store(PNG, "test")
    assert stored["content_type"] == "image/png" and (tmp_path / stored["key"]).read_bytes() == PNG


# --- HTML ----------------------------------------------------------------------------------------

def test_markup_in_an_order_is_shown_as_text_on_the_console(app, make, world):
    order = make.order(world["resident"], text='<script>alert("x")</script><img src=x onerror=alert(1)>')
    console = _console(app, world["community_admin"])
    for page in (console.get(f"/console/orders/{order.number}"), console.get("/console/")):
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "&lt;script&gt;alert(" in html and "<script>alert" not in html and "<img src=x" not in html


def test_html_pages_carry_the_security_headers(app, client, world):
    pages = [client.get("/console/login"), client.get("/api/v1/docs"), client.get("/console/orders/HX1/claim"),
             _console(app, world["community_admin"]).get("/console/")]
    for page in pages:
        assert page.mimetype == "text/html"
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "same-origin"
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    api = client.get("/api/v1/orders", headers=world["mine"])
    assert api.headers["X-Content-Type-Options"] == "nosniff"


def test_templates_have_no_inline_script_or_style():
    """The CSP would block them: scripts and styles live in static/ (served from this site)."""
    for template in (ROOT / "templates").rglob("*.html"):
        source = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), template
        assert "<style" not in source and " style=" not in source and not re.search(r"\son\w+=", source), template


def test_the_csp_is_one_string_without_inline_allowances():
    assert "'unsafe-inline'" not in headers.CSP and "'unsafe-eval'" not in headers.CSP


def test_text_helpers_keep_what_was_written_but_compare_in_nfkc():
    assert text.clean("a\x00b\r\nc\u2028d\te") == "ab\nc\nd\te"
    assert text.for_matching("３号楼Ａ座") == "3号楼A座"


def test_no_credentials_reach_a_log_line(caplog, app, client, world):
    from backend import errors
    errors.redact_logs()  # this test's capture handler is one of the root handlers too
    caplog.set_level(logging.INFO)
    token = world["mine"]["Authorization"].split()[1]
    log = logging.getLogger("backend.test")
    log.warning("GET https://api.weixin.qq.com/cgi-bin/token?grant_type=c&appid=wx1&secret=S3CRET-1 failed")
    log.info("retrying with %s", world["mine"]["Authorization"])
    try:
        raise RuntimeError("login failed for password=hunter2&user=a")
    except RuntimeError:
        log.exception("boom")
    logged = caplog.text
    assert "boom" in logged and "secret=***" in logged and "Bearer ***" in logged
    for leaked in ("S3CRET-1", token, "hunter2"):
        assert leaked not in logged


def test_database_errors_do_not_log_the_statements_parameters(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True


def test_a_resident_uploads_a_photo_judged_by_its_bytes(app, client, db, make, world, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    order = make.order(world["resident"])

    def upload(body, name):
        return client.post(f"/api/v1/orders/{order.number}/photos", data={"photo": (io.BytesIO(body), name)},
                           headers=world["mine"], content_type="multipart/form-data")
    disguised = upload(b"<html><script>alert(1)</script></html>", "cat.jpg")
    assert disguised.status_code == 422 and disguised.json["error"]["code"] == "photo_refused"
    assert list(tmp_path.rglob("*.*")) == []
    added = upload(PNG, "anything.gif")
    assert added.status_code == 201 and len(added.json["photos"]) == 1
    [stored] = list(tmp_path.rglob("*.*"))
    assert stored.suffix == ".png" and stored.read_bytes() == PNG
    assert added.json["photos"][0].endswith(stored.name)
    db.session.rollback()
    events = db.session.scalars(select(OrderEvent.action).where(OrderEvent.order_id == order.id)
                                .order_by(OrderEvent.id)).all()
    assert events == ["submit", "attach"]


def test_grid_codes_and_usernames_typed_full_width_are_found(client, make, world):
    order = make.order(world["resident"], location_text="水晶城小区3号楼")
    worker, target = world["workers"][0], world["grids"][1]
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in worker.username)
    assigned = client.post(f"/api/v1/orders/{order.number}/assign", json={"assignee": wide}, headers=world["admin"])
    assert assigned.status_code == 200 and assigned.json["assignee"] == worker.name
    code = "".join(chr(ord(c) + 0xFEE0) for c in target.code)
    moved = client.post(f"/api/v1/orders/{order.number}/transfer", json={"reason": "在8号楼", "grid": code},
                        headers=world["admin"])
    assert moved.status_code == 200 and moved.json["grid"] == target.code


def test_an_assignee_named_by_a_number_beyond_32_bits_is_nobody(client, make, world):
    order = make.order(world["resident"])
    response = client.post(f"/api/v1/orders/{order.number}/assign", json={"assignee": "9" * 40},
                           headers=world["admin"])
    assert response.status_code == 422 and "assignee" in response.json["error"]["fields"]


def test_a_chat_message_of_invisible_characters_only_makes_no_order(app, db, make):
    from backend.chat import services as chat
    resident = make.resident()
    with app.test_request_context():
        assert chat.handle_message(resident.id, "\u202e\ufeff\x00", channel="wechat")["order_number"] is None
    assert db.session.scalar(select(Order)) is None


def test_a_building_number_beyond_any_building_routes_to_the_pool(client, world):
    response = client.post("/api/v1/orders", json={"text": "楼道灯坏了", "location_text": "水晶城小区" + "9" * 30 + "号楼"},
                           headers=world["mine"])
    assert response.status_code == 201 and "unplaced" in response.json["flags"]


def test_a_photo_is_served_to_its_readers_as_the_image_it_is_and_nothing_else_is(app, client, make, world):
    order = make.order(world["resident"])
    added = client.post(f"/api/v1/orders/{order.number}/photos", data={"photo": (io.BytesIO(PNG), "p.png")},
                        headers=world["mine"], content_type="multipart/form-data")
    url = added.json["photos"][0]
    served = client.get(url, headers=world["admin"])
    assert served.status_code == 200 and served.data == PNG and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff" and "private" in served.headers["Cache-Control"]
    stray = Path(app.config["UPLOAD_DIR"]) / "orders" / "stray.png"
    stray.write_bytes(PNG)  # on disk, but no order's photo
    for path in ("/uploads/orders/stray.png", "/uploads/..%2f..%2fetc/passwd", url + "%00"):
        assert client.get(path, headers=world["admin"]).status_code == 404, path
