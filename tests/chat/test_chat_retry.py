"""A chat turn retried with the same client_id after its first attempt reached the bot (the web node
died before answering, a worker died mid-push) is answered from the bot's tracker: the resident's
message goes to the bot once, and the retry gets what the bot said to it then. The several-node
drill (bench/cluster.py --bot) checks it with real Rasa replicas killed; here Rasa is stood in for."""
import time

from backend.chat import gateway, services


def _rasa(monkeypatch, replies, tracker_events):
    """A bot answering every turn with `replies`, and whose tracker holds `tracker_events`."""
    sent = []

    def post(path, payload):
        sent.append(payload)
        return [{"text": t} for t in replies]
    monkeypatch.setattr(gateway, "_post", post)
    monkeypatch.setattr(gateway, "_tracker", lambda resident_id, events="APPLIED": {"events": tracker_events})
    return sent


def test_a_retried_turn_the_bot_logged_is_answered_from_the_tracker(client, make, auth, monkeypatch):
    world = make.world()
    headers = auth.headers_for(world["resident"])
    body = {"text": "我的工单到哪了", "client_id": "msg-retry-1"}
    logged = [{"event": "user", "text": body["text"], "metadata": {"idempotency_key": "chat:msg-retry-1"}},
              {"event": "bot", "text": "您的工单正在处理。", "data": {"buttons": [{"title": "催办"}]}},
              {"event": "action", "name": "action_listen"}]
    sent = _rasa(monkeypatch, ["您的工单正在处理。"], [])
    first = client.post("/api/v1/chat", json=body, headers=headers).json
    assert first["replies"] == ["您的工单正在处理。"] and len(sent) == 1
    assert sent[0]["metadata"]["idempotency_key"] == "chat:msg-retry-1"

    monkeypatch.setattr(gateway, "_tracker", lambda resident_id, events="APPLIED": {"events": logged})
    again = client.post("/api/v1/chat", json=body, headers=headers).json
    assert len(sent) == 1, "the retry sent the message to the bot a second time"
    assert again["replies"] == ["您的工单正在处理。"] and again["bot"] == "ok"
    assert again["buttons"] == [{"title": "催办", "payload": "催办"}]
    # another message is a new turn
    client.post("/api/v1/chat", json={**body, "client_id": "msg-retry-2"}, headers=headers)
    assert len(sent) == 2


def test_a_retry_whose_first_attempt_failed_goes_to_the_bot(client, make, auth, monkeypatch, redis):
    """The first attempt was refused (a 503: the bot could not keep the turn): the retry sends it."""
    world = make.world()
    headers = auth.headers_for(world["resident"])
    calls = []

    def refused_then_answered(path, payload):
        calls.append(payload)
        if len(calls) == 1:
            raise gateway.BotUnavailable("HTTPError: 503")
        return [{"text": "您好，请问有什么可以帮您？"}]
    monkeypatch.setattr(gateway, "_post", refused_then_answered)
    monkeypatch.setattr(gateway, "_tracker", lambda resident_id, events="APPLIED": {"events": []})
    body = {"text": "我家楼下的路灯不亮了", "client_id": "msg-refused-1"}
    first = client.post("/api/v1/chat", json=body, headers=headers).json
    assert first["bot"] == "unavailable" and first["order_number"]
    assert redis.client.get(f"chat:turn:{world['resident'].id}:chat:msg-refused-1") is None


def test_a_retry_never_sends_a_turn_that_may_still_be_in_the_bot(client, make, auth, monkeypatch, redis):
    """The first attempt timed out long ago and is not in the tracker (the bot may still be taking
    it, e.g. waiting for the conversation's lock): the retry does not send it a second time, the
    fallback answers."""
    world = make.world()
    headers = auth.headers_for(world["resident"])
    sent = _rasa(monkeypatch, ["您好"], [])
    patience = client.application.config["BOT_TIMEOUT_SECONDS"] + 1
    redis.client.set(f"chat:turn:{world['resident'].id}:chat:msg-slow-1", time.time() - 2 * patience)
    answer = client.post("/api/v1/chat", json={"text": "我家楼下的路灯不亮了", "client_id": "msg-slow-1"},
                         headers=headers).json
    assert sent == [] and answer["bot"] == "unavailable" and answer["order_number"]


def test_a_retry_of_a_turn_long_over_and_never_logged_goes_to_the_bot(client, make, auth, monkeypatch, redis):
    """Its replica died in it, long ago, and the tracker never had it: the retry sends it."""
    world = make.world()
    headers = auth.headers_for(world["resident"])
    sent = _rasa(monkeypatch, ["您好，请问有什么可以帮您？"], [])
    redis.client.set(f"chat:turn:{world['resident'].id}:chat:msg-lost-1", time.time() - 3600)
    answer = client.post("/api/v1/chat", json={"text": "你好", "client_id": "msg-lost-1"}, headers=headers).json
    assert answer["replies"] == ["您好，请问有什么可以帮您？"] and len(sent) == 1


def test_a_timed_out_turn_keeps_its_mark(app, make, db, monkeypatch, redis):
    world = make.world()
    db.session.commit()

    def slow(path, payload):
        raise gateway.BotUnavailable("ReadTimeout", may_be_running=True)
    monkeypatch.setattr(gateway, "_post", slow)
    with app.test_request_context():
        services.handle_message(world["resident"].id, "我家楼下的路灯不亮了", client_id="msg-slow-2")
    assert float(redis.client.get(f"chat:turn:{world['resident'].id}:chat:msg-slow-2")) > 0


def test_turns_without_a_client_id_never_ask_the_tracker(client, make, auth, monkeypatch):
    world = make.world()
    sent = _rasa(monkeypatch, ["好的"], [])
    asked = []
    monkeypatch.setattr(gateway, "earlier_turn", lambda *a: asked.append(a))
    for _ in range(2):
        client.post("/api/v1/chat", json={"text": "你好"}, headers=auth.headers_for(world["resident"]))
    assert len(sent) == 2 and asked == []


def test_a_turn_is_marked_answered_once_the_bot_answered(app, make, db, monkeypatch, redis):
    world = make.world()
    db.session.commit()
    _rasa(monkeypatch, ["好的"], [])
    with app.test_request_context():
        services.handle_message(world["resident"].id, "你好", client_id="msg-mark-1")
    assert redis.client.get(f"chat:turn:{world['resident'].id}:chat:msg-mark-1") == "0"


def test_a_retried_answer_the_bot_took_is_not_asked_back_once_the_bot_stopped_asking(client, make, auth, monkeypatch):
    """"对" went to the bot (it was asking); the web node died before answering, and by the client's
    retry the bot asks nothing any more: the retry gets the bot's answer from the tracker, not
    the backend's "what do you mean?"."""
    world = make.world()
    headers = auth.headers_for(world["resident"])
    asking = [{"event": "bot", "text": "没错的话回复“对”，我马上提交："}]
    sent = _rasa(monkeypatch, ["已提交，工单号 SQ-1。"], asking)
    body = {"text": "对", "client_id": "msg-confirm-1"}
    first = client.post("/api/v1/chat", json=body, headers=headers).json
    assert first["replies"] == ["已提交，工单号 SQ-1。"] and len(sent) == 1
    logged = asking + [{"event": "user", "text": "对", "metadata": {"idempotency_key": "chat:msg-confirm-1"}},
                       {"event": "bot", "text": "已提交，工单号 SQ-1。"}, {"event": "action", "name": "action_listen"}]
    monkeypatch.setattr(gateway, "_tracker", lambda resident_id, events="APPLIED": {"events": logged})
    again = client.post("/api/v1/chat", json=body, headers=headers).json
    assert again["replies"] == ["已提交，工单号 SQ-1。"] and again["bot"] == "ok" and len(sent) == 1
    # a new "对" when the bot asks nothing is asked back, as before
    other = client.post("/api/v1/chat", json={**body, "client_id": "msg-confirm-2"}, headers=headers).json
    assert other["bot"] == "skipped" and len(sent) == 1


def test_a_retried_short_answer_the_bot_may_still_be_taking_is_asked_again_not_refused(
        client, make, auth, monkeypatch, redis):
    """The n=300 drill's given-up turn: an "对" retried while its first attempt may still be in the
    bot cannot be stored as an order; the answer is a 503 the client retries (in Chinese), not a
    422 that tells it the message itself was wrong, and the turn is still not sent twice."""
    world = make.world()
    headers = auth.headers_for(world["resident"])
    sent = _rasa(monkeypatch, ["好的，已为您登记。"], [])
    patience = client.application.config["BOT_TIMEOUT_SECONDS"] + 1
    mark = f"chat:turn:{world['resident'].id}:chat:msg-yes-1"
    redis.client.set(mark, time.time() - 2 * patience)
    monkeypatch.setattr(services, "_bot_awaits", lambda resident_id: True)
    busy = client.post("/api/v1/chat", json={"text": "对", "client_id": "msg-yes-1"}, headers=headers)
    assert busy.status_code == 503 and busy.json["error"]["code"] == "turn_in_progress", busy.json
    assert "稍后" in busy.json["error"]["message"] and sent == []
    redis.client.set(mark, time.time() - 4 * patience)  # long over and never logged: sent now, once
    again = client.post("/api/v1/chat", json={"text": "对", "client_id": "msg-yes-1"}, headers=headers)
    assert again.status_code == 200 and again.json["replies"] == ["好的，已为您登记。"] and len(sent) == 1


def test_an_answer_to_the_bot_it_refused_just_now_is_a_503_to_send_again_not_a_422(client, make, auth, monkeypatch,
                                                                                   redis):
    """The bot asked 「对吗？」 and refused the resident's 对 (a 503: a lock or the tracker failed):
    the fallback cannot make an order of 对, and the resident's answer was not wrong — 503 bot_busy,
    which the client sends again, and the next attempt goes to the bot."""
    world = make.world()
    headers = auth.headers_for(world["resident"])
    calls = []

    def refused_then_answered(path, payload):
        calls.append(payload)
        if len(calls) == 1:
            raise gateway.BotUnavailable("HTTPError: 503")
        return [{"text": "好的，已为您登记。"}]
    monkeypatch.setattr(gateway, "_post", refused_then_answered)
    monkeypatch.setattr(gateway, "_tracker", lambda resident_id, events="APPLIED": {"events": []})
    monkeypatch.setattr(services, "_bot_awaits", lambda resident_id: True)
    body = {"text": "对", "client_id": "msg-yes-2"}
    busy = client.post("/api/v1/chat", json=body, headers=headers)
    assert busy.status_code == 503 and busy.json["error"]["code"] == "bot_busy", busy.json
    again = client.post("/api/v1/chat", json=body, headers=headers)
    assert again.status_code == 200 and again.json["replies"] == ["好的，已为您登记。"] and len(calls) == 2


def test_an_answer_the_bot_took_silently_is_a_503_and_the_retry_sends_it_again(client, make, auth, monkeypatch,
                                                                              redis):
    """The drill's given-up 对: its action server died in the action, so the bot logged the answer
    and said nothing; the fallback cannot make an order of 对. A 503 bot_busy, and the retry goes to
    the bot again (the form still waits for it) instead of meeting the silent turn for ever."""
    world = make.world()
    headers = auth.headers_for(world["resident"])
    calls = []

    def silent_then_answered(path, payload):
        calls.append(payload)
        return [] if len(calls) == 1 else [{"text": "好的，已为您登记。"}]
    monkeypatch.setattr(gateway, "_post", silent_then_answered)
    silent = [{"event": "user", "text": "对", "metadata": {"idempotency_key": "chat:msg-yes-3"}},
              {"event": "action", "name": "action_listen"}]
    monkeypatch.setattr(gateway, "_tracker", lambda resident_id, events="APPLIED": {"events": silent})
    monkeypatch.setattr(services, "_bot_awaits", lambda resident_id: True)
    body = {"text": "对", "client_id": "msg-yes-3"}
    busy = client.post("/api/v1/chat", json=body, headers=headers)
    assert busy.status_code == 503 and busy.json["error"]["code"] == "bot_busy", busy.json
    again = client.post("/api/v1/chat", json=body, headers=headers)
    assert again.status_code == 200 and again.json["replies"] == ["好的，已为您登记。"] and len(calls) == 2


def test_the_drill_counts_a_silent_copy_resent_under_its_key_once():
    from bench.cluster import _answered_keys

    def user(key):
        return {"event": "user", "metadata": {"idempotency_key": key}}
    bot = {"event": "bot", "text": "好"}
    assert _answered_keys([user("a"), bot, user("b"), user("b"), bot]) == ["a", "b"]
    assert _answered_keys([user("a"), bot, user("a"), bot]) == ["a", "a"]  # answered twice: twice
    assert _answered_keys([user("a"), user("b"), bot]) == ["a", "b"]
