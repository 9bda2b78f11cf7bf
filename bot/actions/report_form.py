"""The report form: what happened, what kind of problem, where, then confirm and send.

Slots are extracted here (``custom`` mappings) so that the form decides what counts as an
answer: a "no"/"cancel" (``deny``) or a call for a person is *not* an answer, the form
rejects it and the rules take over (cancel, hand-off, hotline). The message that opens the
form gives its category when it names one ("muốn báo ổ gà"), and becomes the description
when it says more than that ("đèn đường ngõ 5 Kinh Dương Vương tắt cả tuần").

Where a report goes: signed-in citizens (the app sent their token or device id, so the chat
grant names them) with a point on the map get it created through the API; everyone else, and
a report the API will not take from chat (a category that needs a photo, say), gets a
``report_draft`` card that opens the app's form already filled in.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import api_client, cards, categories
from actions.codes import find_in_text
from actions.language import fold, lang_of, nfc, pick
from actions.replies import try_again_later
from actions.status import status_label

log = logging.getLogger(__name__)
FORM = "report_form"
REPORT_SLOTS = ("report_description", "report_category", "report_location", "report_address",
                "report_lat", "report_lon", "report_confirm")
# Intents that are never an answer to the form's question: the rules handle them.
NOT_AN_ANSWER = frozenset({"deny", "human_handoff", "ask_hotline"})
# Small talk is an answer only when it also describes something ("chào ad, đèn ngõ 5 tắt
# cả tuần"); otherwise the rules answer it and the form asks its question again.
SMALL_TALK = frozenset({"greet", "thank", "bot_challenge", "goodbye"})
MAX_DESCRIPTION = 4000
MIN_DESCRIPTION = 5
# Words that only say "I want to report": an opening message made of these and at most
# three other words names a kind of problem but does not describe it.
REQUEST_WORDS = frozenset("""
    toi minh em anh chi ban ad admin oi a ah nhe nha nhi voi giup cho xin
    muon can dang co bi hong roi qua lam that nay kia mot cai viec su vu ve
    phan bao cao gui thong tin
    i want wanna would like to report a an the there is are problem issue about please
    need with my
""".split())
MIN_DESCRIBING_WORDS = 4
# Answers to "shall I send it?" when the NLU did not call them affirm/deny.
YES_WORDS = ("đúng", "có", "gửi", "ok", "đồng ý", "xác nhận", "dung roi", "gui di", "gui",
             "dong y", "xac nhan", "yes", "yep", "sure", "send")
NO_WORDS = ("không", "huỷ", "hủy", "thôi", "đừng", "khong", "ko", "huy", "thoi", "no", "cancel",
            "don't", "dont")
PHOTO_HINT = ("📷 Mẹo: chụp ảnh hiện trường trong ứng dụng giúp đơn vị xử lý nhanh hơn.",
              "📷 Tip: a photo taken in the app helps the unit act faster.")


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _typed_text(tracker: Tracker) -> str | None:
    """What the citizen wrote, unless it was a button payload ("/intent{...}")."""
    text = (tracker.latest_message.get("text") or "").strip()
    if not text or text.startswith("/"):
        return None
    return nfc(text)


def _entity(tracker: Tracker, name: str) -> Any:
    return next(tracker.get_latest_entity_values(name), None)


def _shared_point(tracker: Tracker) -> tuple[float, float] | None:
    lat, lon = _entity(tracker, "lat"), _entity(tracker, "lon")
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if -90 <= lat <= 90 and -180 <= lon <= 180:
        return lat, lon
    return None


def aside(tracker: Tracker) -> bool:
    """The message is not an answer to the form but something else the rules take care of:
    a "no", a call for a person or the hotlines, small talk, or a tracking code to look up."""
    intent = _intent(tracker)
    if intent in NOT_AN_ANSWER:
        return True
    text = tracker.latest_message.get("text") or ""
    if intent in SMALL_TALK:
        return not describes(text)
    return intent == "check_status" and (
        find_in_text(text) is not None or any(tracker.get_latest_entity_values("report_code")))


def describes(text: str) -> bool:
    """More than "I want to report <kind>": enough words to tell the unit what is wrong."""
    words = re.findall(r"[a-z0-9]+", fold(text))
    return sum(1 for w in words if w not in REQUEST_WORDS) >= MIN_DESCRIBING_WORDS


def _has_word(text: str, words: tuple[str, ...]) -> bool:
    lowered = nfc(text).lower()
    return any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", lowered) for w in words)


def yes_or_no(text: str | None) -> bool | None:
    """A typed yes or no; None when the words say neither or both."""
    if not text:
        return None
    yes, no = _has_word(text, YES_WORDS), _has_word(text, NO_WORDS)
    return yes if yes != no else None


def reset_events() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in REPORT_SLOTS] + [SlotSet("requested_slot", None)]


def idempotency_key(tracker: Tracker) -> str:
    """``chat-<sender>-<ms when this form started>``: a resent "yes" sends one report only."""
    started = 0.0
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == FORM:
            started = float(event.get("timestamp") or 0)
            break
    sender = re.sub(r"[^A-Za-z0-9._:-]", "_", tracker.sender_id or "anon")[-120:]
    return f"chat-{sender}-{int(started * 1000)}"


async def find_place(query: str, typed: str) -> dict | None:
    """A known place named in the citizen's words, with its coordinates."""
    page = await api_client.get("/api/v1/places", params={"q": query[:100], "limit": "3"})
    folded = fold(typed)
    for item in page.get("items") or []:
        for name in (item.get("name"), item.get("name_vi")):
            if name and len(fold(name)) >= 4 and fold(name) in folded:
                return item
    return None


class ValidateReportForm(FormValidationAction):
    def name(self) -> str:
        return "validate_report_form"

    # --- extraction: what in this message answers the form? -------------------------------

    async def extract_report_description(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: dict) -> dict[str, Any]:
        text = _typed_text(tracker)
        if text is None or aside(tracker):
            return {}
        requested = tracker.get_slot("requested_slot")
        if requested == "report_description":
            return {"report_description": text}
        if requested is None and tracker.get_slot("report_description") is None and describes(text):
            return {"report_description": text}   # the opening message says what is wrong
        return {}

    async def extract_report_category(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: dict) -> dict[str, Any]:
        chosen = _entity(tracker, "category")
        if chosen:
            return {"report_category": str(chosen)}
        requested = tracker.get_slot("requested_slot")
        text = _typed_text(tracker)
        if text is None or aside(tracker):
            return {}
        if requested is None and tracker.get_slot("report_category") is None:
            # The opening message names a kind of problem: keep it when one clearly wins.
            try:
                winner = categories.clear_winner(categories.rank(text, await categories.load()))
            except (api_client.ApiUnavailable, api_client.ApiRefused):
                winner = None
            return {"report_category": winner.code} if winner is not None else {}
        if requested != "report_category":
            return {}
        return {"report_category": text}

    async def extract_report_location(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: dict) -> dict[str, Any]:
        point = _shared_point(tracker)
        if point is not None:   # the app's location button works at any step
            return {"report_location": f"{point[0]:.6f},{point[1]:.6f}"}
        if tracker.get_slot("requested_slot") != "report_location":
            return {}
        text = _typed_text(tracker)
        if text is None or aside(tracker):
            return {}
        return {"report_location": text}

    async def extract_report_confirm(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: dict) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "report_confirm":
            return {}
        intent = _intent(tracker)
        if intent == "affirm":
            return {"report_confirm": True}
        if aside(tracker):
            return {}                          # "no" cancels: the rules take over
        if _shared_point(tracker) is not None:
            return {"report_confirm": None}    # a new point: read the report back again
        answer = yes_or_no(_typed_text(tracker))
        return {"report_confirm": answer}      # None: ask again

    # --- validation ---------------------------------------------------------------------

    async def validate_report_description(self, value: Any, dispatcher: CollectingDispatcher,
                                          tracker: Tracker, domain: dict) -> dict[str, Any]:
        lang = lang_of(tracker)
        text = " ".join(str(value or "").split())
        if len(text) < MIN_DESCRIPTION:
            dispatcher.utter_message(text=pick(
                lang, "Bạn mô tả rõ hơn một chút nhé: chuyện gì đang xảy ra?",
                "Please tell me a little more: what is the problem?"))
            return {"report_description": None}
        out: dict[str, Any] = {"report_description": text[:MAX_DESCRIPTION]}
        if tracker.get_slot("report_category") is None and _entity(tracker, "category") is None:
            try:
                winner = categories.clear_winner(categories.rank(text, await categories.load()))
            except api_client.ApiUnavailable:
                winner = None
            if winner is not None:
                out["report_category"] = winner.code
                dispatcher.utter_message(text=pick(
                    lang, f"Mình xếp phản ánh này vào loại: {winner.name('vi')}.",
                    f"I filed this under: {winner.name('en')}."))
        return out

    async def validate_report_category(self, value: Any, dispatcher: CollectingDispatcher,
                                       tracker: Tracker, domain: dict) -> dict[str, Any]:
        lang = lang_of(tracker)
        try:
            known = await categories.load()
        except api_client.ApiUnavailable:
            try_again_later(dispatcher, lang)
            return {"report_category": None}
        text = str(value or "")
        chosen = categories.by_choice(text, known) or categories.clear_winner(categories.rank(text, known))
        if chosen is None:
            return {"report_category": None}   # the question comes again, with buttons
        return {"report_category": chosen.code}

    async def validate_report_location(self, value: Any, dispatcher: CollectingDispatcher,
                                       tracker: Tracker, domain: dict) -> dict[str, Any]:
        lang = lang_of(tracker)
        point = _shared_point(tracker)
        if point is not None:
            return {"report_location": str(value), "report_lat": point[0], "report_lon": point[1],
                    "report_address": None}
        text = " ".join(str(value or "").split())[:500]
        if len(text) < 3:
            return {"report_location": None}
        out: dict[str, Any] = {"report_location": text, "report_address": text,
                               "report_lat": None, "report_lon": None}
        try:
            place = await find_place(str(_entity(tracker, "place") or text), text)
        except (api_client.ApiUnavailable, api_client.ApiRefused):
            place = None
        if place is not None:
            out.update(report_lat=place["lat"], report_lon=place["lon"])
            dispatcher.utter_message(text=pick(
                lang, f"Mình đánh dấu trên bản đồ tại {place['name']}.",
                f"I put the pin at {place['name']}."))
        return out

    async def validate_report_confirm(self, value: Any, dispatcher: CollectingDispatcher,
                                      tracker: Tracker, domain: dict) -> dict[str, Any]:
        return {"report_confirm": value if isinstance(value, bool) else None}


class ActionAskReportDescription(Action):
    """What happened: naming the kind of problem already understood, if any."""

    def name(self) -> str:
        return "action_ask_report_description"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        code = tracker.get_slot("report_category")
        name = None
        if code:
            try:
                name = next((c.name(lang) for c in await categories.load() if c.code == code), None)
            except (api_client.ApiUnavailable, api_client.ApiRefused):
                name = None
        if name:
            dispatcher.utter_message(text=pick(
                lang, f"Mình ghi nhận loại vấn đề: {name}. Bạn mô tả ngắn gọn giúp mình sự việc "
                      "(ở đâu, từ khi nào, mức độ nguy hiểm…).",
                f"Noted: {name}. Please describe it in a few words (what exactly, since when, "
                "how dangerous…)."))
        else:
            dispatcher.utter_message(text=pick(
                lang, "Bạn mô tả giúp mình vấn đề đang gặp (ví dụ: \"ổ gà lớn trước số 12 Nguyễn "
                      "Gia Thiều, xe máy dễ ngã\").",
                "Please describe the problem (for example: \"a big pothole in front of 12 Nguyen "
                "Gia Thieu street\")."))
        return []


class ActionAskReportCategory(Action):
    """Which kind of problem: the likeliest categories (or the most common ones) as buttons."""

    def name(self) -> str:
        return "action_ask_report_category"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        try:
            known = await categories.load()
        except api_client.ApiUnavailable:
            dispatcher.utter_message(text=pick(
                lang, "Hệ thống đang bận nên mình chưa lấy được danh mục. Bạn thử lại sau ít phút, "
                      "hoặc gõ \"huỷ\" để dừng.",
                "The system is busy and I cannot load the list of problem types. Please try again "
                "in a few minutes, or type \"cancel\" to stop."))
            return []
        ranked = categories.rank(tracker.get_slot("report_description") or "", known)
        buttons = [{"title": c.name(lang), "payload": f'/report_issue{{"category":"{c.code}"}}'}
                   for c in categories.choices(ranked, known)]
        dispatcher.utter_message(
            text=pick(lang, "Vấn đề này thuộc loại nào? Bạn chọn một mục, hoặc gõ ngắn gọn (ví dụ: ổ gà, "
                            "đèn đường, rác thải).",
                      "What kind of problem is it? Pick one, or type a few words (e.g. pothole, "
                      "street light, rubbish)."),
            buttons=buttons)
        return []


class ActionAskReportLocation(Action):
    def name(self) -> str:
        return "action_ask_report_location"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        dispatcher.utter_message(text=pick(
            lang, "Sự việc ở đâu? Bạn bấm \"Gửi vị trí\" để chia sẻ vị trí hiện tại, hoặc gõ địa chỉ, "
                  "tên địa điểm gần đó.",
            "Where is it? Tap \"Share location\" to send where you are, or type the address or a "
            "nearby landmark."))
        dispatcher.utter_message(json_message=cards.location_request(
            pick(lang, "Gửi vị trí", "Share location")))
        return []


class ActionAskReportConfirm(Action):
    """Read the report back, suggest a photo, and ask to send it."""

    def name(self) -> str:
        return "action_ask_report_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        code = tracker.get_slot("report_category")
        name = code
        try:
            name = next((c.name(lang) for c in await categories.load() if c.code == code), code)
        except api_client.ApiUnavailable:
            pass
        lat, lon = tracker.get_slot("report_lat"), tracker.get_slot("report_lon")
        where = tracker.get_slot("report_address") or ""
        if lat is not None and lon is not None and not where:
            where = pick(lang, f"điểm bạn đã chia sẻ trên bản đồ ({float(lat):.5f}, {float(lon):.5f})",
                         f"the point you shared on the map ({float(lat):.5f}, {float(lon):.5f})")
        # The read-back never asks for the place again ("vị trí", "location"): the app shows
        # its share-location button only while the form waits for one.
        dispatcher.utter_message(text="\n".join([
            pick(lang, "Mình tóm tắt phản ánh của bạn:", "Here is your report:"),
            pick(lang, f"• Loại: {name}", f"• Type: {name}"),
            pick(lang, f"• Nội dung: {tracker.get_slot('report_description')}",
                 f"• Details: {tracker.get_slot('report_description')}"),
            pick(lang, f"• Nơi xảy ra: {where}", f"• Where: {where}"),
            pick(lang, *PHOTO_HINT),
        ]))
        dispatcher.utter_message(
            text=pick(lang, "Bạn xác nhận gửi phản ánh này nhé?", "Shall I send it?"),
            buttons=[{"title": pick(lang, "Gửi", "Send"), "payload": "/affirm"},
                     {"title": pick(lang, "Huỷ", "Cancel"), "payload": "/deny"}])
        return []


class ActionCancelReport(Action):
    def name(self) -> str:
        return "action_cancel_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=pick(
            lang_of(tracker), "Đã huỷ phản ánh. Khi cần, bạn cứ nhắn \"phản ánh\" để bắt đầu lại nhé.",
            "Report cancelled. Say \"report a problem\" whenever you want to start again."))
        return [ActiveLoop(None)] + reset_events()


class ActionSubmitReport(Action):
    """Send the report with the citizen's chat grant, or hand a draft to the app."""

    def name(self) -> str:
        return "action_submit_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        if tracker.get_slot("report_confirm") is not True:
            dispatcher.utter_message(text=pick(
                lang, "Được, mình không gửi phản ánh này. Bạn cần gì thêm cứ nhắn nhé.",
                "OK, I did not send it. Let me know if you need anything else."))
            return reset_events()
        body = {"category": tracker.get_slot("report_category"),
                "description": tracker.get_slot("report_description"),
                "lat": tracker.get_slot("report_lat"), "lon": tracker.get_slot("report_lon"),
                "address": tracker.get_slot("report_address")}
        metadata = tracker.latest_message.get("metadata") or {}
        grant = metadata.get("grant")
        # The proxy says whether the app named the citizen; an anonymous grant cannot send.
        can_send = bool(grant) and metadata.get("signed_in") is not False
        reason = None
        if not can_send:
            reason = pick(lang, "Bạn chưa đăng nhập trong ứng dụng nên mình chưa gửi thay bạn được.",
                          "You are not signed in to the app, so I cannot send it for you.")
        elif body["lat"] is None or body["lon"] is None:
            reason = pick(lang, "Mình chưa có toạ độ chính xác của nơi xảy ra.",
                          "I do not have the exact point on the map yet.")
        else:
            try:
                report = await api_client.post("/api/v1/reports", body, bearer=str(grant),
                                               idempotency_key=idempotency_key(tracker))
            except api_client.ApiRefused as exc:
                log.info("the API refused a report from chat: %s %s", exc.status, exc.code)
                if exc.code == "OUTSIDE_SERVICE_AREA":
                    dispatcher.utter_message(text=pick(
                        lang, "Điểm này nằm ngoài địa bàn tỉnh Bắc Ninh nên hệ thống chưa nhận được "
                              "phản ánh.",
                        "That point is outside Bac Ninh province, so the system cannot take the "
                        "report."))
                    return reset_events()
                if exc.status == 429:
                    dispatcher.utter_message(text=pick(
                        lang, "Bạn đã gửi nhiều phản ánh trong thời gian ngắn. Vui lòng thử lại sau.",
                        "You have sent many reports in a short time. Please try again later."))
                    return reset_events()
                reason = refusal_reason(exc, lang)
            except api_client.ApiUnavailable:
                reason = pick(lang, "Hệ thống đang bận nên mình chưa gửi được.",
                              "The system is busy and I could not send it.")
            else:
                label = status_label(report, lang)
                dispatcher.utter_message(text=pick(
                    lang, f"Đã gửi phản ánh. Mã theo dõi của bạn: {report['code']}. Bạn có thể hỏi mình "
                          f"\"tra cứu {report['code']}\" bất cứ lúc nào.",
                    f"Your report is sent. Tracking code: {report['code']}. Ask me \"status "
                    f"{report['code']}\" any time."))
                dispatcher.utter_message(json_message=cards.report_created(report, status_label=label))
                return reset_events() + [SlotSet("report_code", report["code"])]
        send_draft(dispatcher, body, lang, reason)
        return reset_events()


def refusal_reason(exc: api_client.ApiRefused, lang: str) -> str:
    """Why the API would not take the report from chat, in a sentence (the draft follows)."""
    if exc.code == "PHOTO_REQUIRED":
        return pick(lang, "Loại phản ánh này cần ảnh hiện trường.", "This kind of report needs a photo.")
    if exc.code == "AUTH_REQUIRED":
        return pick(lang, "Loại phản ánh này cần đăng nhập bằng số điện thoại.",
                    "This kind of report needs you to sign in with your phone number.")
    if exc.status in (401, 403):
        return pick(lang, "Phiên trò chuyện đã hết hạn nên mình chưa gửi thay bạn được.",
                    "This chat session has expired, so I cannot send it for you.")
    return pick(lang, "Hệ thống chưa nhận phản ánh này qua trò chuyện.",
                "The system did not accept this report through chat.")


def send_draft(dispatcher: CollectingDispatcher, body: dict, lang: str, reason: str | None) -> None:
    lead = f"{reason} " if reason else ""
    dispatcher.utter_message(text=lead + pick(
        lang, "Mình đã điền sẵn phản ánh trong ứng dụng: bạn mở ra, thêm ảnh hiện trường và bấm Gửi "
              "để hoàn tất nhé.",
        "I have filled in the report in the app: open it, add a photo and tap Send to finish."))
    dispatcher.utter_message(json_message=cards.report_draft(**body))
