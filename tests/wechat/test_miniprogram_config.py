"""GET /api/v1/miniprogram/config: the subscribe-message template ids come from the backend's
configuration (the mini-program hard-codes none), with the photo limits and the registered buildings."""


def test_the_config_names_the_templates_limits_and_buildings(client, auth, make, app, monkeypatch):
    world = make.world()
    building = make.building(world["grids"][0], compound="水晶城小区", number=33)
    monkeypatch.setitem(app.config, "WECHAT_TEMPLATES", {"claimed": "T-C", "escalated": "", "resolved": "T-R",
                                                         "reopened": "T-O", "reply": "T-Y"})
    answer = client.get("/api/v1/miniprogram/config", headers=auth.headers_for(make.resident()))
    assert answer.status_code == 200
    config = answer.json
    assert config["templates"] == {"claimed": "T-C", "resolved": "T-R", "reopened": "T-O", "reply": "T-Y"}
    assert config["ask_on_submit"] == ["T-C", "T-R", "T-Y"]  # WeChat takes at most three at once
    assert config["photo_max_count"] == 9 and config["photo_max_bytes"] == app.config["PHOTO_MAX_BYTES"]
    labels = {b["label"]: b["id"] for p in config["places"] for b in p["buildings"]}
    assert labels["水晶城小区33号楼"] == building.id


def test_only_residents_read_it(client, auth, make):
    assert client.get("/api/v1/miniprogram/config").status_code == 401
    staff = make.staff("sysadmin")
    assert client.get("/api/v1/miniprogram/config", headers=auth.headers_for(staff)).status_code == 403
