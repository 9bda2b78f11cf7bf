"""Public reads: places, festivals and food, in the asked language with Vietnamese behind it."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from api.common.fields import LOCAL_TZ
from api.errors import ApiError
from api.photos.urls import media_url, photo_out
from api.text import fold
from api.tourism import hours as opening
from api.tourism import lunar
from api.tourism.models import PLACE_KINDS, Food, Place, TourismEvent
from api.tourism.search import PlaceHit, PlaceQuery, like_pattern, search_places

LANGS = ("vi", "en")
MAX_EVENT_RANGE_DAYS = 3 * 366


def language(raw: str | None) -> str:
    """"en-GB" → "en"; anything we do not write in → "vi"."""
    primary = (raw or "vi").split("-")[0].lower()
    return primary if primary in LANGS else "vi"


def _t(row, field: str, lang: str) -> str | None:
    """The field in ``lang``, else in Vietnamese (the language every row has)."""
    value = getattr(row, f"{field}_{lang}", None)
    return value if value else getattr(row, f"{field}_vi", None)


def _note(note: dict | None, lang: str) -> str | None:
    if not note:
        return None
    return note.get(f"note_{lang}") or note.get("note_vi") or note.get(lang) or note.get("vi")


def _ward(ward) -> dict | None:
    return {"code": ward.code, "name": ward.name} if ward is not None else None


def _floats(raw: str, name: str) -> tuple[float, float]:
    try:
        lat, lon = (float(v) for v in raw.split(","))
    except ValueError:
        lat = lon = float("nan")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also false for NaN
        raise ApiError(400, "INVALID_PARAMETER", f"Tham số {name} không hợp lệ.",
                       {name: ["expected lat,lon in degrees"]})
    return lat, lon


def place_query(args: dict) -> PlaceQuery:
    """Check the list arguments that the schema cannot, and build the query."""
    unknown = sorted(set(args.get("kind") or ()) - set(PLACE_KINDS))
    if unknown:
        raise ApiError(400, "INVALID_PARAMETER", "Tham số kind không hợp lệ.",
                       {"kind": [f"unknown kind: {', '.join(unknown)}"]})
    near = _floats(args["near"], "near") if args.get("near") else None
    open_at = None
    if args.get("open_now"):
        open_at = args.get("at") or datetime.now(timezone.utc)
    return PlaceQuery(q=args.get("q"), kinds=tuple(args.get("kind") or ()),
                      tags=tuple(args.get("tag") or ()), near=near, radius_m=args["radius"],
                      open_at=open_at, limit=args["limit"], offset=args["offset"])


def _open_state(place: Place, at: datetime, lang: str) -> dict:
    state = opening.status_at(place.opening_hours, at)
    return {"open_now": state.open_now, "opens_at": state.opens_at, "closes_at": state.closes_at,
            "note": _note(state.note, lang)}


def place_summary(hit: PlaceHit, lang: str, at: datetime) -> dict:
    place = hit.place
    thumb = media_url(hit.thumb_key) if hit.thumb_key else None
    return {"id": place.id, "kind": place.kind, "name": _t(place, "name", lang),
            "name_vi": place.name_vi, "address": _t(place, "address", lang),
            "ward": _ward(place.ward), "lat": place.lat, "lon": place.lon,
            "distance_m": hit.distance_m, "tags": place.tags, "rating": place.rating,
            "rating_count": place.rating_count, "thumb_url": thumb,
            "unverified": place.unverified} | _open_state(place, at, lang)


def list_places(session: Session, args: dict) -> dict:
    lang = language(args.get("lang"))
    query = place_query(args)
    hits, next_offset = search_places(session, query)
    at = args.get("at") or datetime.now(timezone.utc)
    return {"lang": lang, "items": [place_summary(h, lang, at) for h in hits],
            "next_offset": next_offset}


def _hours_out(hours: dict | None, lang: str) -> dict | None:
    if hours is None:
        return None
    return {"weekly": hours.get("weekly") or {}, "always_open": bool(hours.get("always_open")),
            "exceptions": [{"date": e["date"], "until": e.get("until") or e["date"],
                            "closed": bool(e.get("closed")), "hours": e.get("hours") or [],
                            "note": _note(e, lang)} for e in hours.get("exceptions") or []],
            "note": _note(hours, lang)}


def get_place(session: Session, place_id: int) -> Place:
    place = session.get(Place, place_id, options=[selectinload(Place.photos)])
    if place is None or not place.active:
        raise ApiError(404, "PLACE_NOT_FOUND", "Không tìm thấy địa điểm.")
    return place


def place_detail(session: Session, place_id: int, args: dict) -> dict:
    lang = language(args.get("lang"))
    at = args.get("at") or datetime.now(timezone.utc)
    place = get_place(session, place_id)
    today = at.astimezone(LOCAL_TZ).date()
    events = []
    for event in session.scalars(select(TourismEvent).where(
            TourismEvent.place_id == place.id, TourismEvent.active.is_(True))):
        for occ in occurrences_of(event, today, today + timedelta(days=365)):
            events.append({"id": event.id, "name": _t(event, "name", lang), "start": occ.start,
                           "end": occ.end, "main_day": occ.main_day})
    events.sort(key=lambda e: e["start"])
    first = place.photos[0].photo.thumb_key if place.photos else None
    summary = place_summary(PlaceHit(place, None, None, first), lang, at)
    return summary | {
        "lang": lang, "aliases": place.aliases, "description": _t(place, "description", lang),
        "opening_hours": _hours_out(place.opening_hours, lang),
        "tickets": [{"label": t.get(f"label_{lang}") or t.get("label_vi"),
                     "price_vnd": t.get("price_vnd")} for t in place.tickets or []],
        "phone": place.phone, "website": place.website,
        "photos": [photo_out(pp.photo) for pp in place.photos], "events": events}


# --- festivals and events -------------------------------------------------------------------

def occurrences_of(event: TourismEvent, start: date, end: date) -> list[lunar.Occurrence]:
    return lunar.occurrences(event.calendar, event.month, event.day, leap=event.leap_month,
                             starts_before_days=event.starts_before_days,
                             duration_days=event.duration_days, only_year=event.year,
                             start=start, end=end)


def event_range(args: dict) -> tuple[date, date]:
    start = args.get("from_") or datetime.now(LOCAL_TZ).date()
    end = args.get("to") or min(start, date(lunar.LAST_YEAR, 1, 1)) + timedelta(days=365)
    problems = {}
    if end < start:
        problems["to"] = ["must be on or after from"]
    elif (end - start).days > MAX_EVENT_RANGE_DAYS:
        problems["to"] = [f"at most {MAX_EVENT_RANGE_DAYS} days after from"]
    for name, day in (("from", start), ("to", end)):
        if not lunar.FIRST_YEAR <= day.year <= lunar.LAST_YEAR:
            problems[name] = [f"years {lunar.FIRST_YEAR}–{lunar.LAST_YEAR} only"]
    if problems:
        raise ApiError(422, "INVALID_DATE_RANGE", "Khoảng thời gian không hợp lệ.", problems)
    return start, end


def _place_ref(place: Place | None, lang: str) -> dict | None:
    if place is None:
        return None
    return {"id": place.id, "name": _t(place, "name", lang), "kind": place.kind,
            "lat": place.lat, "lon": place.lon}


def list_events(session: Session, args: dict) -> dict:
    lang = language(args.get("lang"))
    start, end = event_range(args)
    items = []
    events = session.scalars(select(TourismEvent).where(TourismEvent.active.is_(True))
                             .options(selectinload(TourismEvent.place))).all()
    for event in events:
        for occ in occurrences_of(event, start, end):
            lunar_date = None
            if event.calendar == "lunar":
                lunar_date = {"month": event.month, "day": event.day, "leap": event.leap_month}
            items.append({
                "id": event.id, "name": _t(event, "name", lang), "name_vi": event.name_vi,
                "description": _t(event, "description", lang), "calendar": event.calendar,
                "lunar_date": lunar_date, "start": occ.start, "end": occ.end,
                "main_day": occ.main_day, "venue": _t(event, "venue", lang),
                "place": _place_ref(event.place, lang), "ward": _ward(event.ward),
                "tags": event.tags, "unverified": event.unverified})
    items.sort(key=lambda e: (e["start"], e["main_day"], e["id"]))
    return {"lang": lang, "from_": start, "to": end, "items": items}


# --- food -------------------------------------------------------------------------------------

def list_food(session: Session, args: dict) -> dict:
    lang = language(args.get("lang"))
    stmt = (select(Food).where(Food.active.is_(True)).options(selectinload(Food.places))
            .order_by(Food.sort, Food.id))
    qf = fold(args.get("q") or "")
    if qf:
        stmt = stmt.where(Food.search_names.like(like_pattern(qf), escape="\\")
                          | (Food.search_names.op("%>")(qf)))
    items = [{"id": f.id, "name": _t(f, "name", lang), "name_vi": f.name_vi,
              "description": _t(f, "description", lang), "where": _t(f, "where", lang),
              "season": _t(f, "season", lang),
              "places": [_place_ref(p, lang) for p in f.places if p.active],
              "tags": f.tags, "unverified": f.unverified}
             for f in session.scalars(stmt)]
    return {"lang": lang, "items": items}
