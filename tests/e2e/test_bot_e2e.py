"""End to end through the real Rasa server and action server, against the test backend served
over HTTP: a resident reports a broken stairway light in chat and ends up with a routed,
categorised order in the grid's queue. Then the Rasa server is stopped and chat still works."""
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, _free_port, wait_for_http

pytestmark = pytest.mark.e2e

# How a resident would answer each of the bot's questions (matched on words in the question).
ANSWERS = [("哪儿", "水晶城小区3号楼2单元"), ("小区", "水晶城小区3号楼2单元"), ("照片", "没有"),
           ("手机号", "不用"), ("电话", "不用"), ("核对", "对"), ("登记", "好")]


@pytest.fixture(scope="module")
def rasa_stack(app, live_server, redis_url, tmp_path_factory):
    if not (ROOT / "bot" / "models" / "current.tar.gz").exists():
        pytest.fail("no trained bot model: scripts/bot-train.sh (run by make test) trains it")
    logs = tmp_path_factory.mktemp("rasa-logs")
    rasa_port, actions_port = _free_port(), _free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "REDIS_BOT_DB": "3", "RASA_PORT": str(rasa_port),
           "ACTIONS_PORT": str(actions_port), "ACTIONS_URL": f"http://127.0.0.1:{actions_port}",
           "BACKEND_URL": live_server, "BOT_SERVICE_TOKEN": app.config["BOT_SERVICE_TOKEN"]}
    procs = {}
    procs["actions"] = subprocess.Popen([str(ROOT / "scripts/bot-actions.sh")], env=env,
                                        stdout=open(logs / "actions.log", "w"), stderr=subprocess.STDOUT)
    procs["rasa"] = subprocess.Popen([str(ROOT / "scripts/bot-serve.sh")], env=env,
                                     stdout=open(logs / "rasa.log", "w"), stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{actions_port}/health", 120, procs["actions"])
        wait_for_http(f"http://127.0.0.1:{rasa_port}/status", 300, procs["rasa"])
    except Exception:
        for name in procs:
            print(f"--- {name} log ---\n" + Path(logs / f"{name}.log").read_text()[-4000:])
        raise
    original = app.config["RASA_URL"]
    app.config["RASA_URL"] = f"http://127.0.0.1:{rasa_port}"
    app.config["BOT_TIMEOUT_SECONDS"] = 30
    yield procs
    app.config["RASA_URL"], app.config["BOT_TIMEOUT_SECONDS"] = original, 3.0
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)


def _chat(client, headers, text):
    response = client.post("/api/v1/chat", json={"text": text}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_reporting_a_broken_light_ends_in_the_grids_queue(rasa_stack, client, make, auth, db):
    world = make.world()
    headers = auth.headers_for(world["resident"])
    db.session.rollback()
    reply = _chat(client, headers, "3号楼2单元楼道灯坏了好几天了")
    transcript = [("resident", "3号楼2单元楼道灯坏了好几天了"), ("bot", reply["replies"])]
    for _ in range(8):
        if reply["order_number"]:
            break
        assert reply["bot"] == "ok" and reply["replies"], transcript
        question = reply["replies"][-1]
        answer = next((a for key, a in ANSWERS if key in question), None)
        assert answer, f"unexpected question from the bot: {transcript}"
        reply = _chat(client, headers, answer)
        transcript += [("resident", answer), ("bot", reply["replies"])]
    number = reply["order_number"]
    assert number, transcript
    assert any(number in text for text in reply["replies"]), transcript

    order = client.get(f"/api/v1/orders/{number}", headers=headers).json
    assert order["grid"] == world["grids"][0].name
    assert order["category"].startswith("城乡建设")
    assert order["events"][0]["actor_type"] == "bot"
    queue = client.get("/api/v1/queue", headers=auth.headers_for(world["workers"][0])).json
    assert number in str(queue)
    other_queue = client.get("/api/v1/queue", headers=auth.headers_for(world["workers"][1])).json
    assert number not in str(other_queue)


def test_status_check_by_my_last_one(rasa_stack, client, make, auth, db):
    resident = make.resident()
    make.world()
    order = make.order(resident)
    db.session.rollback()
    reply = _chat(client, auth.headers_for(resident), "帮我查一下我上次报的那个事怎么样了")
    assert any(order.number in text for text in reply["replies"]), reply


def test_with_the_rasa_server_stopped_chat_still_answers_and_stores_the_order(rasa_stack, client, make, auth, db):
    rasa = rasa_stack["rasa"]
    rasa.terminate()
    rasa.wait(30)
    world = make.world()
    headers = auth.headers_for(world["resident"])
    db.session.rollback()
    reply = _chat(client, headers, "水晶城小区8号楼门口的窨井盖松了 车压过去哐哐响")
    assert reply["bot"] == "unavailable" and reply["order_number"]
    assert reply["order_number"] in reply["replies"][0]
    order = client.get(f"/api/v1/orders/{reply['order_number']}", headers=headers).json
    assert order["grid"] == world["grids"][1].name and "bot_unavailable" in order["flags"]
