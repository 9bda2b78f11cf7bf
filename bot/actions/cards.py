"""The custom payloads the actions send (``mobile_contracts/chat/cards.schema.json``).

One builder per card type, so that every field the app relies on is set in one place.
"""
from __future__ import annotations

from urllib.parse import urlencode

DEEP_LINK_NEW_REPORT = "bacninhioc://report/new"


def report_status(report: dict, *, status_label: str, due_at: str | None, due_text: str | None,
                  lang: str) -> dict:
    category = report.get("category") or {}
    unit = report.get("unit") or None
    return {"type": "report_status", "code": report["code"], "status": report["status"],
            "status_label": status_label,
            "category": (category.get(f"name_{lang}") or category.get("name_vi")) if category else None,
            "unit": (unit.get(f"name_{lang}") or unit.get("name_vi")) if unit else None,
            "due_at": due_at, "due_text": due_text, "public_url": report.get("public_url")}


def report_created(report: dict, *, status_label: str) -> dict:
    return {"type": "report_created", "code": report["code"], "status": report.get("status") or "new",
            "status_label": status_label, "public_url": report.get("public_url")}


def report_draft(*, category: str | None, description: str, lat: float | None, lon: float | None,
                 address: str | None) -> dict:
    fields = {"category": category, "description": description, "lat": lat, "lon": lon,
              "address": address}
    query = urlencode({k: v for k, v in fields.items() if v is not None})
    return {"type": "report_draft", **fields, "deep_link": f"{DEEP_LINK_NEW_REPORT}?{query}"}


def place(item: dict, *, hours_text: str | None, price_text: str | None, url: str) -> dict:
    return {"type": "place", "id": item["id"], "name": item["name"], "kind": item["kind"],
            "address": item.get("address"), "open_now": item.get("open_now"),
            "opens_at": item.get("opens_at"), "closes_at": item.get("closes_at"),
            "hours_text": hours_text, "price_text": price_text,
            "lat": item["lat"], "lon": item["lon"], "url": url}


def event(item: dict, *, dates_text: str) -> dict:
    place_ref = item.get("place") or None
    return {"type": "event", "id": item["id"], "name": item["name"], "start": item["start"],
            "end": item["end"], "main_day": item["main_day"], "dates_text": dates_text,
            "venue": item.get("venue"), "place_id": place_ref["id"] if place_ref else None}


def food(item: dict) -> dict:
    return {"type": "food", "id": item["id"], "name": item["name"],
            "description": item.get("description"), "where": item.get("where"),
            "place_ids": [p["id"] for p in item.get("places") or []]}


def handoff(reference: str, status: str) -> dict:
    return {"type": "handoff", "reference": reference, "status": status}


def location_request(title: str) -> dict:
    """Ask the app to show its share-location button; it answers ``/share_location{lat, lon}``."""
    return {"type": "location_request", "title": title,
            "payload_template": '/share_location{"lat":<lat>,"lon":<lon>}'}
