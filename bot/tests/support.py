"""Helpers of the action tests: trackers as the action server receives them, running an action
as the executor does, reading what it said, and the mobile contract of the cards."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jsonschema
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "mobile_contracts" / "chat" / "cards.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text()) if SCHEMA_PATH.exists() else None

DOMAIN = {
    "forms": {"report_form": {"required_slots": ["report_description", "report_category",
                                                 "report_location", "report_confirm"]}},
    "slots": {},
}

CATEGORY_TREE = {"groups": [
    {"code": "transport", "name_vi": "Hạ tầng giao thông", "name_en": "Road infrastructure",
     "categories": [
         {"code": "pothole", "name_vi": "Ổ gà, hư hỏng mặt đường",
          "name_en": "Pothole or damaged road surface", "photo_required": True,
          "keywords": ["ổ gà", "o ga", "ổ voi", "lún", "pothole"]},
     ]},
    {"code": "lighting", "name_vi": "Chiếu sáng", "name_en": "Lighting",
     "categories": [
         {"code": "streetlight_out", "name_vi": "Đèn đường không sáng",
          "name_en": "Street light out", "photo_required": True,
          "keywords": ["đèn đường", "den duong", "đèn không sáng", "street light"]},
     ]},
    {"code": "environment", "name_vi": "Môi trường", "name_en": "Environment",
     "categories": [
         {"code": "garbage_uncollected", "name_vi": "Rác chưa được thu gom",
          "name_en": "Uncollected rubbish", "photo_required": True,
          "keywords": ["rác", "rac", "rác thải", "rubbish"]},
         {"code": "fallen_tree", "name_vi": "Cây đổ, gãy cành", "name_en": "Fallen tree",
          "photo_required": True, "keywords": ["cây đổ", "cay do", "cây gãy", "fallen tree"]},
     ]},
]}



def assert_valid_card(card: dict) -> None:
    if SCHEMA is None:
        pytest.skip("the mobile contract is not beside the bot (bot image without the repo)")
    jsonschema.Draft202012Validator(SCHEMA).validate(card)


def tracker(text: str = "", *, intent: str | None = None, entities: list | None = None,
            slots: dict | None = None, metadata: dict | None = None, events: list | None = None,
            active_loop: str | None = None, sender: str = "c42:test-sender-1") -> Tracker:
    """A tracker as the action server receives it after the message ``text``."""
    message = {"text": text, "intent": {"name": intent, "confidence": 1.0} if intent else {},
               "entities": entities or [], "metadata": metadata or {}}
    base = {"lang": "vi", "requested_slot": None}
    return Tracker(sender, {**base, **(slots or {})}, message, list(events or []), False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


def run(action, tr: Tracker, domain: dict | None = None) -> tuple[list[dict], list[dict]]:
    """Run an action as the executor does; (messages sent, events returned)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tr, domain or DOMAIN))
    return dispatcher.messages, events


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def cards(messages: list[dict], kind: str) -> list[dict]:
    return [m["custom"] for m in messages if (m.get("custom") or {}).get("type") == kind]


def slots_of(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
