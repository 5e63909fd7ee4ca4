"""action_answer_faq: the 知识库's entry, its two closest, or 不知道; the ResponseSelector's answer
only when the backend cannot be asked; and the unclear path answering what the 知识库 knows."""
import json

import requests
import responses

from actions import knowledge, order_form

from .conftest import BACKEND

KNOWLEDGE = f"{BACKEND}/api/v1/bot/knowledge/answer"
ENTRY = {"id": 7, "question": "社区疫苗接种时间", "answer": "每周二、周四上午接种。", "place": "卫生服务站二楼",
         "phone": None, "link": None}


def _faq(snapshot, text="社区啥时候打疫苗"):
    tracker = snapshot("fallback_unclear", text=text, intent="ask_faq")
    tracker.latest_message["response_selector"] = {"ask_faq": {"response": {
        "intent_response_key": "ask_faq/office_hours", "utter_action": "utter_ask_faq/office_hours",
        "confidence": 0.31}}}
    return tracker


@responses.activate
def test_an_answered_question_says_the_entry_and_its_details(snapshot, run):
    responses.post(KNOWLEDGE, json={"outcome": "answered", "score": 0.8, "entry": ENTRY, "offers": []})
    messages, events = run(knowledge.ActionAnswerFaq(), _faq(snapshot))
    assert json.loads(responses.calls[0].request.body) == {"sender_id": "resident-42", "text": "社区啥时候打疫苗",
                                                           "hint": "ask_faq/office_hours", "hint_confidence": 0.31}
    assert responses.calls[0].request.headers["Authorization"] == "Bearer svc-token"
    assert [m["response"] for m in messages] == ["utter_kb_answer", "utter_kb_place"]
    assert messages[0]["answer"] == "每周二、周四上午接种。" and messages[1]["place"] == "卫生服务站二楼"
    assert events == []


@responses.activate
def test_a_half_match_offers_the_two_closest(snapshot, run):
    responses.post(KNOWLEDGE, json={"outcome": "offered", "score": 0.3, "entry": None, "offers": [
        {"id": 1, "question": "医保卡丢了怎么补办"}, {"id": 2, "question": "医保怎么参保"}]})
    messages, _ = run(knowledge.ActionAnswerFaq(), _faq(snapshot, "医保"))
    assert [m["response"] for m in messages] == ["utter_kb_offer"]
    assert (messages[0]["first"], messages[0]["second"]) == ("医保卡丢了怎么补办", "医保怎么参保")


@responses.activate
def test_nothing_close_says_it_is_noted(snapshot, run):
    responses.post(KNOWLEDGE, json={"outcome": "declined", "score": 0.0, "entry": None, "offers": []})
    messages, _ = run(knowledge.ActionAnswerFaq(), _faq(snapshot))
    assert [m["response"] for m in messages] == ["utter_kb_unknown"]


@responses.activate
def test_with_the_backend_down_the_models_own_answer_is_given(snapshot, run):
    responses.post(KNOWLEDGE, body=requests.ConnectionError("refused"))
    messages, _ = run(knowledge.ActionAnswerFaq(), _faq(snapshot))
    assert [m["response"] for m in messages] == ["utter_ask_faq/office_hours"]


@responses.activate
def test_an_unclear_message_the_knowledge_base_answers_is_no_order(snapshot, run):
    responses.post(KNOWLEDGE, json={"outcome": "answered", "score": 0.7, "entry": ENTRY, "offers": []})
    messages, events = run(order_form.ActionRecordUnclear(), snapshot("fallback_unclear"))
    assert [m["response"] for m in messages] == ["utter_kb_answer", "utter_kb_place"]
    assert len(responses.calls) == 1 and events == []
