"""Issue 27, finding 1, without starting the bot: conversation ids nobody can guess, and no
production start without the bot's secrets."""
import os
import re
import subprocess

import pytest

from backend.chat import gateway
from backend.config import ConfigurationError, ProductionConfig, check_production
from tests.conftest import ROOT


def test_a_conversation_id_is_not_the_residents_number(app, monkeypatch):
    with app.app_context():
        sender = gateway.sender_id(47)
        assert sender != "resident-47" and re.fullmatch(r"r47-[0-9a-f]{32}", sender)
        assert gateway.resident_id_of(sender) == 47
        # Each resident's tag is its own: knowing yours tells nothing of your neighbour's.
        assert gateway.sender_id(48)[4:] != sender[4:]
        for guess in ("resident-47", "r47-" + "0" * 32, f"r48-{sender[4:]}", sender.upper(), sender + "0"):
            assert gateway.resident_id_of(guess) is None, guess
        monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret")
        assert gateway.sender_id(47) != sender and gateway.resident_id_of(sender) is None


def test_the_bot_api_answers_a_guessed_conversation_id_with_nobody(client, make, auth):
    resident = make.resident()
    make.order(resident)
    real = auth.sender(resident)
    guessed = f"r{resident.id}-{'0' * 32}"
    assert client.get("/api/v1/bot/orders", query_string={"sender_id": real}, headers=auth.bot()).status_code == 200
    for sender in (guessed, f"resident-{resident.id}"):
        answer = client.get("/api/v1/bot/orders", query_string={"sender_id": sender}, headers=auth.bot())
        assert answer.status_code in (404, 422) and "orders" not in answer.json, sender


def test_the_gateway_gives_rasa_the_tagged_id_and_the_token(app, monkeypatch):
    sent = []

    class Session:
        def post(self, url, json, timeout, headers, params):
            sent.append((url, json, headers, params))
            raise gateway.requests.ConnectionError("nobody home")
    monkeypatch.setattr(gateway, "_session", lambda: Session())
    with app.test_request_context():
        for call in (lambda: gateway.turn(47, "你好"), lambda: gateway.parse("你好")):
            with pytest.raises(gateway.BotUnavailable):
                call()
        token, sender = app.config["RASA_AUTH_TOKEN"], gateway.sender_id(47)
    (turn_url, turn_body, turn_headers, _), (parse_url, _, _, parse_params) = sent
    assert turn_url.endswith("/webhooks/rest/webhook") and turn_body["sender"] == sender
    assert turn_headers["Authorization"] == f"Bearer {token}"
    assert parse_url.endswith("/model/parse") and parse_params == {"token": token}


def _prod(**overrides):
    cfg = {k: getattr(ProductionConfig, k) for k in dir(ProductionConfig) if k.isupper()}
    cfg.update(WECHAT_APPID="wx1234567890abcdef", WECHAT_SECRET="s" * 32, WECHAT_TOKEN="t0ken",
               WECHAT_AES_KEY="K" * 43, SECRET_KEY="k" * 40, WECHAT_API_BASE="https://api.weixin.qq.com/",
               WECHAT_OAUTH_BASE="https://open.weixin.qq.com/connect/", BOT_SERVICE_TOKEN="b" * 40,
               RASA_AUTH_TOKEN="r" * 40, WECHAT_SAFE_MODE=True, PUBLIC_URL="https://mailbox.example.cn")
    cfg.update(overrides)
    return cfg


def test_production_refuses_to_start_without_rasas_token():
    check_production(_prod())
    for missing in ("", ProductionConfig.RASA_AUTH_TOKEN):
        with pytest.raises(ConfigurationError, match="RASA_AUTH_TOKEN"):
            check_production(_prod(RASA_AUTH_TOKEN=missing))


@pytest.mark.parametrize("missing", ["RASA_AUTH_TOKEN", "ACTIONS_SECRET"])
def test_the_bot_refuses_to_start_in_production_without_its_secrets(missing):
    env = {k: v for k, v in os.environ.items() if k not in ("RASA_AUTH_TOKEN", "ACTIONS_SECRET")}
    env.update(RED_MAILBOX_ENV="production", RASA_AUTH_TOKEN="r" * 40, ACTIONS_SECRET="a" * 40)
    del env[missing]
    script = f". {ROOT}/scripts/bot-env.sh && echo started"
    refused = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and missing in refused.stderr and "started" not in refused.stdout
    env[missing] = "x" * 40
    assert subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          timeout=30).stdout.strip() == "started"


def test_the_action_server_will_not_start_without_its_secret():
    env = {**os.environ, "ACTIONS_SECRET": ""}
    refused = subprocess.run([str(ROOT / "bot/.venv/bin/python"), "actions_server.py", "--port", "1"],
                             cwd=ROOT / "bot", env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "ACTIONS_SECRET" in refused.stderr
