"""Follow-ups on the resident's orders: status, rating (回访评价) and withdrawing (撤回)."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.types import DomainDict

from . import backend_client as backend
from .common import STOP_INTENTS, format_time, latest_intent, latest_text, pick, summarize
from .parsing import entities_of, find_order_number, parse_rating

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------ follow-ups
class ActionCheckStatus(Action):
    def name(self) -> Text:
        return "action_check_status"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        number = find_order_number(latest_text(tracker), entities_of(tracker.latest_message))
        try:
            orders = backend.list_orders(tracker.sender_id, number)
        except backend.BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        if not orders:
            if number:
                dispatcher.utter_message(response="utter_order_not_found", order_number=number)
            else:
                dispatcher.utter_message(response="utter_no_orders")
            return []
        order = orders[0]
        variables = dict(
            order_number=order.get("number"),
            summary=summarize(order.get("text")),
            state_label=order.get("state_label") or order.get("state"),
            deadline_text=format_time(order.get("resolve_by")),
            assignee=order.get("assignee_name_masked"),
            result=order.get("result"),
        )
        if order.get("result"):
            response = "utter_order_status_resolved"
        elif order.get("assignee_name_masked"):
            response = "utter_order_status_assigned"
        else:
            response = "utter_order_status"
        dispatcher.utter_message(response=response, **variables)
        if not number and len(orders) > 1:
            dispatcher.utter_message(response="utter_more_orders", count=len(orders))
        return [SlotSet("last_order_number", order.get("number"))]


class ActionStartRating(Action):
    def name(self) -> Text:
        return "action_start_rating"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = latest_text(tracker)
        number = find_order_number(text, entities_of(tracker.latest_message))
        return [
            SlotSet("rating_answer", parse_rating(text)),
            SlotSet("rating_order_number", number),
        ]


class ValidateRatingForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_rating_form"

    async def extract_rating_answer(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "rating_answer":
            return {}
        if latest_intent(tracker) in STOP_INTENTS | {"deny"}:
            return {}
        # None keeps the form asking (and avoids rejecting the form on a typo)
        return {"rating_answer": parse_rating(latest_text(tracker))}


def _rating_body(answer: str) -> Dict[str, Any]:
    """满意 / 基本满意 / 不满意 as the backend's codes; a bare score goes as a score, which the
    backend maps onto the scale (the bot keeps no thresholds)."""
    return {"score": int(answer)} if answer.isdigit() else {"satisfaction": answer}


class ActionRateOrder(Action):
    def name(self) -> Text:
        return "action_rate_order"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        done = [SlotSet("rating_answer", None), SlotSet("rating_order_number", None)]
        answer = tracker.get_slot("rating_answer")
        if not answer:
            dispatcher.utter_message(response="utter_ask_rating_answer")
            return done
        number = tracker.get_slot("rating_order_number")
        try:
            orders = backend.list_orders(tracker.sender_id, number)
            order = pick(orders, "rate")
            if order is None:
                if number:
                    dispatcher.utter_message(response="utter_order_not_found", order_number=number)
                else:
                    dispatcher.utter_message(response="utter_no_orders")
                return done
            number = order.get("number")
            reply = backend.rate_order(tracker.sender_id, number, **_rating_body(answer))
        except backend.BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return done
        if reply.ok:
            # Say what the backend did: rated (the loop is closed) or reopened.
            dispatcher.utter_message(
                response="utter_rating_thanks_low" if reply.data.get("state") == "reopened" else "utter_rating_thanks",
                order_number=number,
                satisfaction_label=reply.data.get("satisfaction_label") or "",
            )
        elif reply.status == 404:
            dispatcher.utter_message(response="utter_order_not_found", order_number=number)
        else:
            dispatcher.utter_message(
                response="utter_order_not_ratable",
                order_number=number,
                state_label=order.get("state_label") or order.get("state"),
            )
        return done + [SlotSet("last_order_number", number)]


class ActionCancelOrder(Action):
    def name(self) -> Text:
        return "action_cancel_order"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        number = find_order_number(latest_text(tracker), entities_of(tracker.latest_message))
        try:
            orders = backend.list_orders(tracker.sender_id, number)
            order = pick(orders, "cancel")
            if order is None:
                if number:
                    dispatcher.utter_message(response="utter_order_not_found", order_number=number)
                else:
                    dispatcher.utter_message(response="utter_no_orders")
                return []
            number = order.get("number")
            reply = backend.cancel_order(tracker.sender_id, number)
        except backend.BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []
        if reply.ok:
            dispatcher.utter_message(response="utter_order_cancelled", order_number=number)
        elif reply.status == 404:
            dispatcher.utter_message(response="utter_order_not_found", order_number=number)
        else:
            dispatcher.utter_message(
                response="utter_order_not_cancellable",
                order_number=number,
                state_label=order.get("state_label") or order.get("state"),
            )
        return [SlotSet("last_order_number", number)]
