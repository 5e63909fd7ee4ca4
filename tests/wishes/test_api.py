"""The resident's wish API (what the mini-program calls): a resident posts a wish, the community
approves it, a registered volunteer sees it masked on the board, claims it, fulfils it, and the
wisher confirms — the same table as the H5 pages, refusals in Chinese."""
from backend.wishes.models import Wish


def test_post_approve_claim_fulfil_confirm_through_the_api(client, auth, board, db):
    wisher, volunteer = board["people"]["李桂兰"], board["people"]["赵敏"]
    body = {"community": board["community"].id, "text": "想请人教我用手机挂号，电话13912345678", "client_id": "w-1"}
    posted = client.post("/api/v1/wishes", json=body, headers=auth.headers_for(wisher))
    assert posted.status_code == 201, posted.json
    wish = posted.json
    assert wish["state"] == "submitted" and wish["mine"] and "13912345678" in wish["text"]
    assert "withdraw" in wish["allowed_actions"]
    again = client.post("/api/v1/wishes", json=body, headers=auth.headers_for(wisher))
    assert again.json["id"] == wish["id"]  # the same client_id: the first wish, not a second
    assert db.session.query(Wish).count() == 1

    from backend.wishes import services
    services.perform(board["admin_actor"], db.session.get(Wish, wish["id"]), "approve")

    seen = client.get("/api/v1/wishes", headers=auth.headers_for(volunteer)).json
    assert [w["id"] for w in seen["open"]] == [wish["id"]]
    assert "13912345678" not in str(seen["open"])  # another member reads it masked
    assert seen["memberships"][0]["kind"] == "volunteer"
    detail = client.get(f"/api/v1/wishes/{wish['id']}", headers=auth.headers_for(volunteer)).json
    assert detail["allowed_actions"] == ["claim"] and "13912345678" not in detail["text"]

    claimed = client.post(f"/api/v1/wishes/{wish['id']}/claim", json={}, headers=auth.headers_for(volunteer))
    assert claimed.status_code == 200 and claimed.json["state"] == "claimed"
    assert "13912345678" in claimed.json["text"]  # the one who holds it reads it as written
    missing = client.post(f"/api/v1/wishes/{wish['id']}/fulfil", json={}, headers=auth.headers_for(volunteer))
    assert missing.status_code == 422
    done = client.post(f"/api/v1/wishes/{wish['id']}/fulfil", json={"evidence": "已上门教会", "hours": 1.5},
                       headers=auth.headers_for(volunteer))
    assert done.status_code == 200, done.json
    confirmed = client.post(f"/api/v1/wishes/{wish['id']}/confirm", json={}, headers=auth.headers_for(wisher))
    assert confirmed.status_code == 200 and confirmed.json["allowed_actions"] == []


def test_refusals_are_chinese_and_change_nothing(client, auth, board, publish, db):
    wish = publish()
    own = client.post(f"/api/v1/wishes/{wish.id}/claim", json={}, headers=auth.headers_for(board["people"]["李桂兰"]))
    assert own.status_code in (403, 409) and not own.json["error"]["message"].isascii()
    stranger = board["people"]["钱多"]  # registered nowhere: the wish is out of sight
    assert client.get(f"/api/v1/wishes/{wish.id}", headers=auth.headers_for(stranger)).status_code == 404
    assert client.post("/api/v1/wishes", json={"community": board["community"].id, "text": "x", "extra": 1},
                       headers=auth.headers_for(stranger)).status_code == 422
    db.session.rollback()
    assert db.session.get(Wish, wish.id).state == "published"


def test_a_resident_registers_as_a_volunteer_and_then_sees_the_board(client, auth, board, publish):
    wish = publish()
    newcomer = board["people"]["钱多"]
    assert client.get("/api/v1/wishes", headers=auth.headers_for(newcomer)).json["open"] == []
    joined = client.post("/api/v1/volunteers", json={"community": board["community"].id, "kind": "volunteer",
                                                     "name": "钱多", "skills": "陪伴，跑腿"},
                         headers=auth.headers_for(newcomer))
    assert joined.status_code == 201 and joined.json["kind_label"]
    assert [w["id"] for w in client.get("/api/v1/wishes", headers=auth.headers_for(newcomer)).json["open"]] == [wish.id]
    staff = client.post("/api/v1/volunteers", json={"community": board["community"].id, "kind": "volunteer",
                                                    "name": "周主任"}, headers=auth.headers_for(board["admin"]))
    assert staff.status_code == 403
