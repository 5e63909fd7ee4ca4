"""附议 (issue 20): the order form found that another resident already reported the problem
(action_submit_order asked 「要不要附议？」 and set `duplicate_of`); these take the answer.

附议 → the resident follows that order as a co-reporter (the backend's join), and is told how many
residents raised it; 不是一回事 → the draft is sent as a new order, as without a duplicate. Either
answer with nothing pending is a polite no-op."""
from __future__ import annotations

import logging
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.types import DomainDict

from . import backend_client as backend
from .common import channel_of, reset_order_events
from .order_form import draft_text, submit

logger = logging.getLogger(__name__)


def _pending(tracker: Tracker) -> bool:
    return bool(tracker.get_slot("duplicate_of") and draft_text(tracker))


class ActionJoinReport(Action):
    """附议: follow the order already reported instead of sending the draft."""

    def name(self) -> Text:
        return "action_join_report"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not _pending(tracker):
            dispatcher.utter_message(response="utter_nothing_to_join")
            return []
        number = tracker.get_slot("duplicate_of")
        try:
            reply = backend.join_order(tracker.sender_id, number, draft_text(tracker),
                                       tracker.get_slot("location") or "", channel=channel_of(tracker))
        except backend.BackendUnavailable:
            dispatcher.utter_message(response="utter_backend_unavailable")
            return []  # the question stays: the resident may answer again
        if reply.status == 422:
            # No longer one their problem repeats (resolved or closed meanwhile): send it as new.
            logger.info("join of %s refused (%s): sending the draft as a new order", number, reply.data)
            dispatcher.utter_message(response="utter_join_not_possible", duplicate_of=number)
            return submit(dispatcher, tracker)
        if not reply.ok:
            logger.error("backend refused the join: %s %s", reply.status, reply.data)
            dispatcher.utter_message(response="utter_backend_unavailable")
            return reset_order_events()
        dispatcher.utter_message(response="utter_joined_report", duplicate_of=number,
                                 residents=reply.data.get("residents") or 2)
        dispatcher.utter_message(json_message={"joined": number})  # for the chat API
        return reset_order_events()


class ActionReportSeparately(Action):
    """不是一回事: send the draft as a new order."""

    def name(self) -> Text:
        return "action_report_separately"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not _pending(tracker):
            dispatcher.utter_message(response="utter_nothing_to_join")
            return []
        return submit(dispatcher, tracker)
