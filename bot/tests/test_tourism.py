"""Tourism answers from the loopback API: places, one place (hours now, tickets), festivals, food,
where to stay."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from actions.help import ActionFallback
from actions.language import LOCAL_TZ
from actions.tourism import (ActionTourismAccommodation, ActionTourismAttractions, ActionTourismEvents,
                             ActionTourismFood, ActionTourismPlaceInfo, dates_text, hours_text)
from support import assert_valid_card, cards, run, texts, tracker


def place(id_: int, name: str, kind: str = "pagoda", **extra) -> dict:
    return {"id": id_, "kind": kind, "name": name, "name_vi": extra.pop("name_vi", name),
            "address": "Bắc Ninh", "lat": 21.05, "lon": 106.05, "distance_m": None, "open_now": True,
            "opens_at": None, "closes_at": None, "note": None, "tickets": [], "events": [],
            "description": None, **extra}


def test_one_place_with_hours_now_and_tickets(api):
    closes = (datetime.now(timezone.utc) + timedelta(hours=2)).astimezone(LOCAL_TZ).replace(second=0, microsecond=0)
    api.places.append(place(3, "Chùa Dâu", closes_at=closes.isoformat(), description="Ngôi chùa cổ nhất Việt Nam.",
                            tickets=[{"label": "Người lớn", "price_vnd": 0}],
                            events=[{"id": 1, "name": "Hội chùa Dâu", "start": "2027-05-22",
                                     "end": "2027-05-22", "main_day": "2027-05-22"}]))
    messages, _ = run(ActionTourismPlaceInfo(), tracker(
        "Chùa Dâu mở cửa mấy giờ?", intent="tourism_place_info",
        entities=[{"entity": "place", "value": "Chùa Dâu"}]))
    [card] = cards(messages, "place")
    assert_valid_card(card)
    assert card["name"] == "Chùa Dâu" and card["open_now"] is True
    assert card["hours_text"] == f"Đang mở cửa, đóng lúc {closes:%H:%M}" or "ngày mai" in card["hours_text"]
    assert card["price_text"] == "Người lớn: miễn phí"
    assert card["url"] == "https://ioc.example/api/v1/places/3?lang=vi"
    said = texts(messages)
    assert "Ngôi chùa cổ" in said and "Hội chùa Dâu (22/05/2027)" in said
    [detail] = api.calls("GET", "/api/v1/places/3")
    assert detail.query["lang"] == ["vi"]


def test_place_named_in_an_english_message_without_an_entity(api):
    api.places.append(place(3, "Dau Pagoda", name_vi="Chùa Dâu", open_now=False,
                            opens_at="2026-11-26T07:00:00+07:00"))
    messages, _ = run(ActionTourismPlaceInfo(), tracker(
        "What time does Dau Pagoda open?", intent="tourism_place_info", slots={"lang": "en"}))
    [card] = cards(messages, "place")
    assert card["name"] == "Dau Pagoda" and card["hours_text"].startswith("Closed now, opens at 07:00")
    assert api.calls("GET", "/api/v1/places")[0].query["lang"] == ["en"]


def test_unknown_place(api):
    messages, _ = run(ActionTourismPlaceInfo(), tracker(
        "chùa Xyz ở đâu", intent="tourism_place_info", entities=[{"entity": "place", "value": "chùa Xyz"}]))
    assert not cards(messages, "place") and "chùa Xyz" in texts(messages)


def test_places_to_visit_near_a_shared_point(api):
    api.places += [place(1, "Đền Đô", kind="temple", distance_m=1500.0),
                   place(2, "Khách sạn A", kind="hotel_homestay")]
    messages, _ = run(ActionTourismAttractions(), tracker(
        '/share_location{"lat":21.1,"lon":106.1}', intent="share_location", slots={"lat": 21.1, "lon": 106.1}))
    [call] = api.calls("GET", "/api/v1/places")
    assert call.query["near"] == ["21.100000,106.100000"] and "temple" in call.query["kind"]
    assert [c["name"] for c in cards(messages, "place")] == ["Đền Đô"]
    assert "~1.5 km" in texts(messages) and "gần bạn" in texts(messages)


def test_where_to_stay(api):
    api.places += [place(1, "Đền Đô", kind="temple"), place(2, "Khách sạn A", kind="hotel_homestay")]
    messages, _ = run(ActionTourismAccommodation(), tracker("khách sạn", intent="tourism_accommodation"))
    assert [c["name"] for c in cards(messages, "place")] == ["Khách sạn A"]
    assert "Khách sạn A\n" in texts(messages) + "\n" and "mở cửa" not in texts(messages)
    assert api.calls("GET", "/api/v1/places")[0].query["kind"] == ["hotel_homestay"]


def test_festivals_with_lunar_dates(api):
    api.events.append({"id": 5, "name": "Hội Lim", "name_vi": "Hội Lim", "start": "2027-02-20",
                       "end": "2027-02-22", "main_day": "2027-02-21", "calendar": "lunar",
                       "lunar_date": {"month": 1, "day": 13, "leap": False}, "venue": "Đồi Lim",
                       "place": {"id": 9, "name": "Đồi Lim"}})
    messages, _ = run(ActionTourismEvents(), tracker("có lễ hội gì", intent="tourism_events"))
    [card] = cards(messages, "event")
    assert_valid_card(card)
    assert card["place_id"] == 9
    assert card["dates_text"] == "20/02/2027 – 22/02/2027 (chính hội 21/02/2027, ngày 13 tháng 1 âm lịch)"
    assert "Hội Lim" in texts(messages)


def test_food(api):
    api.food.append({"id": 2, "name": "Bánh phu thê", "name_vi": "Bánh phu thê", "description": "…",
                     "where": "Đình Bảng", "places": [{"id": 4}]})
    messages, _ = run(ActionTourismFood(), tracker("đặc sản", intent="tourism_food"))
    [card] = cards(messages, "food")
    assert_valid_card(card)
    assert card["place_ids"] == [4] and "Bánh phu thê — Đình Bảng" in texts(messages)


def test_tourism_with_the_api_down(api_down):
    for action in (ActionTourismEvents(), ActionTourismFood(), ActionTourismAttractions()):
        messages, _ = run(action, tracker("?"))
        assert "thử lại" in texts(messages)


def test_words_for_hours_and_dates():
    now = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)   # 10:00 Wednesday in Vietnam
    assert hours_text({"open_now": False, "opens_at": "2026-11-26T07:30:00+07:00"}, now, "vi") == \
        "Đang đóng cửa, mở lúc 07:30 ngày mai"
    assert hours_text({"open_now": False, "opens_at": "2026-11-28T07:30:00+07:00"}, now, "en") == \
        "Closed now, opens at 07:30 Saturday"
    assert hours_text({"open_now": None, "note": "Mở cửa tự do"}, now, "vi") == "Mở cửa tự do"
    one_day = {"start": "2027-03-01", "end": "2027-03-01", "main_day": "2027-03-01", "lunar_date": None}
    assert dates_text(one_day, "en") == "01/03/2027"


def test_a_follow_up_about_the_last_place(api):
    api.places.append(place(3, "Chùa Dâu", tickets=[{"label": "Vào cửa", "price_vnd": 20000}]))
    _, events = run(ActionTourismPlaceInfo(), tracker(
        "chùa Dâu ở đâu", intent="tourism_place_info", entities=[{"entity": "place", "value": "Chùa Dâu"}]))
    assert events == [{"event": "slot", "name": "last_place", "value": "3", "timestamp": None}]
    # Named nowhere: the place just discussed (as a place question or as a fallback).
    messages, _ = run(ActionTourismPlaceInfo(), tracker("giá vé bao nhiêu", intent="tourism_place_info",
                                                        slots={"last_place": "3"}))
    assert cards(messages, "place")[0]["price_text"] == "Vào cửa: 20.000 đ"
    messages, _ = run(ActionFallback(), tracker("gia ve bao nhieu", intent="nlu_fallback",
                                                slots={"last_place": "3"}))
    assert cards(messages, "place")[0]["id"] == 3
    messages, _ = run(ActionFallback(), tracker("gia ve bao nhieu", intent="nlu_fallback"))
    assert not cards(messages, "place") and "chưa hiểu" in texts(messages)
