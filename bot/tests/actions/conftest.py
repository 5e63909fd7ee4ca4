import asyncio
import copy
import json
import pathlib
import sys

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

BOT_DIR = pathlib.Path(__file__).resolve().parents[2]
if str(BOT_DIR) not in sys.path:
    sys.path.insert(0, str(BOT_DIR))
FIXTURES = pathlib.Path(__file__).parent / "fixtures"
BACKEND = "http://backend.test"


@pytest.fixture(autouse=True)
def backend_env(monkeypatch):
    monkeypatch.setenv("BACKEND_URL", BACKEND)
    monkeypatch.setenv("BOT_SERVICE_TOKEN", "svc-token")


@pytest.fixture
def snapshot():
    """Load a tracker snapshot (JSON as Rasa sends it to the action server), with overrides."""

    def load(name, slots=None, text=None, intent=None, entities=None):
        state = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
        state = copy.deepcopy(state)
        state["slots"].update(slots or {})
        if text is not None:
            state["latest_message"]["text"] = text
        if intent is not None:
            state["latest_message"]["intent"] = {"name": intent, "confidence": 0.9}
        if entities is not None:
            state["latest_message"]["entities"] = entities
        return Tracker.from_dict(state)

    return load


@pytest.fixture
def run():
    """Run an action; return (messages, events)."""

    def _run(action, tracker, domain=None):
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, tracker, domain or {}))
        return dispatcher.messages, events

    return _run
