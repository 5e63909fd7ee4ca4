"""The small doors of issue 27's finding 7, each reproduced: login timing that told which usernames
exist, spreadsheet cells a tab or CR turns into formulas, a "photo" that was any URL, no HSTS in
production, links built on the caller's Host header, and three bodies that answered 500."""
import io
import statistics
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from backend.accounts import services as accounts, sessions
from backend.errors import Unauthorized
from backend.orders import desk
from backend.orders.models import Attachment, Order

PNG = (Path(__file__).resolve().parents[1] / "fixtures/wechat/media.png").read_bytes()


# --- login timing ------------------------------------------------------------------------------

def _seconds(username: str, password: str) -> float:
    start = time.perf_counter()
    with pytest.raises(Unauthorized):
        accounts.authenticate(username, password)
    return time.perf_counter() - start


def test_an_unknown_username_answers_as_slowly_as_a_known_one(db, make):
    """Unknown names were answered 12x faster (no hash checked): a clock told which names exist."""
    known = make.staff("grid_worker")
    gone = make.staff("grid_worker")
    gone.active = False
    db.session.commit()
    _seconds("nobody-here", "warm-up")  # the dummy hash is made once
    rounds = {"known": [], "unknown": [], "deactivated": []}
    for _ in range(5):
        rounds["known"].append(_seconds(known.username, "wrong-password"))
        rounds["unknown"].append(_seconds("nobody-here", "wrong-password"))
        rounds["deactivated"].append(_seconds(gone.username, "wrong-password"))
    known_time = statistics.median(rounds["known"])
    for who in ("unknown", "deactivated"):
        assert statistics.median(rounds[who]) > 0.5 * known_time, (who, rounds)


# --- CSV / XLSX formula injection --------------------------------------------------------------

@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=HYPERLINK(\"http://x\")", "\r=cmd|' /C calc'!A0"])
def test_every_cell_a_spreadsheet_would_run_is_guarded(cell):
    assert desk._safe_cell(cell) == "'" + cell


def test_the_csv_export_guards_a_text_that_starts_with_a_tab(client, db, make, auth):
    make.order(text="\t=HYPERLINK(\"http://evil.example\",\"点我\")", location_text="水晶城小区3号楼")
    admin = make.staff("sysadmin")
    with client.session_transaction() as session:
        sessions.sign_in(session, "staff", admin)
    body = client.get("/console/export/orders.csv").get_data(as_text=True)
    assert "'\t=HYPERLINK" in body


# --- photos are uploads, not URLs --------------------------------------------------------------

def test_a_resident_cannot_attach_an_arbitrary_url_as_a_photo(client, db, make, auth):
    resident = make.resident()
    me = auth.headers_for(resident)
    refused = client.post("/api/v1/orders", json={"text": "楼道灯坏了", "photos": ["https://evil.example/x.jpg"]},
                          headers=me)
    assert refused.status_code == 422 and "photos" in refused.json["error"]["fields"]
    # Not another resident's upload either: attaching it would make it readable to whoever sees this order.
    other = make.order(make.resident())
    uploaded = client.post(f"/api/v1/orders/{other.number}/photos", data={"photo": (io.BytesIO(PNG), "p.png")},
                           headers=auth.headers_for(db.session.get(type(resident), other.resident_id)),
                           content_type="multipart/form-data")
    theirs = uploaded.json["photos"][0]
    assert client.post("/api/v1/orders", json={"text": "楼道灯坏了", "photos": [theirs]},
                       headers=me).status_code == 422
    # One's own upload may go with a new order.
    mine = make.order(resident)
    own = client.post(f"/api/v1/orders/{mine.number}/photos", data={"photo": (io.BytesIO(PNG), "p.png")},
                      headers=me, content_type="multipart/form-data").json["photos"][0]
    made = client.post("/api/v1/orders", json={"text": "楼道灯又坏了", "photos": [own]}, headers=me)
    assert made.status_code == 201 and made.json["photos"] == [own]


def test_a_link_typed_to_the_bot_is_no_photo(client, db, make, auth):
    resident = make.resident()
    made = client.post("/api/v1/bot/orders", json={"sender_id": auth.sender(resident), "text": "路灯不亮",
                                                   "photo_url": "https://evil.example/x.jpg"}, headers=auth.bot())
    assert made.status_code == 201
    db.session.rollback()
    order = db.session.scalar(select(Order).where(Order.number == made.json["number"]))
    assert db.session.scalars(select(Attachment).where(Attachment.order_id == order.id)).all() == []


# --- HSTS and links built on configuration -----------------------------------------------------

def test_production_answers_carry_hsts(app, client, monkeypatch):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    for path in ("/healthz", "/console/login", "/api/v1/openapi.json"):
        hsts = client.get(path).headers.get("Strict-Transport-Security", "")
        assert "max-age=31536000" in hsts, path


def test_oauth_and_open311_links_come_from_configuration_not_the_host_header(app, client, stub, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://mailbox.example.cn")
    forged = {"Host": "evil.example"}
    authorize = parse_qs(urlsplit(client.get("/m/login", headers=forged).location).query)
    assert authorize["redirect_uri"] == ["https://mailbox.example.cn/m/oauth/callback"]
    discovery = client.get("/open311/v2/discovery.json", headers=forged).json
    assert discovery["endpoints"][0]["url"] == "https://mailbox.example.cn/open311/v2"


# --- bodies that answered 500 ------------------------------------------------------------------

BAD_RATINGS = [{"satisfaction": {}}, {"satisfaction": []}, {"satisfaction": ["满意"]}, {"satisfaction": {"满意": 1}},
               [], ["满意"], {"satisfaction": None, "score": {}}]


@pytest.mark.parametrize("body", BAD_RATINGS, ids=repr)
def test_a_rating_that_is_no_word_is_refused_as_input(client, db, make, auth, body):
    resident = make.resident()
    order = make.order(resident)
    answer = client.post(f"/api/v1/orders/{order.number}/rating", json=body, headers=auth.headers_for(resident))
    assert answer.status_code == 422, answer.get_data(as_text=True)
    bot_body = {**body, "sender_id": auth.sender(resident)} if isinstance(body, dict) else body
    answer = client.post(f"/api/v1/bot/orders/{order.number}/rating", json=bot_body, headers=auth.bot())
    assert answer.status_code == 422, answer.get_data(as_text=True)


@pytest.mark.parametrize("target", ["/console/orders\r\nSet-Cookie: x=1", "/console/\n", "/console/\rx", "/console/\x00"])
def test_a_line_break_in_the_console_logins_next_is_refused_not_a_500(client, db, make, target):
    staff = make.staff("community_admin", community=make.community(make.street()))
    staff.set_password("right-pass-1")
    db.session.commit()
    client.get("/console/login")
    with client.session_transaction() as session:
        session["csrf"] = "login-csrf"
    answer = client.post("/console/login", query_string={"next": target},
                         data={"username": staff.username, "password": "right-pass-1", "csrf": "login-csrf"})
    assert answer.status_code == 400
    with client.session_transaction() as session:
        assert "staff_id" not in session


def test_a_line_break_in_the_h5_logins_next_leads_home_not_to_a_500(client, stub, db):
    """The same door on the resident pages: `next` is kept through WeChat's OAuth round trip and
    redirected to at its end, so it must be one of our pages without a line break."""
    stub.config(oauth_users={"wang": "o-wang-next"})
    to_wechat = client.get("/m/login", query_string={"next": "/m/\r\nSet-Cookie: x=1"})
    wechat = requests.get(to_wechat.location, cookies={"stub_wechat_user": "wang"}, allow_redirects=False, timeout=5)
    back = urlsplit(wechat.headers["Location"])
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 302 and done.location.endswith("/m/")
