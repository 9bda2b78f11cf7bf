"""Every card builder against the mobile contract (mobile_contracts/chat/cards.schema.json)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest

from actions import cards
from support import SCHEMA, assert_valid_card

def test_the_schema_is_a_valid_draft_2020_12_schema():
    if SCHEMA is None:
        pytest.skip("no mobile contract")
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_draft_deep_link_carries_the_form():
    card = cards.report_draft(category="pothole", description="Ổ gà to & sâu", lat=21.18, lon=106.07,
                              address=None)
    assert_valid_card(card)
    link = urlsplit(card["deep_link"])
    assert (link.scheme, link.netloc, link.path) == ("bacninhioc", "report", "/new")
    assert parse_qs(link.query) == {"category": ["pothole"], "description": ["Ổ gà to & sâu"],
                                    "lat": ["21.18"], "lon": ["106.07"]}


def test_every_card_kind_is_in_the_contract():
    place = {"id": 3, "name": "Chùa Dâu", "kind": "pagoda", "address": None, "open_now": True,
             "opens_at": None, "closes_at": "2026-11-25T17:00:00+07:00", "lat": 21.04, "lon": 106.05}
    built = [
        cards.report_status({"code": "PA-2026-000001", "status": "new", "category": None, "unit": None},
                            status_label="Đã tiếp nhận", due_at=None, due_text=None, lang="vi"),
        cards.report_created({"code": "PA-2026-000002", "status": "new", "public_url": "https://x/y"},
                             status_label="Received"),
        cards.report_draft(category=None, description="rác", lat=None, lon=None, address="ngõ 3"),
        cards.place(place, hours_text="Đang mở cửa", price_text=None, url="https://x/p/3"),
        cards.event({"id": 1, "name": "Hội Lim", "start": "2027-02-20", "end": "2027-02-22",
                     "main_day": "2027-02-21", "venue": "Đồi Lim", "place": {"id": 9}},
                    dates_text="20/02/2027 – 22/02/2027"),
        cards.food({"id": 2, "name": "Bánh phu thê", "description": None, "where": "Đình Bảng",
                    "places": [{"id": 4}]}),
        cards.handoff("HT-000007", "open"),
        cards.location_request("Gửi vị trí"),
    ]
    assert {c["type"] for c in built} == {"report_status", "report_created", "report_draft", "place",
                                          "event", "food", "handoff", "location_request"}
    for card in built:
        assert_valid_card(card)


def test_the_contract_refuses_a_card_without_its_fields():
    if SCHEMA is None:
        pytest.skip("no mobile contract")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate({"type": "report_status", "code": "PA-2026-000001"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate({"type": "handoff", "reference": "7", "status": "open"})
