"""Finding places the way people type: without diacritics, in any case, with typos.

The query is folded with ``api.text.fold`` (the same function that wrote
``search_names``/``search_text``), then matched in PostgreSQL.

Ranking, best first:
  5  a name or alias is exactly the query ("chua dau" → Chùa Dâu)
  4  a name or alias starts with the query
  3  a name or alias has a word starting with the query ("dau" → Chùa Dâu)
  2  a name or alias contains the query
  1  no name contains it, but one is close (pg_trgm word similarity ≥ 0.5: typos)
  0  every word of the query is somewhere in the names, description, address, tags or
     kind words ("quan ho", "pagoda thuan thanh")
then by distance when ``near`` is given, then shorter names first.

Two steps keep it fast (docs/tourism.md has the measurements). The literal step
(ranks 5–2 and 0) is a LIKE on the folded names, served by the trigram indexes, OR
a full-text match (``'simple'`` configuration, so no stemming) served by a GIN
index on ``to_tsvector(names || text)``. Only when no name contains the query (a
typo) does the fuzzy step run: the names nearest by word-similarity distance
(``<->>``), which the GiST trigram index returns in order without scoring every
row (scoring every row costs ~35 ms at 10,000 places).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from api.text import fold
from api.tourism import hours as opening
from api.photos.models import Photo
from api.tourism.models import SEARCH_WORDS, Place, PlacePhoto

# Below this, pg_trgm's word similarity matches too much ("chua dau" ~ any "chua …").
WORD_SIMILARITY = 0.5
# The fuzzy step looks at this many nearest names (one page of guesses).
FUZZY_CANDIDATES = 50
# open_now is decided in Python (exceptions, overnight spans): rows read at most.
OPEN_NOW_SCAN_LIMIT = 5000
OPEN_NOW_CHUNK = 100
NAME_SEPARATOR = " | "


@dataclass(frozen=True)
class PlaceQuery:
    q: str | None = None
    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    near: tuple[float, float] | None = None
    radius_m: float = 10_000
    open_at: datetime | None = None   # only places open at that instant
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class PlaceHit:
    place: Place
    distance_m: float | None
    rank: int | None
    thumb_key: str | None = None    # the first photo's thumbnail, if any


def names_folded(*names: str | None) -> str:
    """The stored form of a row's names: folded, distinct, joined by `` | ``."""
    seen: list[str] = []
    for name in names:
        folded = fold(name or "")
        if folded and folded not in seen:
            seen.append(folded)
    return NAME_SEPARATOR.join(seen)


def like_pattern(folded: str) -> str:
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column, folded: str):
    return column.like(like_pattern(folded), escape="\\")


def _literal_match(qf: str):
    """WHERE clause and rank of the literal step for a folded query."""
    names = Place.search_names
    padded = literal(NAME_SEPARATOR) + names + literal(NAME_SEPARATOR)
    spaced = literal(" ") + names
    rank = case(
        (func.strpos(padded, NAME_SEPARATOR + qf + NAME_SEPARATOR) > 0, 5),
        (func.strpos(padded, NAME_SEPARATOR + qf) > 0, 4),
        (func.strpos(spaced, " " + qf) > 0, 3),
        (_contains(names, qf), 2),
        else_=0)
    words = literal_column(SEARCH_WORDS).op("@@")(func.plainto_tsquery(literal_column("'simple'"), qf))
    return or_(_contains(names, qf), words), rank


def _filters(query: PlaceQuery):
    where, distance = [Place.active.is_(True)], None
    if query.kinds:
        where.append(Place.kind.in_(query.kinds))
    if query.tags:
        where.append(Place.tags.contains(list(query.tags)))
    if query.near:
        point = func.ll_to_earth(query.near[0], query.near[1])
        here = func.ll_to_earth(Place.lat, Place.lon)
        distance = func.earth_distance(point, here)
        where += [func.earth_box(point, query.radius_m).op("@>")(here),
                  distance <= query.radius_m]
    return where, distance


def _ranked_ids(query: PlaceQuery, where: list, distance, rank, extra_order: list):
    """SELECT id, rank, distance_m in result order (narrow rows: the sort stays cheap)."""
    columns = [Place.id, (rank if rank is not None else literal(None)).label("rank"),
               (distance if distance is not None else literal(None)).label("distance_m")]
    order = [rank.desc()] if rank is not None else []
    if distance is not None:
        order.append(distance)
    order += extra_order
    if not order:
        order += [Place.rating.desc().nulls_last(), Place.name_vi]
    return select(*columns).where(*where).order_by(*order, Place.id)


def _fuzzy(session: Session, qf: str, where: list, distance) -> list:
    """Names nearest to a query that no name contains (typos), best first."""
    gap = Place.search_names.op("<->>", return_type=Float)(qf)  # 1 - word_similarity(qf, names)
    nearest = (select(Place.id, gap.label("gap")).where(*where).order_by(gap)
               .limit(FUZZY_CANDIDATES).subquery())
    stmt = (select(nearest.c.id, literal(1).label("rank"),
                   (distance if distance is not None else literal(None)).label("distance_m"))
            .join(Place, Place.id == nearest.c.id)
            .where(nearest.c.gap <= 1 - WORD_SIMILARITY)
            .order_by(*([distance] if distance is not None else []), nearest.c.gap,
                      func.length(Place.name_vi), Place.id))
    return session.execute(stmt).all()


def _open_only(session: Session, rows: list, at: datetime, wanted: int | None = None) -> list:
    """The rows whose place is open at ``at``, in order; reads hours in chunks and stops
    once ``wanted`` rows are found."""
    found = []
    for start in range(0, len(rows), OPEN_NOW_CHUNK):
        chunk = rows[start:start + OPEN_NOW_CHUNK]
        hours = dict(session.execute(select(Place.id, Place.opening_hours)
                                     .where(Place.id.in_([r.id for r in chunk]))).all())
        found += [r for r in chunk if opening.status_at(hours.get(r.id), at).open_now]
        if wanted is not None and len(found) >= wanted:
            break
    return found


def _load(session: Session, ids: list[int]) -> dict[int, tuple[Place, str | None]]:
    """The places and the thumbnail of each one's first photo, in one query."""
    thumb = (select(Photo.thumb_key).join(PlacePhoto, PlacePhoto.photo_id == Photo.id)
             .where(PlacePhoto.place_id == Place.id).order_by(PlacePhoto.position).limit(1)
             .correlate(Place).scalar_subquery())
    rows = session.execute(select(Place, thumb.label("thumb_key")).where(Place.id.in_(ids)))
    return {place.id: (place, thumb_key) for place, thumb_key in rows}


def search_places(session: Session, query: PlaceQuery) -> tuple[list[PlaceHit], int | None]:
    """One page of places and the offset of the next page (None at the end)."""
    where, distance = _filters(query)
    qf = fold(query.q or "")
    rank = None
    order = []
    if qf:
        match, rank = _literal_match(qf)
        where = [*where, match]
        order = [func.length(Place.name_vi)]
    stmt = _ranked_ids(query, where, distance, rank, order)
    window = query.limit + 1
    if query.open_at is None:
        rows = session.execute(stmt.offset(query.offset).limit(window)).all()
    else:
        candidates = session.execute(stmt.limit(OPEN_NOW_SCAN_LIMIT)).all()
        rows = _open_only(session, candidates, query.open_at,
                          query.offset + window)[query.offset:query.offset + window]
    fuzzy_page = bool(qf) and query.offset == 0 and not any(r.rank >= 2 for r in rows)
    if fuzzy_page:
        # No name contains the query: the closest names first, then what the words matched.
        guesses = _fuzzy(session, qf, _filters(query)[0], distance)
        if query.open_at is not None:
            guesses = _open_only(session, guesses, query.open_at)
        seen = {r.id for r in guesses}
        rows = guesses + [r for r in rows if r.id not in seen]
    more = len(rows) > query.limit and not fuzzy_page
    rows = rows[:query.limit]
    places = _load(session, [r.id for r in rows])
    hits = [PlaceHit(places[r.id][0], round(r.distance_m, 1) if r.distance_m is not None else None,
                     r.rank, places[r.id][1]) for r in rows]
    return hits, (query.offset + query.limit if more else None)
