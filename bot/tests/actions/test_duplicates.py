"""附议 (issue 20): action_submit_order asks when the draft repeats an open order; action_join_report
and action_report_separately take the answer. Backend mocked with `responses`."""
import json

import requests
import responses

from actions import duplicates, order_form

from .conftest import BACKEND

ORDERS = f"{BACKEND}/api/v1/bot/orders"
DUPLICATES = f"{ORDERS}/duplicates"
JOIN = f"{ORDERS}/HX20261207-0001/join"
CREATED = {"number": "HX20261207-0002", "state": "submitted", "grid": "水晶城社区第一网格",
           "claim_by": "2026-12-07T05:00:00+00:00", "resolve_by": "2026-12-10T03:00:00Z"}


def slots(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@responses.activate
def test_a_draft_that_repeats_an_open_order_asks_before_sending(snapshot, run):
    responses.post(DUPLICATES, json={"candidates": [{"number": "HX20261207-0001", "state": "claimed"}]})
    messages, events = run(order_form.ActionSubmitOrder(), snapshot("submit_ready"))
    assert json.loads(responses.calls[0].request.body) == {
        "sender_id": "resident-42", "text": "3号楼2单元楼道灯坏了好几天了", "location_text": "水晶城小区3号楼2单元"}
    assert [m["response"] for m in messages] == ["utter_ask_join_report"]
    assert messages[0]["duplicate_of"] == "HX20261207-0001"
    assert slots(events) == {"duplicate_of": "HX20261207-0001"}  # the draft is kept for the answer
    assert len(responses.calls) == 1  # nothing sent yet


@responses.activate
def test_no_candidate_sends_the_order_as_before(snapshot, run):
    responses.post(DUPLICATES, json={"candidates": []})
    responses.post(ORDERS, status=201, json=CREATED)
    messages, _ = run(order_form.ActionSubmitOrder(), snapshot("submit_ready"))
    assert messages[0]["response"] == "utter_order_created"


@responses.activate
def test_join_follows_the_order_and_says_how_many_raised_it(snapshot, run):
    responses.post(JOIN, json={"number": "HX20261207-0001", "state": "claimed", "residents": 3, "joined": True})
    tracker = snapshot("submit_ready", slots={"duplicate_of": "HX20261207-0001"}, text="附议", intent="join_report")
    messages, events = run(duplicates.ActionJoinReport(), tracker)
    assert json.loads(responses.calls[0].request.body) == {
        "sender_id": "resident-42", "text": "3号楼2单元楼道灯坏了好几天了",
        "location_text": "水晶城小区3号楼2单元", "channel": "wechat"}
    assert messages[0]["response"] == "utter_joined_report" and messages[0]["residents"] == 3
    assert messages[1]["custom"] == {"joined": "HX20261207-0001"}  # the chat API reads it
    assert slots(events)["duplicate_of"] is None and slots(events)["description"] is None


@responses.activate
def test_join_refused_because_the_order_moved_on_sends_the_draft_as_new(snapshot, run):
    responses.post(JOIN, status=422, json={"error": {"code": "validation_failed", "message": "对不上"}})
    responses.post(ORDERS, status=201, json=CREATED)
    tracker = snapshot("submit_ready", slots={"duplicate_of": "HX20261207-0001"}, text="附议", intent="join_report")
    messages, _ = run(duplicates.ActionJoinReport(), tracker)
    assert [m.get("response") for m in messages][:2] == ["utter_join_not_possible", "utter_order_created"]


@responses.activate
def test_join_with_the_backend_down_keeps_the_question(snapshot, run):
    responses.post(JOIN, body=requests.ConnectionError("refused"))
    tracker = snapshot("submit_ready", slots={"duplicate_of": "HX20261207-0001"}, intent="join_report")
    messages, events = run(duplicates.ActionJoinReport(), tracker)
    assert [m["response"] for m in messages] == ["utter_backend_unavailable"] and events == []


@responses.activate
def test_not_the_same_problem_sends_the_draft_without_asking_again(snapshot, run):
    responses.post(ORDERS, status=201, json=CREATED)
    tracker = snapshot("submit_ready", slots={"duplicate_of": "HX20261207-0001"}, intent="report_separately")
    messages, events = run(duplicates.ActionReportSeparately(), tracker)
    assert [c.request.url for c in responses.calls] == [ORDERS]
    assert messages[0]["response"] == "utter_order_created"
    assert slots(events)["duplicate_of"] is None


def test_either_answer_with_nothing_asked_is_a_polite_no_op(snapshot, run):
    for action in (duplicates.ActionJoinReport(), duplicates.ActionReportSeparately()):
        messages, events = run(action, snapshot("submit_ready", intent="join_report"))
        assert [m["response"] for m in messages] == ["utter_nothing_to_join"] and events == []
