"""The read side of reports: lookup by code, lists, nearby duplicates, my reports."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import Select, and_, func, or_, select, text, tuple_
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.reports import codes
from api.reports.models import Report, ReportEvent, ReportFollower
from api.reports.states import OPEN_STATUSES, STATUSES

DUPLICATE_RADIUS_M = 250
DUPLICATE_WINDOW = timedelta(days=30)
DUPLICATE_LIMIT = 5


def get_by_code(session: Session, typed: str) -> Report:
    code = codes.parse_code(typed)
    report = session.scalar(select(Report).where(Report.code == code)) if code else None
    if report is None:
        raise ApiError(404, "REPORT_NOT_FOUND", "Không tìm thấy phản ánh với mã này.")
    return report


def get_by_code_for_update(session: Session, typed: str) -> Report:
    """The report, row-locked for a change (two officers clicking at once take turns)."""
    code = codes.parse_code(typed)
    report = session.scalar(select(Report).where(Report.code == code)
                            .with_for_update(of=Report)) if code else None
    if report is None:
        raise ApiError(404, "REPORT_NOT_FOUND", "Không tìm thấy phản ánh với mã này.")
    return report


def public_events(session: Session, report: Report) -> list[ReportEvent]:
    return list(session.scalars(select(ReportEvent).where(
        ReportEvent.report_id == report.id, ReportEvent.public.is_(True)).order_by(ReportEvent.id)))


# --- cursors ------------------------------------------------------------------------------

def _encode_cursor(report: Report, ascending: bool) -> str:
    raw = json.dumps([report.updated_at.isoformat(), report.id, ascending])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int, bool]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, rid, ascending = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(stamp), int(rid), bool(ascending)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ApiError(400, "INVALID_CURSOR", "Tham số cursor không hợp lệ.", {"cursor": ["invalid"]})


def _page(session: Session, stmt: Select, *, cursor: str | None, limit: int, ascending: bool
          ) -> tuple[list[Report], str | None]:
    key = tuple_(Report.updated_at, Report.id)
    if cursor:
        stamp, rid, ascending = _decode_cursor(cursor)
        stmt = stmt.where(key > tuple_(stamp, rid) if ascending else key < tuple_(stamp, rid))
    order = (Report.updated_at.asc(), Report.id.asc()) if ascending else \
        (Report.updated_at.desc(), Report.id.desc())
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode_cursor(rows[-1], ascending) if more and rows else None)


# --- filters ------------------------------------------------------------------------------

def _floats(raw: str, count: int, name: str) -> list[float]:
    try:
        values = [float(v) for v in raw.split(",")]
    except ValueError:
        values = []
    if len(values) != count or any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise ApiError(400, "INVALID_PARAMETER", f"Tham số {name} không hợp lệ.",
                       {name: [f"expected {count} comma-separated numbers"]})
    return values


def _near(lat: float, lon: float, radius_m: float):
    """Index-backed circle: the earth_box prefilter uses the GiST index."""
    point = func.ll_to_earth(lat, lon)
    here = func.ll_to_earth(Report.lat, Report.lon)
    return and_(func.earth_box(point, radius_m).op("@>")(here),
                func.earth_distance(point, here) <= radius_m)


def list_reports(session: Session, args: dict) -> tuple[list[Report], str | None]:
    stmt = select(Report)
    problems = {}
    if args.get("status"):
        bad = [s for s in args["status"] if s not in STATUSES]
        if bad:
            problems["status"] = [f"unknown status: {', '.join(bad)}"]
        stmt = stmt.where(Report.status.in_(args["status"]))
    if args.get("category"):
        stmt = stmt.where(Report.category_code.in_(args["category"]))
    if args.get("ward"):
        stmt = stmt.where(Report.ward_code.in_(args["ward"]))
    if problems:
        raise ApiError(400, "INVALID_PARAMETER", "Tham số không hợp lệ.", problems)
    if args.get("bbox"):
        min_lon, min_lat, max_lon, max_lat = _floats(args["bbox"], 4, "bbox")
        if min_lon > max_lon or min_lat > max_lat:
            raise ApiError(400, "INVALID_PARAMETER", "Tham số bbox không hợp lệ.",
                           {"bbox": ["min must not exceed max"]})
        stmt = stmt.where(Report.lat.between(min_lat, max_lat), Report.lon.between(min_lon, max_lon))
    if args.get("near"):
        lat, lon = _floats(args["near"], 2, "near")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ApiError(400, "INVALID_PARAMETER", "Tham số near không hợp lệ.",
                           {"near": ["lat,lon out of range"]})
        stmt = stmt.where(_near(lat, lon, args["radius"]))
    ascending = False
    if args.get("updated_since"):
        stmt = stmt.where(Report.updated_at >= args["updated_since"])
        ascending = True
    return _page(session, stmt, cursor=args.get("cursor"), limit=args["limit"], ascending=ascending)


def nearby_duplicates(session: Session, lat: float, lon: float, category: str
                      ) -> list[tuple[Report, float]]:
    """Open reports of the category within 250 m, last 30 days, nearest first."""
    distance = func.earth_distance(func.ll_to_earth(lat, lon), func.ll_to_earth(Report.lat, Report.lon))
    since = datetime.now(timezone.utc) - DUPLICATE_WINDOW
    stmt = (select(Report, distance.label("distance_m"))
            .where(Report.category_code == category, Report.status.in_(OPEN_STATUSES),
                   Report.created_at >= since, Report.duplicate_of_id.is_(None),
                   _near(lat, lon, DUPLICATE_RADIUS_M))
            .order_by(text("distance_m")).limit(DUPLICATE_LIMIT))
    return [(r, round(d, 1)) for r, d in session.execute(stmt)]


def my_reports(session: Session, citizen_id: int, *, include_followed: bool, cursor: str | None,
               limit: int) -> tuple[list[Report], str | None]:
    mine = Report.citizen_id == citizen_id
    if include_followed:
        followed = select(ReportFollower.report_id).where(ReportFollower.citizen_id == citizen_id)
        mine = or_(mine, Report.id.in_(followed))
    return _page(session, select(Report).where(mine), cursor=cursor, limit=limit, ascending=False)


def event_photos(session: Session, event_ids: list[int]) -> dict[int, list]:
    from api.photos.models import Photo
    out: dict[int, list] = {}
    if event_ids:
        for p in session.scalars(select(Photo).where(Photo.event_id.in_(event_ids))
                                 .order_by(Photo.created_at)):
            out.setdefault(p.event_id, []).append(p)
    return out
