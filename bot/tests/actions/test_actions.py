import json

import requests
import responses

import pytest

from actions import follow_ups, order_form
from actions.parsing import (
    intent_kind,
    kind_to_send,
    is_substantive,
    location_parts,
    merge_location,
    parse_rating,
)

from .conftest import BACKEND

KNOWLEDGE = f"{BACKEND}/api/v1/bot/knowledge/answer"
DECLINED = {"outcome": "declined", "score": 0.1, "entry": None, "offers": []}
ORDERS = f"{BACKEND}/api/v1/bot/orders"


class A:
    """The actions, by class name, from the feature modules they live in."""
    locals().update({k: v for module in (order_form, follow_ups) for k, v in vars(module).items()
                     if k.startswith("Action") or k.startswith("Validate")})


def created():
    """The create requests sent (before each, the submit asks for duplicates: unanswered here, the
    backend cannot tell, and the order is sent as it is)."""
    return [c.request for c in responses.calls if c.request.url == ORDERS]


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


# ----------------------------------------------------------------------------- submit
@responses.activate
def test_submit_creates_order_and_replies_with_number_and_deadline(snapshot, run):
    responses.post(
        ORDERS,
        status=201,
        json={
            "number": "HX20261123-0001",
            "state": "submitted",
            "grid": "水晶城社区第一网格",
            "claim_by": "2026-11-23T05:00:00+00:00",
            "resolve_by": "2026-11-26T03:00:00Z",
            "category": {"level1": "城乡建设", "level2": "物业管理", "confidence": 0.8},
        },
    )
    messages, events = run(A.ActionSubmitOrder(), snapshot("submit_ready"))

    call = created()[0]
    assert call.headers["Authorization"] == "Bearer svc-token"
    assert json.loads(call.body) == {
        "sender_id": "resident-42",
        "text": "3号楼2单元楼道灯坏了好几天了",
        "location_text": "水晶城小区3号楼2单元",
        "contact": "13812345678",  # no kind: the backend predicts it from the text
        "photo_url": None,
        "channel": "wechat",
    }
    assert messages[0]["response"] == "utter_order_created"
    assert messages[1]["custom"] == {"order_number": "HX20261123-0001"}  # the chat API reads it
    assert messages[0]["order_number"] == "HX20261123-0001"
    assert messages[0]["deadline_text"] == "2026-11-26 11:00"  # China time
    assert messages[0]["claim_deadline_text"] == "2026-11-23 13:00"
    slots = slot_events(events)
    assert slots["last_order_number"] == "HX20261123-0001"
    assert slots["description"] is None and slots["order_confirmed"] is None


@responses.activate
def test_submit_without_grid_uses_pool_response(snapshot, run):
    responses.post(ORDERS, status=201, json={"number": "HX20261123-0002", "state": "submitted",
                                             "grid": None, "claim_by": None, "resolve_by": None})
    messages, _ = run(A.ActionSubmitOrder(), snapshot("submit_ready"))
    assert messages[0]["response"] == "utter_order_created_pool"


@responses.activate
def test_submit_backend_down_is_polite(snapshot, run):
    responses.post(ORDERS, body=requests.ConnectionError("refused"))
    messages, events = run(A.ActionSubmitOrder(), snapshot("submit_ready"))
    assert [m["response"] for m in messages] == ["utter_backend_unavailable"]
    assert "last_order_number" not in slot_events(events)


@responses.activate
def test_submit_backend_500_is_polite(snapshot, run):
    responses.post(ORDERS, status=500, json={"error": {"code": "internal", "message": "boom"}})
    messages, _ = run(A.ActionSubmitOrder(), snapshot("submit_ready"))
    assert [m["response"] for m in messages] == ["utter_backend_unavailable"]


def test_submit_connection_refused_for_real(snapshot, run, monkeypatch):
    monkeypatch.setenv("BACKEND_URL", "http://127.0.0.1:9")  # nothing listens there
    messages, _ = run(A.ActionSubmitOrder(), snapshot("submit_ready"))
    assert [m["response"] for m in messages] == ["utter_backend_unavailable"]


# ----------------------------------------------------------------------------- status
ORDER = {
    "number": "HX20261122-0007", "state": "claimed", "state_label": "已接单", "kind": "repair",
    "text": "3号楼2单元楼道灯坏了好几天了，晚上上楼很危险", "created_at": "2026-11-22T01:00:00Z",
    "resolve_by": "2026-11-25T01:00:00Z", "assignee_name_masked": "张*", "result": None,
    "allowed_actions": ["cancel"],
}
RESOLVED = dict(ORDER, number="HX20261120-0003", state="resolved", state_label="已办结",
                allowed_actions=["rate", "reopen", "attach"])


@responses.activate
def test_status_of_latest_order(snapshot, run):
    responses.get(ORDERS, json={"orders": [ORDER, dict(ORDER, number="HX20261101-0001")]})
    messages, events = run(A.ActionCheckStatus(), snapshot("status_latest"))
    assert "number" not in responses.calls[0].request.params
    assert responses.calls[0].request.params["sender_id"] == "resident-42"
    assert messages[0]["response"] == "utter_order_status_assigned"
    assert messages[0]["assignee"] == "张*"
    assert messages[0]["deadline_text"] == "2026-11-25 09:00"
    assert messages[1]["response"] == "utter_more_orders" and messages[1]["count"] == 2
    assert slot_events(events)["last_order_number"] == "HX20261122-0007"


@responses.activate
def test_status_by_number(snapshot, run):
    responses.get(ORDERS, json={"orders": [dict(ORDER, result="已更换灯泡", state_label="已办结")]})
    tracker = snapshot("status_latest", text="查一下hx20261122-0007")
    messages, _ = run(A.ActionCheckStatus(), tracker)
    assert responses.calls[0].request.params["number"] == "HX20261122-0007"
    assert [m["response"] for m in messages] == ["utter_order_status_resolved"]


@responses.activate
def test_status_without_orders(snapshot, run):
    responses.get(ORDERS, json={"orders": []})
    messages, _ = run(A.ActionCheckStatus(), snapshot("status_latest"))
    assert [m["response"] for m in messages] == ["utter_no_orders"]


@responses.activate
def test_status_backend_down(snapshot, run):
    responses.get(ORDERS, status=503)
    messages, events = run(A.ActionCheckStatus(), snapshot("status_latest"))
    assert [m["response"] for m in messages] == ["utter_backend_unavailable"]
    assert events == []


# ----------------------------------------------------------------------------- rating
# What the resident writes → what the bot sends; the reply follows the state the backend answers.
RATINGS = [
    ("基本满意", {"satisfaction": "basically_satisfied"}, "rated", "基本满意", "utter_rating_thanks"),
    ("一般", {"satisfaction": "basically_satisfied"}, "rated", "基本满意", "utter_rating_thanks"),
    ("还行吧", {"satisfaction": "basically_satisfied"}, "rated", "基本满意", "utter_rating_thanks"),
    ("3分", {"score": 3}, "rated", "基本满意", "utter_rating_thanks"),
    ("不满意", {"satisfaction": "unsatisfied"}, "reopened", "不满意", "utter_rating_thanks_low"),
    ("不太满意", {"satisfaction": "unsatisfied"}, "reopened", "不满意", "utter_rating_thanks_low"),
    ("差评", {"satisfaction": "unsatisfied"}, "reopened", "不满意", "utter_rating_thanks_low"),
    ("2分", {"score": 2}, "reopened", "不满意", "utter_rating_thanks_low"),
    ("非常满意", {"satisfaction": "satisfied"}, "rated", "满意", "utter_rating_thanks"),
]


@pytest.mark.parametrize("text,sent,state,label,response", RATINGS, ids=[r[0] for r in RATINGS])
@responses.activate
def test_rating_sends_the_scale_and_answers_what_the_backend_did(snapshot, run, text, sent, state, label, response):
    responses.get(ORDERS, json={"orders": [ORDER, RESOLVED]})
    responses.post(f"{ORDERS}/HX20261120-0003/rating",
                   json={"number": "HX20261120-0003", "state": state, "satisfaction_label": label})
    _, started = run(A.ActionStartRating(), snapshot("status_latest", text=text, intent="rate_service"))
    answer = slot_events(started)["rating_answer"]
    tracker = snapshot("status_latest", slots={"rating_answer": answer}, text=text, intent="rate_service")
    messages, events = run(A.ActionRateOrder(), tracker)
    assert json.loads(responses.calls[1].request.body) == {"sender_id": "resident-42", "comment": None, **sent}
    assert messages[0]["response"] == response
    assert messages[0]["satisfaction_label"] == label
    assert slot_events(events)["rating_answer"] is None


@responses.activate
def test_rating_not_ratable(snapshot, run):
    responses.get(ORDERS, json={"orders": [ORDER]})
    responses.post(f"{ORDERS}/HX20261122-0007/rating", status=409,
                   json={"error": {"code": "invalid_transition", "message": "not resolved"}})
    tracker = snapshot("status_latest", slots={"rating_answer": "satisfied"})
    messages, _ = run(A.ActionRateOrder(), tracker)
    assert messages[0]["response"] == "utter_order_not_ratable"
    assert messages[0]["state_label"] == "已接单"


def test_rating_answer_is_read_from_text(snapshot, run):
    tracker = snapshot("status_latest", text="最近那个单子我给4分", intent="rate_service")
    _, events = run(A.ActionStartRating(), tracker)
    assert slot_events(events) == {"rating_answer": "4", "rating_order_number": None}


# ----------------------------------------------------------------------------- cancel
@responses.activate
def test_cancel_latest_open_order(snapshot, run):
    responses.get(ORDERS, json={"orders": [ORDER]})
    responses.post(f"{ORDERS}/HX20261122-0007/cancel", json={"number": "HX20261122-0007", "state": "cancelled"})
    messages, _ = run(A.ActionCancelOrder(), snapshot("status_latest", text="撤回上一个", intent="cancel_order"))
    assert json.loads(responses.calls[1].request.body) == {"sender_id": "resident-42"}
    assert messages[0]["response"] == "utter_order_cancelled"


@responses.activate
def test_cancel_refused_when_in_progress(snapshot, run):
    busy = dict(ORDER, state="in_progress", state_label="办理中", allowed_actions=[])
    responses.get(ORDERS, json={"orders": [busy]})
    responses.post(f"{ORDERS}/HX20261122-0007/cancel", status=409,
                   json={"error": {"code": "invalid_state", "message": "in progress"}})
    messages, _ = run(A.ActionCancelOrder(), snapshot("status_latest", text="撤单", intent="cancel_order"))
    assert messages[0]["response"] == "utter_order_not_cancellable"
    assert messages[0]["state_label"] == "办理中"


# ----------------------------------------------------------------------------- the form
DOMAIN = {
    "slots": {s: {"type": "text", "mappings": [{"type": "custom"}]}
              for s in ("description", "location", "photo_url", "contact", "correction", "order_confirmed")},
    "forms": {"order_form": {"required_slots": ["description", "location", "photo_url", "contact", "order_confirmed"]}},
}


def test_correction_at_read_back_merges_the_building(snapshot, run):
    messages, events = run(A.ValidateOrderForm(), snapshot("confirm_correction"), DOMAIN)
    slots = slot_events(events)
    assert slots["location"] == "水晶城小区5号楼2单元"
    assert slots["order_confirmed"] is None  # read the summary back again
    assert messages == []


def test_plain_deny_at_read_back_asks_what_is_wrong(snapshot, run):
    tracker = snapshot("confirm_correction", text="不对", intent="deny", entities=[])
    _, events = run(A.ValidateOrderForm(), tracker, DOMAIN)
    slots = slot_events(events)
    assert slots["order_confirmed"] is False
    assert slots["requested_slot"] == "correction"


def test_affirm_confirms(snapshot, run):
    tracker = snapshot("confirm_correction", text="对", intent="affirm", entities=[])
    _, events = run(A.ValidateOrderForm(), tracker, DOMAIN)
    assert slot_events(events)["order_confirmed"] is True


def test_stop_is_not_taken_as_an_answer(snapshot, run):
    tracker = snapshot("confirm_correction", slots={"requested_slot": "description", "description": None},
                       text="算了不报了", intent="stop", entities=[])
    _, events = run(A.ValidateOrderForm(), tracker, DOMAIN)
    assert "description" not in slot_events(events)


def test_start_order_prefills_from_the_first_message(snapshot, run):
    tracker = snapshot("status_latest", text="3号楼2单元楼道灯坏了好几天了", intent="report_issue")
    _, events = run(A.ActionStartOrder(), tracker)
    slots = slot_events(events)
    assert slots["order_kind"] is None  # the backend predicts the kind from the text
    assert slots["description"] == "3号楼2单元楼道灯坏了好几天了"
    assert slots["location"] == "3号楼2单元"


def test_start_order_after_fallback_uses_the_remembered_text(snapshot, run):
    tracker = snapshot("status_latest", slots={"pending_text": "我家楼上天天漏水到我家"}, text="好", intent="affirm")
    _, events = run(A.ActionStartOrder(), tracker)
    assert slot_events(events)["description"] == "我家楼上天天漏水到我家"
    assert slot_events(events)["unclassified"] is True


@responses.activate
def test_submit_sends_the_kind_only_when_the_intent_named_it(snapshot, run):
    responses.post(ORDERS, status=201, json={"number": "HX20261123-0006", "state": "submitted",
                                             "grid": None, "claim_by": None, "resolve_by": None})
    run(A.ActionSubmitOrder(), snapshot("submit_ready", slots={"order_kind": "wish"}))
    run(A.ActionSubmitOrder(), snapshot("submit_ready", slots={"order_kind": "consultation"}))
    assert json.loads(created()[0].body)["kind"] == "wish"
    assert "kind" not in json.loads(created()[1].body)


@responses.activate
def test_submit_flags_orders_the_bot_did_not_understand(snapshot, run):
    responses.post(ORDERS, status=201, json={"number": "HX20261123-0003", "state": "submitted",
                                             "grid": None, "claim_by": None, "resolve_by": None})
    run(A.ActionSubmitOrder(), snapshot("submit_ready", slots={"unclassified": True}))
    assert json.loads(created()[0].body)["flags"] == ["unclassified"]


# ----------------------------------------------------------------------------- parsing
def test_parsing_helpers():
    assert parse_rating("五星好评") == "satisfied"
    assert parse_rating("一点都不满意") == "unsatisfied"
    assert parse_rating("基本满意吧") == "basically_satisfied"
    assert parse_rating("凑合") == "basically_satisfied"
    assert parse_rating("给3分吧") == "3"
    assert parse_rating("你好") is None
    assert merge_location("水晶城小区3号楼2单元", {"unit": "4单元"}) == "水晶城小区3号楼4单元"
    assert merge_location("水晶城小区", {"building": "7号楼"}) == "水晶城小区7号楼"
    assert location_parts("铁塔小区三栋二单元") == {"building": "三栋", "unit": "二单元"}
    assert not is_substantive("我要报修")
    assert not is_substantive("我有个建议")
    assert is_substantive("建议小区多装几个充电桩")
    assert intent_kind("report_issue") is None and intent_kind(None) is None
    assert intent_kind("make_wish") == "wish" and intent_kind("make_suggestion") == "suggestion"
    assert kind_to_send("wish") == "wish" and kind_to_send("suggestion") == "suggestion"
    assert kind_to_send("consultation") is None and kind_to_send(None) is None


def test_bare_yes_is_not_a_location(snapshot, run):
    tracker = snapshot("confirm_correction", slots={"requested_slot": "location", "location": None},
                       text="好", intent="affirm", entities=[])
    _, events = run(A.ValidateOrderForm(), tracker, DOMAIN)
    slots = slot_events(events)
    assert "location" in slots and slots["location"] is None  # the form asks for the place again


# ----------------------------------------------------------------------------- not understood
@responses.activate
def test_unclear_message_is_stored_at_once_as_an_unclassified_order(snapshot, run):
    responses.post(KNOWLEDGE, json=DECLINED)
    responses.post(ORDERS, status=201, json={"number": "HX20261123-0004", "state": "submitted",
                                             "grid": None, "claim_by": None, "resolve_by": None})
    messages, events = run(A.ActionRecordUnclear(), snapshot("fallback_unclear"))

    assert json.loads(responses.calls[0].request.body) == {"sender_id": "resident-42", "text": "我家那个事儿你们得给个说法"}
    call = responses.calls[1].request
    assert call.headers["Authorization"] == "Bearer svc-token"
    assert json.loads(call.body) == {
        "sender_id": "resident-42",
        "text": "我家那个事儿你们得给个说法",
        "location_text": "我家那个事儿你们得给个说法",  # the backend routes from it and predicts the kind
        "contact": None,
        "photo_url": None,
        "flags": ["unclassified"],
        "channel": "h5",  # no metadata in the snapshot: the default
    }
    assert [m["response"] for m in messages] == ["utter_recorded_unclear", None]
    assert messages[1]["custom"] == {"order_number": "HX20261123-0004"}
    assert messages[0]["order_number"] == "HX20261123-0004"
    assert slot_events(events)["last_order_number"] == "HX20261123-0004"


@responses.activate
def test_unclear_long_message_keeps_the_text_and_cuts_the_location(snapshot, run):
    responses.post(KNOWLEDGE, json=DECLINED)
    responses.post(ORDERS, status=201, json={"number": "HX20261123-0005", "state": "submitted"})
    text = "俺们这" + "楼那个事" * 80
    run(A.ActionRecordUnclear(), snapshot("fallback_unclear", text=text))
    body = json.loads(responses.calls[1].request.body)
    assert body["text"] == text
    assert body["location_text"] == text[:200]


@responses.activate
def test_unclear_message_backend_down_is_polite(snapshot, run):
    responses.post(KNOWLEDGE, body=requests.ConnectionError("refused"))
    responses.post(ORDERS, body=requests.ConnectionError("refused"))
    messages, events = run(A.ActionRecordUnclear(), snapshot("fallback_unclear"))
    assert [m["response"] for m in messages] == ["utter_backend_unavailable"]
    assert "last_order_number" not in slot_events(events)


@responses.activate
def test_unclear_message_refused_by_backend_is_polite(snapshot, run):
    responses.post(KNOWLEDGE, json=DECLINED)
    responses.post(ORDERS, status=400, json={"error": {"code": "validation", "message": "bad"}})
    messages, _ = run(A.ActionRecordUnclear(), snapshot("fallback_unclear"))
    assert [m["response"] for m in messages] == ["utter_backend_unavailable"]


@responses.activate
def test_chehui_after_an_unclear_message_cancels_that_order(snapshot, run):
    """The resident answers 撤回 to utter_recorded_unclear: the order just stored is cancelled."""
    unclear = dict(ORDER, number="HX20261123-0004", state="submitted", text="我家那个事儿你们得给个说法")
    older = dict(ORDER, number="HX20261120-0001", state="claimed")
    responses.get(ORDERS, json={"orders": [unclear, older]})
    responses.post(f"{ORDERS}/HX20261123-0004/cancel", json={"number": "HX20261123-0004", "state": "cancelled"})
    tracker = snapshot("fallback_unclear", slots={"last_order_number": "HX20261123-0004"},
                       text="撤回", intent="cancel_order")
    messages, events = run(A.ActionCancelOrder(), tracker)
    assert responses.calls[1].request.url.endswith("/HX20261123-0004/cancel")
    assert messages[0]["response"] == "utter_order_cancelled"
    assert messages[0]["order_number"] == "HX20261123-0004"
    assert slot_events(events)["last_order_number"] == "HX20261123-0004"


@responses.activate
def test_submit_sends_the_turns_idempotency_key_and_takes_a_200_replay(snapshot, run):
    """The backend gave this turn a key (message metadata); a repeated key answers 200 with the first
    order, which the bot reports like a new one."""
    responses.post(ORDERS, status=200, json={"number": "HX20261123-0009", "state": "submitted",
                                             "grid": "水晶城社区第一网格", "claim_by": None, "resolve_by": None})
    tracker = snapshot("submit_ready")
    tracker.latest_message["metadata"] = {"channel": "wechat", "idempotency_key": "wechat:msg:42"}
    messages, events = run(A.ActionSubmitOrder(), tracker)
    assert json.loads(created()[0].body)["idempotency_key"] == "wechat:msg:42"
    assert messages[1]["custom"] == {"order_number": "HX20261123-0009"}
    assert slot_events(events)["last_order_number"] == "HX20261123-0009"
