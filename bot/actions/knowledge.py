"""Questions answered from the 知识库 the community's staff keep (backend/knowledge): the backend
finds the entry for the resident's community, street or district, so a new or changed entry is
answered at once, with no retraining. Every word the resident reads is a domain response
(bot/domain/knowledge.yml); the entry's own text comes from the backend."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.types import DomainDict

from . import backend_client as backend
from .common import latest_intent, latest_text

logger = logging.getLogger(__name__)
DETAILS = (("place", "utter_kb_place"), ("phone", "utter_kb_phone"), ("link", "utter_kb_link"))


def ask(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The backend's answer to the latest message, or None when it cannot be asked."""
    text = latest_text(tracker)
    if not text:
        return None
    selector = (tracker.latest_message.get("response_selector") or {}).get("ask_faq") or {}
    chosen = selector.get("response") or {}
    hint = chosen.get("intent_response_key") if latest_intent(tracker) == "ask_faq" else None
    try:
        reply = backend.ask_knowledge(tracker.sender_id, text, hint, chosen.get("confidence") or 0.0)
    except backend.BackendUnavailable:
        return None
    if not reply.ok:
        logger.warning("knowledge answer refused: %s %s", reply.status, reply.data)
        return None
    return reply.data


def say_entry(dispatcher, entry: Dict[str, Any]) -> None:
    dispatcher.utter_message(response="utter_kb_answer", answer=entry.get("answer") or "")
    for key, response in DETAILS:
        if entry.get(key):
            dispatcher.utter_message(response=response, **{key: entry[key]})


def selector_response(tracker: Tracker) -> Optional[str]:
    """The retrieval response Rasa's ResponseSelector chose (utter_ask_faq/<key>), for when the
    backend cannot be reached: the seed's answer as the model learned it."""
    selector = (tracker.latest_message.get("response_selector") or {}).get("ask_faq") or {}
    response = selector.get("response") or {}
    return response.get("utter_action")


class ActionAnswerFaq(Action):
    """ask_faq: the 知识库's entry; its two closest entries offered when none is close enough; else
    we say we do not know yet (the question is on the staff's 待补充 list)."""

    def name(self) -> Text:
        return "action_answer_faq"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        data = ask(tracker)
        if data is None:
            fallback = selector_response(tracker)
            dispatcher.utter_message(response=fallback or "utter_kb_unavailable")
            return []
        if data.get("outcome") == "answered" and data.get("entry"):
            say_entry(dispatcher, data["entry"])
        elif data.get("outcome") == "offered" and data.get("offers"):
            offers = [o.get("question") for o in data["offers"]]
            if len(offers) > 1:
                dispatcher.utter_message(response="utter_kb_offer", first=offers[0], second=offers[1])
            else:
                dispatcher.utter_message(response="utter_kb_offer_one", first=offers[0])
        else:
            dispatcher.utter_message(response="utter_kb_unknown")
        return []
