from tests.factories import PASSWORD


def test_staff_login_gives_role_token_that_works(client, make):
    world = make.world()
    worker = world["workers"][0]
    response = client.post("/api/v1/auth/login", json={"username": worker.username, "password": PASSWORD})
    assert response.status_code == 200
    assert response.json["role"] == "grid_worker" and response.json["expires_in"] > 0
    assert "password" not in response.json


def test_wrong_password_and_unknown_user_look_the_same(client, make):
    worker = make.world()["workers"][0]
    wrong = client.post("/api/v1/auth/login", json={"username": worker.username, "password": "nope"})
    unknown = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json == unknown.json


def test_expired_token_is_refused(app, client, make, auth, monkeypatch):
    resident = make.resident()
    headers = auth.headers_for(resident)
    monkeypatch.setitem(app.config, "TOKEN_MAX_AGE_SECONDS", -1)
    response = client.get("/api/v1/orders", headers=headers)
    assert response.status_code == 401 and response.json["error"]["code"] == "token_expired"


def test_no_open_endpoint_issues_resident_tokens(client):
    assert client.post("/api/v1/auth/resident", json={"openid": "x"}).status_code == 404


def test_healthz_reports_each_part(client):
    body = client.get("/healthz").json
    assert body["db"] == "ok" and body["redis"] == "ok"
    assert body["bot"].startswith("down")  # nothing listens on the test RASA_URL
    assert body["status"] == "degraded"


def test_healthz_reports_redis_down(app, client, monkeypatch):
    from backend.extensions import redis

    def refuse():
        raise ConnectionError("refused")
    monkeypatch.setattr(redis.client, "ping", refuse)
    body = client.get("/healthz").json
    assert body["redis"].startswith("down") and body["db"] == "ok"


def test_openapi_document_lists_the_contract(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    for path in ("/api/v1/orders", "/api/v1/orders/{number}", "/api/v1/orders/{number}/cancel",
                 "/api/v1/orders/{number}/rating", "/api/v1/auth/login"):
        assert path in paths
    assert "OrderCreate" in spec["components"]["schemas"]


def test_docs_page_is_served_with_local_assets(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert b"/vendor/swagger-ui/" in page.data
