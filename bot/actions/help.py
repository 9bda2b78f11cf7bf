"""Hotlines, a person from the IOC, and what to say when the bot did not understand."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions import api_client, cards
from actions.codes import canonical, find_in_text
from actions.language import lang_of, pick
from actions.replies import hotline_lines, suggestion_buttons
from actions.status import ActionCheckStatus
from actions.tourism import ActionTourismPlaceInfo, is_follow_up

TRANSCRIPT_TURNS = 20
MAX_TURN_TEXT = 1000
MAX_SUMMARY = 500


class ActionHotline(Action):
    def name(self) -> str:
        return "action_hotline"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        dispatcher.utter_message(text="\n".join(
            [pick(lang, "Số điện thoại khẩn cấp (gọi miễn phí, 24/7):",
                  "Emergency numbers (free, 24/7):")] + hotline_lines(lang)))
        return []


def transcript(tracker: Tracker, turns: int = TRANSCRIPT_TURNS) -> list[dict[str, str]]:
    """The last ``turns`` messages, oldest first; buttons pressed read as "[intent]"."""
    out = []
    for event in tracker.events:
        kind, text = event.get("event"), event.get("text")
        if kind not in ("user", "bot"):
            continue
        if kind == "user" and text and text.startswith("/"):
            text = f"[{((event.get('parse_data') or {}).get('intent') or {}).get('name') or text[1:]}]"
        if text:
            out.append({"from": kind, "text": text[:MAX_TURN_TEXT]})
    return out[-turns:]


def summary(tracker: Tracker, lang: str, code: str | None) -> str:
    said = [t["text"] for t in transcript(tracker) if t["from"] == "user" and not t["text"].startswith("[")]
    earlier = said[:-1] or said    # the request for a person is rarely the problem itself
    text = pick(lang, "Người dân cần cán bộ hỗ trợ qua trò chuyện.", "A citizen asked for an officer in chat.")
    if earlier:
        text += pick(lang, f" Nội dung gần nhất: \"{earlier[-1]}\".", f" Last message: \"{earlier[-1]}\".")
    if code:
        text += pick(lang, f" Liên quan phản ánh {code}.", f" About report {code}.")
    return text[:MAX_SUMMARY]


class ActionHumanHandoff(Action):
    """Open a hand-off at the IOC with the conversation so far; else give the hotlines."""

    def name(self) -> str:
        return "action_human_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        events: list[dict[str, Any]] = []
        if tracker.active_loop_name:
            events = [ActiveLoop(None), SlotSet("requested_slot", None)]
        code = canonical(tracker.get_slot("report_code")) or find_in_text(tracker.latest_message.get("text"))
        grant = (tracker.latest_message.get("metadata") or {}).get("grant")
        if grant:
            body = {"summary": summary(tracker, lang, code), "lang": lang,
                    "transcript": transcript(tracker), "report_code": code}
            try:
                answer = await api_client.post("/api/v1/chat/handoffs", body, bearer=str(grant))
            except (api_client.ApiRefused, api_client.ApiUnavailable):
                answer = None
            if isinstance(answer, dict) and answer.get("reference"):
                dispatcher.utter_message(text=pick(
                    lang, f"Mình đã chuyển cuộc trò chuyện cho cán bộ Trung tâm IOC (mã hỗ trợ "
                          f"{answer['reference']}). Cán bộ sẽ trả lời bạn ngay tại đây trong giờ làm việc.",
                    f"I have passed this conversation to an IOC officer (reference {answer['reference']}). "
                    "They will answer you here during office hours."))
                dispatcher.utter_message(json_message=cards.handoff(answer["reference"],
                                                                    str(answer.get("status") or "open")))
                return events
        dispatcher.utter_message(text="\n".join(
            [pick(lang, "Hiện mình chưa kết nối được với cán bộ qua trò chuyện. Bạn có thể gọi:",
                  "I cannot reach an officer through chat right now. You can call:")]
            + hotline_lines(lang, chat_channel=False)))
        return events


class ActionFallback(Action):
    """Not understood: a tracking code on its own is still a status question; else suggest."""

    def name(self) -> str:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        if any(canonical(str(v)) for v in tracker.get_latest_entity_values("report_code")) \
                or find_in_text(tracker.latest_message.get("text")):
            return await ActionCheckStatus().run(dispatcher, tracker, domain)
        if tracker.get_slot("last_place") and is_follow_up(tracker.latest_message.get("text")):
            return await ActionTourismPlaceInfo().run(dispatcher, tracker, domain)
        lang = lang_of(tracker)
        dispatcher.utter_message(
            text=pick(lang, "Xin lỗi, mình chưa hiểu ý bạn. Mình có thể giúp những việc sau:",
                      "Sorry, I did not get that. Here is what I can help with:"),
            buttons=suggestion_buttons(lang))
        return []


class ActionDefaultFallback(Action):
    """The dialogue policies were unsure what to do: suggest, and forget the puzzling message
    (reverted) so that it does not steer the rest of the conversation."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        await ActionFallback().run(dispatcher, tracker, domain)
        return [UserUtteranceReverted()]
