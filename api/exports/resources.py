"""Open data: every report's public fields as CSV or GeoJSON, streamed.

Rows come from a server-side cursor in batches and are written as they come,
so a year of reports never sits in memory. Only public fields: no reporter,
no contact, no private events.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta, timezone

from flask import Response, stream_with_context
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate, validates_schema, ValidationError
from sqlalchemy import select

from api.common.fields import LOCAL_TZ
from api.db import db
from api.reference.models import Category, Unit, Ward
from api.reports.models import Report
from api.reports.states import OPEN311_STATUS

blp = Blueprint("exports", __name__, url_prefix="/api/v1/exports",
                description="Open data exports (public fields only)")
MAX_SPAN_DAYS = 366
BATCH = 1000
COLUMNS = ("code", "status", "open311_status", "category", "category_name_vi", "description",
           "lat", "lon", "address", "ward_code", "ward_name", "unit", "created_at", "updated_at")


_DAYS = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31),
                       error="Dates must be between 2000-01-01 and 2100-12-31.")


class ExportArgs(Schema):
    date_from = fields.Date(data_key="from", validate=_DAYS,
                            metadata={"description": "first day (local), default 30 days ago"})
    date_to = fields.Date(data_key="to", validate=_DAYS,
                          metadata={"description": "last day (local), default today"})
    status = fields.String(validate=validate.OneOf(["open", "closed"]))

    @validates_schema
    def _range(self, data, **_):
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError("'from' must not be after 'to'.", "from")
        if start and end and (end - start).days > MAX_SPAN_DAYS:
            raise ValidationError(f"At most {MAX_SPAN_DAYS} days per export.", "to")


def _window(args: dict) -> tuple[datetime, datetime]:
    today = datetime.now(LOCAL_TZ).date()
    end = args.get("date_to") or today
    start = args.get("date_from") or (end - timedelta(days=30))
    if (end - start).days > MAX_SPAN_DAYS:
        start = end - timedelta(days=MAX_SPAN_DAYS)
    return (datetime.combine(start, time.min, LOCAL_TZ).astimezone(timezone.utc),
            datetime.combine(end + timedelta(days=1), time.min, LOCAL_TZ).astimezone(timezone.utc))


def _rows(args: dict):
    start, end = _window(args)
    stmt = (select(Report.code, Report.status, Report.category_code, Category.name_vi,
                   Report.description, Report.lat, Report.lon, Report.address, Report.ward_code,
                   Ward.name, Unit.code, Report.created_at, Report.updated_at)
            .join(Category, Category.code == Report.category_code)
            .join(Ward, Ward.code == Report.ward_code)
            .outerjoin(Unit, Unit.id == Report.unit_id)
            .where(Report.created_at >= start, Report.created_at < end)
            .order_by(Report.created_at, Report.id))
    if args.get("status"):
        wanted = [s for s, o in OPEN311_STATUS.items() if o == args["status"]]
        stmt = stmt.where(Report.status.in_(wanted))
    # A server-side cursor: rows arrive in batches instead of all at once.
    result = db.session.execute(stmt.execution_options(yield_per=BATCH, stream_results=True))
    for r in result:
        yield {"code": r[0], "status": r[1], "open311_status": OPEN311_STATUS[r[1]],
               "category": r[2], "category_name_vi": r[3], "description": r[4], "lat": r[5],
               "lon": r[6], "address": r[7], "ward_code": r[8], "ward_name": r[9], "unit": r[10],
               "created_at": r[11].astimezone(LOCAL_TZ).isoformat(),
               "updated_at": r[12].astimezone(LOCAL_TZ).isoformat()}


@blp.route("/reports.csv")
@blp.arguments(ExportArgs, location="query")
@blp.response(200, description="CSV (UTF-8 with BOM, so spreadsheet software reads Vietnamese)")
@blp.doc(security=[])
def reports_csv(args):
    """Reports created in the date range (local days), public fields, as CSV."""
    def generate():
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
        buffer.write("\ufeff")
        writer.writeheader()
        for n, row in enumerate(_rows(args), 1):
            writer.writerow(row)
            if n % 200 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=reports.csv"})


@blp.route("/reports.geojson")
@blp.arguments(ExportArgs, location="query")
@blp.response(200, description="GeoJSON FeatureCollection")
@blp.doc(security=[])
def reports_geojson(args):
    """Reports created in the date range (local days), public fields, as GeoJSON."""
    def generate():
        yield '{"type": "FeatureCollection", "features": ['
        for n, row in enumerate(_rows(args)):
            feature = {"type": "Feature", "id": row["code"],
                       "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                       "properties": {k: v for k, v in row.items() if k not in ("lat", "lon")}}
            yield ("," if n else "") + json.dumps(feature, ensure_ascii=False)
        yield "]}"
    return Response(stream_with_context(generate()), mimetype="application/geo+json")
