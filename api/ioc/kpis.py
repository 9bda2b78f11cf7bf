"""``GET /api/v1/ioc/kpis``: the IOC's KPI figures for a range of local days.

The formulas, the window rules, rounding and what ``null`` means are in
docs/kpis.md; the SQL is in api/ioc/kpi_queries.py.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from webargs.fields import DelimitedList

from api.common.fields import LOCAL_TZ, LocalDateTime
from api.db import db
from api.errors import ApiError
from api.ioc import kpi_queries
from api.ioc.auth import ioc_access

blp = Blueprint("ioc_kpis", __name__, url_prefix="/api/v1/ioc",
                description="KPI figures of the IOC wall (formulas: docs/kpis.md)")
IOC_AUTH = [{"staff": []}, {"ioc_key": []}]
MAX_DAYS = 366  # a year, leap years included


class KpiArgs(Schema):
    date_from = fields.Date(data_key="from", metadata={
        "description": "First local day (Asia/Ho_Chi_Minh), inclusive; default: `to`"})
    date_to = fields.Date(data_key="to", metadata={
        "description": "Last local day, inclusive; default: today. At most 366 days in all."})
    group_by = DelimitedList(fields.String(validate=validate.OneOf(kpi_queries.GROUP_BY)),
                             load_default=list, metadata={
        "description": "Comma-separated subset of unit, category, ward; none: totals only"})


def _count(text: str):
    return fields.Integer(metadata={"description": text})


def _ratio(text: str):
    return fields.Float(allow_none=True, metadata={"description": text + " (1 decimal; null "
                                                   "when there is nothing to divide by)"})


def _figure_fields() -> dict:
    """Fresh field objects for each schema that lists the figures."""
    return {
        "received": _count("Reports created in the window"),
        "to_process": _count("Of those, open now"),
        "resolved_on_time": _count("Answers (moves to resolved) in the window within the "
                                   "RESOLVE deadline of their cycle"),
        "resolved_late": _count("Answers in the window after that deadline"),
        "open_on_time": _count("Open reports received in the window, not past their RESOLVE "
                               "deadline now"),
        "open_late": _count("Open reports received in the window, past their RESOLVE "
                            "deadline now"),
        "due_soon": _count("Of open_on_time, running and due within 24 hours"),
        "on_time_pct": _ratio("resolved_on_time / (resolved_on_time + resolved_late) × 100"),
        "late_pct": _ratio("resolved_late / (resolved_on_time + resolved_late) × 100"),
        "median_hours": _ratio("Median hours from receipt to answer, answers in the window"),
        "p90_hours": _ratio("90th percentile of the same hours"),
        "return_rate": _ratio("% of received reports returned by a unit at least once"),
        "reopen_rate": _ratio("% of answers in the window reopened by the citizen since"),
        "satisfaction_pct": _ratio("% of ratings given in the window with a score of 4 or 5"),
    }


class KpiKeyOut(Schema):
    unit_code = fields.String(allow_none=True, metadata={"description": "null: no unit yet"})
    unit_name = fields.String(allow_none=True)
    category_code = fields.String()
    category_name = fields.String()
    ward_code = fields.String()
    ward_name = fields.String()


KpiFiguresOut = Schema.from_dict(_figure_fields(), name="KpiFiguresOut")
KpiGroupOut = Schema.from_dict(
    {"key": fields.Nested(KpiKeyOut, metadata={"description": "Only the group_by dimensions"}),
     **_figure_fields()}, name="KpiGroupOut")


class KpiOut(Schema):
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    timezone = fields.String()
    group_by = fields.List(fields.String())
    generated_at = LocalDateTime(metadata={"description": "The 'now' of the open figures"})
    totals = fields.Nested(KpiFiguresOut)
    groups = fields.List(fields.Nested(KpiGroupOut), metadata={
        "description": "Ordered by open_late desc, received desc, then key codes"})


def date_range(args: dict, today: date) -> tuple[date, date]:
    """The requested local days; raises INVALID_DATE_RANGE when they make no window."""
    last = args.get("date_to") or today
    first = args.get("date_from") or last
    if first > last:
        raise ApiError(422, "INVALID_DATE_RANGE", "Ngày bắt đầu không được sau ngày kết thúc.",
                       {"from": [f"'from' ({first}) is after 'to' ({last})."]})
    if (last - first).days + 1 > MAX_DAYS:
        raise ApiError(422, "INVALID_DATE_RANGE",
                       f"Khoảng thời gian tối đa {MAX_DAYS} ngày.",
                       {"to": [f"At most {MAX_DAYS} days, from 'from' to 'to' inclusive."]})
    return first, last


@blp.route("/kpis")
@ioc_access
@blp.arguments(KpiArgs, location="query")
@blp.response(200, KpiOut)
@blp.doc(security=IOC_AUTH)
def kpis(args):
    """KPI figures for local days `from`..`to`: totals, and groups by unit, category or ward."""
    now = datetime.now(timezone.utc)
    first, last = date_range(args, now.astimezone(LOCAL_TZ).date())
    group_by = list(dict.fromkeys(args["group_by"]))  # repeated names once, in the given order
    start, end = kpi_queries.window(first, last)
    result = kpi_queries.compute(db.read_session, start, end, group_by, now=now)
    return {"date_from": first, "date_to": last, "timezone": "Asia/Ho_Chi_Minh",
            "group_by": group_by, "generated_at": now, **result}

