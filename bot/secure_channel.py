"""The REST channel, behind a token (bot/credentials.yml names this class).

Rasa's --auth-token guards its HTTP API (trackers, /model/*), not the channels' webhooks: the plain
REST webhook took a turn for any "sender" anyone named, and the bot then acted for that resident.
This channel answers only a caller holding RASA_AUTH_TOKEN — the backend's gateway — given as
"Authorization: Bearer <token>" or as ?token=, as Rasa's own API takes it."""
import hmac
import os
from typing import Any, Dict, Optional, Text

from rasa.core.channels.rest import RestInput
from sanic import response

from redis_stores import TURN_NOT_KEPT


def _presented(request) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip()
    return request.args.get("token", "") or ""


class TokenRestInput(RestInput):
    """/webhooks/rest/… as before, 401 without the token."""

    def __init__(self, token: Optional[Text] = None) -> None:
        self.token = token or os.environ.get("RASA_AUTH_TOKEN", "")
        if not self.token:
            raise ValueError("RASA_AUTH_TOKEN is not set: the REST channel would take anyone's turns")

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TokenRestInput":
        return cls((credentials or {}).get("token"))

    def blueprint(self, on_new_message):
        async def kept_or_failed(message):
            """Rasa's REST channel logs a turn that raised (a lock not acquired, Redis away) and
            answers 200 with what was said so far; the turn is marked failed here instead."""
            TURN_NOT_KEPT.set(False)
            try:
                await on_new_message(message)
            except Exception:
                TURN_NOT_KEPT.set(True)
                raise

        webhook = super().blueprint(kept_or_failed)

        @webhook.middleware("request")
        async def require_token(request):
            TURN_NOT_KEPT.set(False)  # one connection's requests share a task (and its context)
            if not hmac.compare_digest(_presented(request).encode(), self.token.encode()):
                return response.json({"error": {"code": "unauthorized", "message": "missing or wrong token"}},
                                     status=401)
            return None

        @webhook.middleware("response")
        async def fail_closed(request, answer):
            # A turn not kept in the shared tracker is no answer: 503, and the backend's fallback
            # stores the message as an order rather than telling the resident the bot took it.
            if request.method == "POST" and request.path.endswith("/webhook") and TURN_NOT_KEPT.get():
                return response.json({"error": {"code": "turn_not_kept",
                                                "message": "the turn failed or was not saved"}}, status=503)
            return None

        return webhook
