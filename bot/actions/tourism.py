"""Tourism answers: places to visit, one place in detail, festivals, food, where to stay.

The API answers in the asked language (``lang=en`` gives the English names and
descriptions, Vietnamese where no translation exists) and judges opening hours in
local time; the actions only choose, shorten and phrase.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import api_client, cards
from actions.language import fold, lang_of, local_clock, local_date, money, parse_time, pick
from actions.replies import try_again_later
from actions.settings import settings

SIGHTS = ("pagoda", "temple", "communal_house", "church", "museum", "historic_site", "craft_village",
          "park_nature")
STAYS = ("hotel_homestay",)
LIST_SIZE = 5
# A follow-up about the place just discussed ("giá vé bao nhiêu?", "is it open now?"):
# folded words about tickets and opening hours.
FOLLOW_UP = re.compile(r"\b(gia ve|ve vao|bao nhieu tien|mo cua|dong cua|may gio|gio mo|"
                       r"ticket|price|fee|open|close|hours)\b")
SHORT_DESCRIPTION = 280


def _near(tracker: Tracker) -> str | None:
    lat, lon = tracker.get_slot("lat"), tracker.get_slot("lon")
    try:
        return f"{float(lat):.6f},{float(lon):.6f}"
    except (TypeError, ValueError):
        return None


def shorten(text: str | None, limit: int = SHORT_DESCRIPTION) -> str | None:
    """The first sentences that fit in ``limit`` characters."""
    if not text:
        return None
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[:end + 1] if end > limit // 3 else cut.rsplit(" ", 1)[0] + "…"


def hours_text(item: dict, now: datetime, lang: str) -> str | None:
    """"Đang mở cửa, đóng lúc 17:00" / "Đang đóng cửa, mở lúc 07:30 ngày mai"."""
    open_now = item.get("open_now")
    closes, opens = parse_time(item.get("closes_at")), parse_time(item.get("opens_at"))
    if open_now is True:
        text = pick(lang, "Đang mở cửa", "Open now")
        if closes:
            text += pick(lang, f", đóng lúc {local_clock(closes, now, lang)}",
                         f", closes at {local_clock(closes, now, lang)}")
    elif open_now is False:
        text = pick(lang, "Đang đóng cửa", "Closed now")
        if opens:
            text += pick(lang, f", mở lúc {local_clock(opens, now, lang)}",
                         f", opens at {local_clock(opens, now, lang)}")
    else:
        text = None
    note = item.get("note")
    if note:
        text = f"{text} ({note})" if text else note
    return text


def price_text(tickets: list[dict], lang: str) -> str | None:
    parts = []
    for ticket in tickets:
        price = ticket.get("price_vnd")
        if price == 0:
            amount = pick(lang, "miễn phí", "free")
        elif price is None:
            amount = pick(lang, "chưa rõ giá", "price unknown")
        else:
            amount = money(int(price), lang)
        parts.append(f"{ticket.get('label')}: {amount}" if ticket.get("label") else amount)
    return "; ".join(parts) or None


def place_url(place_id: int, lang: str) -> str:
    return f"{settings().public_url}/api/v1/places/{place_id}?lang={lang}"


async def find_place(asked: str | None, typed: str, lang: str) -> dict | None:
    """The place the citizen named: the NLU's entity (searched as is), else a place whose
    name appears in the message (the API's search is diacritic- and typo-tolerant)."""
    query = asked or typed
    page = await api_client.get("/api/v1/places", params={"q": query[:100], "lang": lang,
                                                          "limit": "1" if asked else "5"})
    items = page.get("items") or []
    if not asked:
        folded = fold(typed)
        items = [i for i in items if any(n and fold(n) in folded for n in (i.get("name"), i.get("name_vi")))]
    if not items:
        return None
    return await api_client.get(f"/api/v1/places/{items[0]['id']}", params={"lang": lang})


def place_card(item: dict, now: datetime, lang: str, tickets: list[dict] | None = None) -> dict:
    return cards.place(item, hours_text=hours_text(item, now, lang),
                       price_text=price_text(tickets, lang) if tickets is not None else None,
                       url=place_url(item["id"], lang))


async def _list_places(dispatcher: CollectingDispatcher, tracker: Tracker, kinds: tuple[str, ...],
                       intro: tuple[str, str], empty: tuple[str, str], *,
                       show_hours: bool = True) -> list[dict[str, Any]]:
    lang = lang_of(tracker)
    params: list[tuple[str, str]] = [("kind", k) for k in kinds]
    params += [("lang", lang), ("limit", str(LIST_SIZE))]
    near = _near(tracker)
    if near:
        params += [("near", near), ("radius", "30000")]
    try:
        page = await api_client.get("/api/v1/places", params=params)
    except (api_client.ApiUnavailable, api_client.ApiRefused):
        try_again_later(dispatcher, lang)
        return []
    items = page.get("items") or []
    if not items:
        dispatcher.utter_message(text=pick(lang, *empty))
        return []
    now = datetime.now(timezone.utc)
    lines = [pick(lang, *intro)]
    for item in items:
        line = f"• {item['name']}"
        if item.get("distance_m") is not None:
            line += f" (~{item['distance_m'] / 1000:.1f} km)"
        status = hours_text(item, now, lang) if show_hours else None   # hotels: always open
        if status:
            line += f" — {status}"
        lines.append(line)
    lines.append(pick(lang, "Bạn muốn biết thêm về nơi nào? Cứ hỏi tên nhé.",
                      "Want to know more about one? Just ask me its name."))
    dispatcher.utter_message(text="\n".join(lines))
    for item in items:
        dispatcher.utter_message(json_message=place_card(item, now, lang))
    return []


class ActionTourismAttractions(Action):
    def name(self) -> str:
        return "action_tourism_attractions"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        intro = (("Một số điểm tham quan gần bạn ở Bắc Ninh:", "Places to visit near you in Bac Ninh:")
                 if _near(tracker) else
                 ("Một số điểm tham quan nổi bật ở Bắc Ninh:", "Some places worth visiting in Bac Ninh:"))
        return await _list_places(dispatcher, tracker, SIGHTS, intro,
                                  ("Mình chưa có dữ liệu điểm tham quan phù hợp.",
                                   "I have no matching places to visit yet."))


class ActionTourismAccommodation(Action):
    def name(self) -> str:
        return "action_tourism_accommodation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        return await _list_places(dispatcher, tracker, STAYS,
                                  ("Một số nơi lưu trú ở Bắc Ninh:", "Some places to stay in Bac Ninh:"),
                                  ("Mình chưa có dữ liệu khách sạn, homestay.",
                                   "I have no hotels or homestays listed yet."), show_hours=False)


class ActionTourismPlaceInfo(Action):
    def name(self) -> str:
        return "action_tourism_place_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        asked = next(tracker.get_latest_entity_values("place"), None)
        typed = (tracker.latest_message.get("text") or "").strip()
        earlier = tracker.get_slot("last_place")
        if not asked and (not typed or typed.startswith("/")) and not earlier:
            dispatcher.utter_message(text=pick(lang, "Bạn muốn hỏi về địa điểm nào?",
                                               "Which place would you like to know about?"))
            return []
        try:
            place = await find_place(str(asked) if asked else None, typed, lang) \
                if asked or (typed and not typed.startswith("/")) else None
            if place is None and not asked and earlier:   # "and the tickets?" about the last one
                place = await api_client.get(f"/api/v1/places/{int(earlier)}", params={"lang": lang})
        except (api_client.ApiRefused, ValueError):
            place = None
        except api_client.ApiUnavailable:
            try_again_later(dispatcher, lang)
            return []
        if place is None and not asked:
            dispatcher.utter_message(
                text=pick(lang, "Bạn muốn hỏi về địa điểm nào? Bạn gõ tên địa điểm giúp mình nhé "
                                "(ví dụ: Chùa Dâu, Đền Đô).",
                          "Which place would you like to know about? Please type its name "
                          "(e.g. Dau Pagoda, Do Temple)."),
                buttons=[{"title": pick(lang, "Điểm tham quan", "Places to visit"),
                          "payload": "/tourism_attractions"}])
            return []
        if place is None:
            dispatcher.utter_message(
                text=pick(lang, f"Mình chưa tìm thấy địa điểm \"{asked}\". Bạn thử gõ tên khác, hoặc xem "
                                "các điểm tham quan nổi bật nhé.",
                          f"I could not find \"{asked}\". Try another name, or see the main sights."),
                buttons=[{"title": pick(lang, "Điểm tham quan", "Places to visit"),
                          "payload": "/tourism_attractions"}])
            return []
        now = datetime.now(timezone.utc)
        card = place_card(place, now, lang, place.get("tickets") or [])
        lines = [f"{place['name']}"]
        description = shorten(place.get("description"))
        if description:
            lines.append(description)
        if card["hours_text"]:
            lines.append(pick(lang, f"🕒 {card['hours_text']}.", f"🕒 {card['hours_text']}."))
        if card["price_text"]:
            lines.append(pick(lang, f"🎟 Vé: {card['price_text']}.", f"🎟 Tickets: {card['price_text']}."))
        if place.get("address"):
            lines.append(pick(lang, f"📍 Địa chỉ: {place['address']}", f"📍 Address: {place['address']}"))
        for event in (place.get("events") or [])[:1]:
            lines.append(pick(lang, f"🎉 Sắp tới: {event['name']} ({local_date(event['start'], lang)})",
                              f"🎉 Coming up: {event['name']} ({local_date(event['start'], lang)})"))
        dispatcher.utter_message(text="\n".join(lines))
        dispatcher.utter_message(json_message=card)
        return [SlotSet("last_place", str(place["id"]))]


def is_follow_up(text: str | None) -> bool:
    """A question about tickets or opening hours that names no place."""
    return bool(text) and FOLLOW_UP.search(fold(text)) is not None


def dates_text(item: dict, lang: str) -> str:
    """"13/02/2027 – 16/02/2027 (chính hội 14/02/2027, ngày 13 tháng 1 âm lịch)"."""
    start, end, main = item["start"], item["end"], item["main_day"]
    text = local_date(start, lang) if start == end else f"{local_date(start, lang)} – {local_date(end, lang)}"
    notes = []
    if start != end:
        notes.append(pick(lang, f"chính hội {local_date(main, lang)}", f"main day {local_date(main, lang)}"))
    lunar = item.get("lunar_date")
    if lunar:
        leap = pick(lang, " nhuận", " (leap)") if lunar.get("leap") else ""
        notes.append(pick(lang, f"ngày {lunar['day']} tháng {lunar['month']}{leap} âm lịch",
                          f"lunar month {lunar['month']}{leap}, day {lunar['day']}"))
    return text + (f" ({', '.join(notes)})" if notes else "")


class ActionTourismEvents(Action):
    def name(self) -> str:
        return "action_tourism_events"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        try:
            page = await api_client.get("/api/v1/events", params={"lang": lang})
        except (api_client.ApiUnavailable, api_client.ApiRefused):
            try_again_later(dispatcher, lang)
            return []
        items = (page.get("items") or [])[:LIST_SIZE]
        if not items:
            dispatcher.utter_message(text=pick(lang, "Trong năm tới chưa có lễ hội nào trong lịch.",
                                               "No festivals are listed for the coming year."))
            return []
        lines = [pick(lang, "Lễ hội và sự kiện sắp tới ở Bắc Ninh:", "Upcoming festivals and events in Bac Ninh:")]
        for item in items:
            where = f" — {item['venue']}" if item.get("venue") else ""
            lines.append(f"• {item['name']}: {dates_text(item, lang)}{where}")
        dispatcher.utter_message(text="\n".join(lines))
        for item in items:
            dispatcher.utter_message(json_message=cards.event(item, dates_text=dates_text(item, lang)))
        return []


class ActionTourismFood(Action):
    def name(self) -> str:
        return "action_tourism_food"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        try:
            page = await api_client.get("/api/v1/food", params={"lang": lang})
        except (api_client.ApiUnavailable, api_client.ApiRefused):
            try_again_later(dispatcher, lang)
            return []
        items = (page.get("items") or [])[:LIST_SIZE]
        if not items:
            dispatcher.utter_message(text=pick(lang, "Mình chưa có dữ liệu đặc sản.", "I have no food listed yet."))
            return []
        lines = [pick(lang, "Đặc sản nên thử ở Bắc Ninh:", "Local food worth trying in Bac Ninh:")]
        for item in items:
            where = f" — {item['where']}" if item.get("where") else ""
            lines.append(f"• {item['name']}{where}")
        dispatcher.utter_message(text="\n".join(lines))
        for item in items:
            dispatcher.utter_message(json_message=cards.food(item))
        return []
