"""Issue 27, finding 1: the bot's own servers spoke for anyone. Rasa (--enable-api, no token) and the
action server listened on every interface, and conversation ids were "resident-<id>": a POST to the
REST webhook as "resident-47" read and cancelled that resident's orders, a tracker read another's
chat, a direct call to the action server acted for a third.

Now Rasa's REST webhook and HTTP API want RASA_AUTH_TOKEN, the action server wants the secret Rasa
sends, both listen on 127.0.0.1, and a conversation id carries an HMAC tag nobody can guess."""
import socket

import pytest
import requests



@pytest.fixture
def doors(app, rasa_stack):
    """The shared stack's doors: these tests only knock, they stop nothing."""
    return {"rasa": rasa_stack.rasa_url, "actions": rasa_stack.actions_url,
            "token": app.config["RASA_AUTH_TOKEN"]}


def _turn_body(sender, text="帮我查一下我上次报的那个事怎么样了"):
    return {"sender": sender, "message": text}


def test_rasa_rest_webhook_refuses_a_turn_without_the_token(doors, auth, make, db):
    resident = make.resident()
    sender = auth.sender(resident)
    url = doors["rasa"] + "/webhooks/rest/webhook"
    assert requests.post(url, json=_turn_body(sender), timeout=30).status_code == 401
    assert requests.post(url, json=_turn_body(sender), timeout=30,
                         headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert requests.post(url, json=_turn_body(sender), params={"token": "wrong"}, timeout=30).status_code == 401
    ok = requests.post(url, json=_turn_body(sender, "你好"), timeout=60,
                       headers={"Authorization": f"Bearer {doors['token']}"})
    assert ok.status_code == 200 and isinstance(ok.json(), list)


def test_rasa_tracker_and_model_api_refuse_a_call_without_the_token(doors, auth, make, db):
    sender = auth.sender(make.resident())
    rasa, token = doors["rasa"], doors["token"]
    calls = [("GET", f"/conversations/{sender}/tracker", None), ("POST", "/model/parse", {"text": "灯坏了"}),
             ("PUT", "/model", {"model_file": "/tmp/x.tar.gz"}), ("DELETE", "/model", None),
             ("POST", f"/conversations/{sender}/trigger_intent", {"name": "greet"}), ("GET", "/status", None)]
    for method, path, body in calls:
        for params in (None, {"token": "wrong"}):
            answer = requests.request(method, rasa + path, json=body, params=params, timeout=30)
            assert answer.status_code == 401, (method, path, params, answer.status_code)
    assert requests.get(f"{rasa}/conversations/{sender}/tracker", params={"token": token}, timeout=30).status_code == 200
    assert requests.post(f"{rasa}/model/parse", json={"text": "灯坏了"}, params={"token": token},
                         timeout=30).status_code == 200


def test_the_action_server_refuses_a_direct_call_without_the_secret(doors, auth, make, db):
    resident = make.resident()
    order = make.order(resident)
    sender = auth.sender(resident)
    call = {"next_action": "action_cancel_order", "sender_id": sender, "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": sender, "slots": {"order_number": order.number}, "latest_message": {},
                        "events": [], "paused": False, "followup_action": None, "active_loop": {},
                        "latest_action_name": None}}
    url = doors["actions"] + "/webhook"
    assert requests.post(url, json=call, timeout=30).status_code == 401
    assert requests.post(url, json=call, headers={"X-Actions-Secret": "wrong"}, timeout=30).status_code == 401
    assert requests.get(doors["actions"] + "/actions", timeout=30).status_code == 401
    assert requests.get(doors["actions"] + "/health", timeout=30).status_code == 200
    db.session.expire_all()
    assert order.state != "cancelled"


def test_rasa_still_reaches_its_actions_with_the_secret(doors, client, auth, make, db):
    """A turn that needs a custom action (the status check) works end to end: Rasa sends the
    secret, the action server lets it in, the backend accepts the tagged conversation id."""
    resident = make.resident()
    make.world()
    order = make.order(resident)
    db.session.rollback()
    reply = client.post("/api/v1/chat", json={"text": "帮我查一下我上次报的那个事怎么样了"},
                        headers=auth.headers_for(resident)).json
    assert reply["bot"] == "ok" and any(order.number in text for text in reply["replies"]), reply


def _outside_address() -> str | None:
    """This machine's address on its network (not the loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_rasa_and_the_action_server_listen_on_the_loopback_only(doors):
    address = _outside_address()
    if address is None:
        pytest.skip("this machine has no address besides the loopback")
    for url in (doors["rasa"], doors["actions"]):
        port = int(url.rsplit(":", 1)[1])
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((address, port)) != 0, f"{url} answers on {address}"
