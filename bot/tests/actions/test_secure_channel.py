"""bot/secure_channel.py: the REST channel answers only with the token, and a turn that failed, or
whose tracker could not be saved in the shared store, is a 503 rather than a 200 with what was said
so far (Rasa's own REST channel logs the error and answers 200). Driven through Sanic's ASGI
interface, with the turn handler stood in for."""
import asyncio
import json

from sanic import Sanic

import redis_stores
import secure_channel

TOKEN = "channel-test-token"


_HANDLER = {}
_LOOP = asyncio.new_event_loop()  # Sanic sets an app up once (its TouchUp rewrites classes): one app, one loop


def _app():
    if "app" not in _HANDLER:
        async def on_new_message(message):
            await _HANDLER["turn"](message)
        app = Sanic("channel_test")
        app.blueprint(secure_channel.TokenRestInput(TOKEN).blueprint(on_new_message), url_prefix="/webhooks/rest")
        app.asgi = True
        _LOOP.run_until_complete(app._startup())
        _HANDLER["app"] = app
    return _HANDLER["app"]


def _post(on_new_message, token=TOKEN, text="你好"):
    app = _app()
    _HANDLER["turn"] = on_new_message
    body = json.dumps({"sender": "r1-abc", "message": text}).encode()
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/webhooks/rest/webhook", "raw_path": b"/webhooks/rest/webhook", "query_string": b"",
             "root_path": "", "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                                          (b"authorization", f"Bearer {token}".encode())],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}
    _LOOP.run_until_complete(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(payload or b"null")


def test_a_turn_kept_is_answered_with_what_the_bot_said():
    async def bot(message):
        await message.output_channel.send_text_message(message.sender_id, "您好")
    assert _post(bot) == (200, [{"recipient_id": "r1-abc", "text": "您好"}])


def test_no_token_no_turn():
    called = []

    async def bot(message):
        called.append(message)
    status, _ = _post(bot, token="wrong")
    assert status == 401 and called == []


def test_a_turn_that_raised_is_a_503():
    async def bot(message):
        await message.output_channel.send_text_message(message.sender_id, "您好")
        raise RuntimeError("Could not acquire lock")
    status, body = _post(bot)
    assert status == 503 and body["error"]["code"] == "turn_not_kept"


def test_a_turn_whose_tracker_was_not_saved_is_a_503():
    async def bot(message):  # as FailSafeTrackerStore does: our store's save failed, the turn goes on
        await message.output_channel.send_text_message(message.sender_id, "您好")
        redis_stores.TURN_NOT_KEPT.set(True)
    status, _ = _post(bot)
    assert status == 503
