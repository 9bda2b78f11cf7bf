"""A new session (after an hour's silence) keeps the conversation's language, the last
tracking code and the last place talked about, and nothing of a report left half-written: a report started tomorrow must
not inherit yesterday's description."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

CARRIED_OVER = ("lang", "report_code", "last_place")


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SessionStarted()]
        events += [SlotSet(name, tracker.get_slot(name)) for name in CARRIED_OVER
                   if tracker.get_slot(name) is not None]
        return events + [ActionExecuted("action_listen")]
