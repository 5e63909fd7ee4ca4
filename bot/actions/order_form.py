"""The order form: prefill, slot extraction and corrections, read-back, submit; and the message the
bot did not understand, stored as an order at once."""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.types import DomainDict

from . import backend_client as backend
from . import knowledge
from .common import (LOCATION_MAX, SKIPPED, STOP_INTENTS, channel_of, format_time, given, idempotency_key_of,
                     latest_intent, latest_text, reset_order_events)
from .parsing import (entities_of, find_phone, find_url, intent_kind, is_substantive, kind_to_send, location_parts,
                      means_skip, merge_location)

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- order form
class ActionStartOrder(Action):
    """Prefill the order form from the message that triggered it."""

    def name(self) -> Text:
        return "action_start_order"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = latest_intent(tracker)
        text = latest_text(tracker)
        entities = entities_of(tracker.latest_message)
        pending = tracker.get_slot("pending_text")
        unclassified = False
        if intent == "affirm" and pending:
            # the resident agreed to record a message the bot did not understand
            text, entities, intent, description = pending, [], None, pending
            unclassified = True
        elif intent == "request_human":
            description = None
        else:
            description = text if is_substantive(text) else None
        location = merge_location(None, location_parts(text, entities))
        return reset_order_events() + [
            SlotSet("order_kind", intent_kind(intent)),
            SlotSet("description", description),
            SlotSet("location", location),
            SlotSet("unclassified", unclassified),
        ]


class ActionRememberText(Action):
    def name(self) -> Text:
        return "action_remember_text"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return [SlotSet("pending_text", latest_text(tracker) or None)]


class ActionResetOrder(Action):
    def name(self) -> Text:
        return "action_reset_order"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return reset_order_events()


DENY_PREFIX_RE = re.compile(r"^(不对|不是|错了|说错了|搞错了|更正一下|改一下|应该是|是)[，,。\s]*")
DESCRIPTION_PREFIX_RE = re.compile(r"^(问题是|事项是|内容是|要反映的是|应该是|是)[：:，,\s]*")


class ValidateOrderForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_order_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        slots = [s for s in domain_slots if s != "order_confirmed"]
        if tracker.get_slot("order_confirmed") is False:
            slots.append("correction")  # the resident said the summary is wrong: ask what
        return slots + ["order_confirmed"]

    # helpers -------------------------------------------------------------------------
    @staticmethod
    def _stopping(tracker: Tracker) -> bool:
        return latest_intent(tracker) in STOP_INTENTS

    @staticmethod
    def _bare_yes_no(tracker: Tracker) -> bool:
        """好 / 没有 / 对 given where a description or a place was asked: not an answer."""
        return latest_intent(tracker) in ("affirm", "deny") and len(latest_text(tracker)) <= 3

    @staticmethod
    def _parts(tracker: Tracker) -> Dict[str, str]:
        return location_parts(latest_text(tracker), entities_of(tracker.latest_message))

    def _apply_correction(self, tracker: Tracker) -> Dict[Text, Any]:
        text = latest_text(tracker)
        result: Dict[Text, Any] = {"order_confirmed": None}
        if self._parts(tracker):
            return result  # extract_location already merged 是5号楼 / 3单元
        rest = DENY_PREFIX_RE.sub("", text)
        if any(w in rest for w in ("地点", "位置", "地址", "楼号", "单元号")):
            result["location"] = None
        elif any(w in rest for w in ("电话", "手机", "联系方式")):
            result["contact"] = find_phone(rest) or None
        elif any(w in rest for w in ("照片", "图片")):
            result["photo_url"] = find_url(rest) or None
        else:
            new_description = DESCRIPTION_PREFIX_RE.sub("", rest).strip()
            result["description"] = new_description if len(new_description) >= 3 else None
        return result

    # extractors (run on every turn of the form) ----------------------------------------
    async def extract_description(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "description" or self._stopping(tracker):
            return {}
        text = latest_text(tracker)
        if self._bare_yes_no(tracker):
            return {"description": None}  # ask again
        return {"description": text} if text else {}

    async def extract_location(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if self._stopping(tracker):
            return {}
        current = tracker.get_slot("location")
        if tracker.get_slot("requested_slot") == "location":
            text = latest_text(tracker)
            if self._bare_yes_no(tracker) and not self._parts(tracker):
                return {"location": None}  # ask again
            return {"location": text} if text else {}
        merged = merge_location(current, self._parts(tracker))
        return {"location": merged} if merged and merged != current else {}

    async def extract_photo_url(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "photo_url" or self._stopping(tracker):
            return {}
        text = latest_text(tracker)
        url = find_url(text)
        if url:
            return {"photo_url": url}
        if self._parts(tracker):
            return {}  # it was a location correction; ask for the photo again
        return {"photo_url": SKIPPED}

    async def extract_contact(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "contact" or self._stopping(tracker):
            return {}
        text = latest_text(tracker)
        phone = find_phone(text)
        if phone:
            return {"contact": phone}
        if self._parts(tracker) and not means_skip(text):
            return {}
        if len(re.findall(r"\d", text)) >= 7:
            return {"contact": text}
        return {"contact": SKIPPED}

    async def extract_correction(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "correction" or self._stopping(tracker):
            return {}
        return self._apply_correction(tracker)

    async def extract_order_confirmed(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "order_confirmed" or self._stopping(tracker):
            return {}
        intent = latest_intent(tracker)
        text = latest_text(tracker)
        if self._parts(tracker):
            return {"order_confirmed": None}  # 不对，是5号楼: already merged, read back again
        if intent == "affirm":
            return {"order_confirmed": True}
        if intent == "deny" and len(DENY_PREFIX_RE.sub("", text)) < 3:
            return {"order_confirmed": False}  # ask what is wrong
        if intent in ("deny", "inform"):
            return self._apply_correction(tracker)
        return {}


class ActionAskOrderConfirmed(Action):
    """Read the order back; the response variant depends on the optional details."""

    def name(self) -> Text:
        return "action_ask_order_confirmed"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        has_photo = given(tracker.get_slot("photo_url"))
        has_contact = given(tracker.get_slot("contact"))
        response = "utter_order_summary"
        if has_photo and has_contact:
            response = "utter_order_summary_with_photo_contact"
        elif has_photo:
            response = "utter_order_summary_with_photo"
        elif has_contact:
            response = "utter_order_summary_with_contact"
        dispatcher.utter_message(
            response=response,
            description=tracker.get_slot("description"),
            location=tracker.get_slot("location"),
            contact=tracker.get_slot("contact"),
        )
        return []


class ActionSubmitOrder(Action):
    """The form is complete: if another resident already reported the same problem, ask whether to
    附议 (actions/duplicates.py takes the answer); otherwise send the order."""

    def name(self) -> Text:
        return "action_submit_order"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        number = duplicate_of(tracker)
        if number:
            dispatcher.utter_message(response="utter_ask_join_report", duplicate_of=number)
            return [SlotSet("duplicate_of", number)]
        return submit(dispatcher, tracker)


def draft_text(tracker: Tracker) -> str:
    return tracker.get_slot("description") or tracker.get_slot("pending_text") or ""


def duplicate_of(tracker: Tracker) -> str | None:
    """The number of an open order the draft may repeat (the backend's best candidate), or None —
    also when the backend cannot tell: the draft is then sent as it is."""
    try:
        found = backend.find_duplicates(tracker.sender_id, draft_text(tracker), tracker.get_slot("location") or "")
    except backend.BackendUnavailable:
        return None
    return found[0]["number"] if found else None


def submit(dispatcher, tracker: Tracker) -> List[EventType]:
    """Send the order the form took down, and tell the resident its number and limits."""
    photo = tracker.get_slot("photo_url")
    contact = tracker.get_slot("contact")
    try:
        reply = backend.create_order(
            sender_id=tracker.sender_id,
            text=draft_text(tracker),
            location_text=tracker.get_slot("location") or "",
            kind=kind_to_send(tracker.get_slot("order_kind")),
            contact=contact if given(contact) else None,
            photo_url=photo if given(photo) else None,
            flags=["unclassified"] if tracker.get_slot("unclassified") else None,
            channel=channel_of(tracker),
            idempotency_key=idempotency_key_of(tracker),
        )
    except backend.BackendUnavailable:
        dispatcher.utter_message(response="utter_backend_unavailable")
        return reset_order_events()
    if not reply.ok or not reply.data.get("number"):
        logger.error("backend refused the order: %s %s", reply.status, reply.data)
        dispatcher.utter_message(response="utter_backend_unavailable")
        return reset_order_events()
    data = reply.data
    grid = data.get("grid")
    dispatcher.utter_message(
        response="utter_order_created" if grid else "utter_order_created_pool",
        order_number=data["number"],
        grid=grid,
        claim_deadline_text=format_time(data.get("claim_by")),
        deadline_text=format_time(data.get("resolve_by")),
    )
    dispatcher.utter_message(json_message={"order_number": data["number"]})  # for the chat API
    return reset_order_events() + [SlotSet("last_order_number", data["number"])]


class ActionRecordUnclear(Action):
    """nlu_fallback: the bot did not understand the message, so it stores it as an order at once.

    Nothing a resident writes is dropped: the text becomes an order flagged "unclassified" (a
    person looks at it); the backend predicts its kind and routes it from the text, which is also
    the location text. The resident can take it back with "撤回" (cancel_order).
    """

    def name(self) -> Text:
        return "action_record_unclear"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = latest_text(tracker)
        if not text:
            dispatcher.utter_message(response="utter_default")
            return []
        # A question the 知识库 answers with confidence is answered, not made an order.
        answer = knowledge.ask(tracker)
        if answer and answer.get("outcome") == "answered" and answer.get("entry"):
            knowledge.say_entry(dispatcher, answer["entry"])
            return []
        try:
            reply = backend.create_order(
                sender_id=tracker.sender_id,
                text=text,
                location_text=text[:LOCATION_MAX],
                flags=["unclassified"],
                channel=channel_of(tracker),
                idempotency_key=idempotency_key_of(tracker),
            )
        except backend.BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        if not reply.ok or not reply.data.get("number"):
            logger.error("backend refused the unclear message as an order: %s %s", reply.status, reply.data)
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        number = reply.data["number"]
        dispatcher.utter_message(response="utter_recorded_unclear", order_number=number)
        dispatcher.utter_message(json_message={"order_number": number})  # for the chat API
        return reset_order_events() + [SlotSet("last_order_number", number)]


