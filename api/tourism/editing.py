"""Admin writes: create and correct places and festivals. Callers commit.

Correcting a field clears it from ``unverified`` unless the request sets
``unverified`` itself: an administrator who types the ticket price has checked it.
"""
from __future__ import annotations

import re
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ApiError, ValidationFailed
from api.photos.models import Photo
from api.photos.service import accept_photo
from api.reference.geo import locate_ward
from api.reference.models import Ward
from api.text import clean, fold, nfc
from api.tourism import hours as opening
from api.tourism.models import Place, PlacePhoto, TourismEvent
from api.tourism.search import names_folded

# Words for each kind, so that "chua", "pagoda" or "lang nghe" also find places by kind.
KIND_WORDS = {
    "pagoda": "chùa pagoda", "temple": "đền temple", "communal_house": "đình communal house",
    "church": "nhà thờ church", "museum": "bảo tàng museum", "historic_site": "di tích historic site",
    "craft_village": "làng nghề craft village", "park_nature": "công viên thiên nhiên park nature",
    "market": "chợ market", "restaurant": "nhà hàng quán ăn restaurant",
    "cafe": "cà phê cafe coffee", "hotel_homestay": "khách sạn nhà nghỉ homestay hotel",
    "shopping": "mua sắm shopping", "other": "",
}
PLACE_TEXT_FIELDS = ("name_vi", "name_en", "description_vi", "description_en", "address_vi",
                     "address_en")
EVENT_TEXT_FIELDS = ("name_vi", "name_en", "description_vi", "description_en", "venue_vi",
                     "venue_en")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def place_search_columns(values: dict) -> dict:
    """``search_names`` and ``search_text`` for a place given as a dict of its fields."""
    names = names_folded(values.get("name_vi"), values.get("name_en"), *values.get("aliases", []))
    other = " ".join(filter(None, [
        values.get("description_vi"), values.get("description_en"), values.get("address_vi"),
        values.get("address_en"), KIND_WORDS.get(values.get("kind", ""), ""),
        " ".join(t.replace("_", " ") for t in values.get("tags", []))]))
    return {"search_names": names, "search_text": fold(other)}


def food_search_names(values: dict) -> str:
    return names_folded(values.get("name_vi"), values.get("name_en"), *values.get("aliases", []))


def slugify(text: str) -> str:
    return _SLUG_JUNK.sub("-", fold(text)).strip("-")[:70] or "place"


def _unique_slug(session: Session, model, base: str) -> str:
    taken = set(session.scalars(select(model.slug).where(model.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_slug(session: Session, model, slug: str | None, own_id: int | None) -> None:
    if slug is None:
        return
    holder = session.scalar(select(model.id).where(model.slug == slug))
    if holder is not None and holder != own_id:
        raise ApiError(409, "ALREADY_EXISTS", "Mã (slug) này đã được dùng.", {"slug": ["taken"]})


def _clean_text(body: dict, fields: tuple[str, ...]) -> None:
    for name in fields:
        if name in body and isinstance(body[name], str):
            body[name] = clean(body[name])


def _ward_problem(session: Session, code: str | None) -> list[str] | None:
    if code and session.get(Ward, code) is None:
        return ["Mã phường/xã không tồn tại."]
    return None


def _place_photos(session: Session, photo_ids: list) -> tuple[list[Photo], list[str] | None]:
    photos = {p.id: p for p in session.scalars(select(Photo).where(Photo.id.in_(photo_ids)))}
    missing = [str(i) for i in photo_ids if i not in photos or photos[i].citizen_id is not None]
    if missing:
        return [], [f"Không tìm thấy ảnh của cán bộ: {', '.join(missing)}"]
    if len(set(photo_ids)) != len(photo_ids):
        return [], ["Một ảnh xuất hiện hai lần."]
    return [photos[i] for i in photo_ids], None


def _mark_checked(row, body: dict) -> None:
    if "unverified" not in body:
        touched = set(body) | {re.sub(r"_(vi|en)$", "", k) for k in body}
        if {"lat", "lon"} & set(body):
            touched.add("coordinates")
        if {"calendar", "month", "day", "leap_month"} & set(body):
            touched.add("date")
        row.unverified = [f for f in row.unverified or [] if f not in touched]


def save_place(session: Session, body: dict, place: Place | None = None) -> Place:
    """Create (``place`` None) or change a place; every problem is reported at once."""
    body = dict(body)
    _clean_text(body, PLACE_TEXT_FIELDS + ("phone", "website"))
    if "aliases" in body:
        body["aliases"] = [nfc(a).strip() for a in body["aliases"] if a.strip()]
    problems: dict[str, list[str]] = {}
    if "opening_hours" in body:
        problems.update(opening.validate(body["opening_hours"]))
    ward_problem = _ward_problem(session, body.get("ward_code"))
    if ward_problem:
        problems["ward_code"] = ward_problem
    photos = None
    if "photo_ids" in body:
        photos, photo_problem = _place_photos(session, body.pop("photo_ids"))
        if photo_problem:
            problems["photo_ids"] = photo_problem
    if problems:
        code = "UNKNOWN_REFERENCE" if set(problems) <= {"ward_code"} else "VALIDATION_ERROR"
        raise ValidationFailed(problems, code=code)

    creating = place is None
    _check_slug(session, Place, body.get("slug"), None if creating else place.id)
    if creating:
        place = Place(aliases=[], tickets=[], tags=[], unverified=[], rating_count=0, active=True)
        place.slug = body.pop("slug", None) or _unique_slug(session, Place, slugify(body["name_vi"]))
        session.add(place)
    else:
        _mark_checked(place, body)
    for name, value in body.items():
        setattr(place, name, value)
    if "ward_code" not in body and (creating or {"lat", "lon"} & set(body)):
        hit = locate_ward(session, place.lat, place.lon, current_app.config["APP"].PROVINCE_CODE)
        place.ward_code = hit.code if hit else None
    values = {c: getattr(place, c) for c in (*PLACE_TEXT_FIELDS, "aliases", "tags", "kind")}
    for name, value in place_search_columns(values).items():
        setattr(place, name, value)
    if photos is not None:
        place.photos = [PlacePhoto(photo_id=p.id, position=i) for i, p in enumerate(photos)]
    session.flush()
    return place


def add_place_photo(session: Session, place: Place, data: bytes, staff_id: int) -> Photo:
    """Store an upload through the photo pipeline and append it to the place's photos."""
    photo = accept_photo(session, None, data, staff_id=staff_id)
    if all(pp.photo_id != photo.id for pp in place.photos):
        place.photos.append(PlacePhoto(photo_id=photo.id, position=len(place.photos)))
    session.flush()
    return photo


def remove_place_photo(session: Session, place: Place, photo_id) -> None:
    kept = [pp for pp in place.photos if pp.photo_id != photo_id]
    if len(kept) == len(place.photos):
        raise ApiError(404, "PLACE_PHOTO_NOT_FOUND", "Địa điểm không có ảnh này.")
    place.photos = kept
    for i, pp in enumerate(kept):
        pp.position = i
    session.flush()


def _event_problems(session: Session, merged: dict) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    month, day = merged["month"], merged["day"]
    if merged["calendar"] == "solar":
        if merged.get("leap_month"):
            problems["leap_month"] = ["Chỉ ngày âm lịch mới có tháng nhuận."]
        try:
            date(2000, month, day)  # a leap year: 29 February is a valid yearly date
        except ValueError:
            problems["day"] = ["Ngày không có trong tháng này."]
    elif day > 30:
        problems["day"] = ["Tháng âm lịch có tối đa 30 ngày."]
    if merged.get("place_id") and session.get(Place, merged["place_id"]) is None:
        problems["place_id"] = ["Địa điểm không tồn tại."]
    ward_problem = _ward_problem(session, merged.get("ward_code"))
    if ward_problem:
        problems["ward_code"] = ward_problem
    return problems


def save_event(session: Session, body: dict, event: TourismEvent | None = None) -> TourismEvent:
    body = dict(body)
    _clean_text(body, EVENT_TEXT_FIELDS)
    current = {} if event is None else {
        k: getattr(event, k) for k in ("calendar", "month", "day", "leap_month", "place_id",
                                       "ward_code")}
    merged = current | body
    problems = _event_problems(session, merged)
    if problems:
        references = {"place_id", "ward_code"}
        code = "UNKNOWN_REFERENCE" if set(problems) <= references else "VALIDATION_ERROR"
        raise ValidationFailed(problems, code=code)
    _check_slug(session, TourismEvent, body.get("slug"), None if event is None else event.id)
    if event is None:
        event = TourismEvent(leap_month=False, starts_before_days=0, duration_days=1, tags=[],
                             unverified=[], active=True)
        event.slug = body.pop("slug", None) or _unique_slug(session, TourismEvent,
                                                            slugify(body["name_vi"]))
        session.add(event)
    else:
        _mark_checked(event, body)
    for name, value in body.items():
        setattr(event, name, value)
    if not event.ward_code and event.place_id:
        event.ward_code = session.get(Place, event.place_id).ward_code
    session.flush()
    return event

