"""Load the tourism seed (``api/tourism/data/*.json``). Callers own the transaction.

Rows are keyed by ``slug``. A normal load only adds what is missing, so an
administrator's corrections survive a reload; ``overwrite=True`` puts the seed's
values back. Ward codes missing from the seed (or unknown to the ward table) are
found from the coordinates.
"""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.reference.geo import locate_ward
from api.reference.models import Ward
from api.text import nfc
from api.tourism import hours as opening
from api.tourism.editing import food_search_names, place_search_columns
from api.tourism.models import Food, FoodPlace, Place, TourismEvent

DATA = Path(__file__).parent / "data"


def _read(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _text(value):
    return nfc(value) if isinstance(value, str) else value


def _upsert(session: Session, model, rows: list[dict], overwrite: bool) -> int:
    """Insert by slug; with ``overwrite`` also replace existing rows. Returns rows written."""
    if not rows:
        return 0
    stmt = insert(model).values(rows)
    if overwrite:
        columns = [c for c in rows[0] if c != "slug"]
        stmt = stmt.on_conflict_do_update(index_elements=["slug"],
                                          set_={c: stmt.excluded[c] for c in columns})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=["slug"])
    return len(session.execute(stmt.returning(model.id)).all())


def load_places(session: Session, province_code: str, *, overwrite: bool = False,
                source: dict | None = None) -> int:
    data = source or _read("places.json")
    wards = set(session.scalars(select(Ward.code).where(Ward.province_code == province_code)))
    rows = []
    for p in data["places"]:
        problems = opening.validate(p.get("opening_hours"))
        if problems:
            raise ValueError(f"place {p['slug']}: {problems}")
        row = {k: _text(v) for k, v in p.items()}
        row["aliases"] = [nfc(a) for a in p.get("aliases", [])]
        row.setdefault("tickets", [])
        row.setdefault("tags", [])
        row.setdefault("unverified", [])
        row.update(rating=p.get("rating"), rating_count=p.get("rating_count", 0), active=True)
        if row.get("ward_code") not in wards:
            hit = locate_ward(session, p["lat"], p["lon"], province_code) if wards else None
            row["ward_code"] = hit.code if hit else None
        row.update(place_search_columns(row))
        rows.append(row)
    return _upsert(session, Place, rows, overwrite)


def _place_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Place.slug, Place.id)).all())


def load_events(session: Session, *, overwrite: bool = False, source: dict | None = None) -> int:
    data = source or _read("events.json")
    places = _place_ids(session)
    wards = dict(session.execute(select(Place.slug, Place.ward_code)).all())
    rows = []
    for e in data["events"]:
        row = {k: _text(v) for k, v in e.items() if k != "place"}
        row.update(place_id=places.get(e.get("place")), ward_code=wards.get(e.get("place")),
                   active=True)
        rows.append(row)
    return _upsert(session, TourismEvent, rows, overwrite)


def load_food(session: Session, *, overwrite: bool = False, source: dict | None = None) -> int:
    data = source or _read("food.json")
    rows = []
    for i, f in enumerate(data["food"]):
        row = {k: _text(v) for k, v in f.items() if k != "places"}
        row["aliases"] = [nfc(a) for a in f.get("aliases", [])]
        row.update(search_names=food_search_names(row), sort=i, active=True)
        rows.append(row)
    written = _upsert(session, Food, rows, overwrite)
    places = _place_ids(session)
    foods = dict(session.execute(select(Food.slug, Food.id)).all())
    links = [{"food_id": foods[f["slug"]], "place_id": places[slug]}
             for f in data["food"] for slug in f.get("places", []) if slug in places]
    if overwrite:
        session.execute(delete(FoodPlace).where(
            FoodPlace.food_id.in_([foods[f["slug"]] for f in data["food"]])))
    if links:
        session.execute(insert(FoodPlace).values(links).on_conflict_do_nothing())
    return written


def load_all(session: Session, province_code: str, *, overwrite: bool = False) -> dict[str, int]:
    return {"places": load_places(session, province_code, overwrite=overwrite),
            "events": load_events(session, overwrite=overwrite),
            "food": load_food(session, overwrite=overwrite)}


def tourism_counts(session: Session) -> dict[str, int]:
    return {name: session.scalar(select(func.count()).select_from(model))
            for name, model in (("places", Place), ("events", TourismEvent), ("food", Food))}
