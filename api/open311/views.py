"""Categories and reports → Open311 dictionaries (the public view only: no reporter data)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.photos.urls import media_url
from api.reference.models import Category
from api.reports.models import Report, ReportEvent
from api.reports.states import OPEN311_STATUS, STATUS_LABELS_VI
from api.sla.models import SlaClock

DATATYPE_DESCRIPTIONS = {
    "string": "Một dòng chữ, tối đa 200 ký tự / one line of text, at most 200 characters",
    "text": "Đoạn văn, tối đa 4000 ký tự / free text, at most 4000 characters",
    "number": "Một số / a number",
    "datetime": "Thời điểm ISO 8601 / an ISO 8601 date and time",
    "singlevaluelist": "Một trong các giá trị (key) / one of the keys below",
    "multivaluelist": "Một hoặc nhiều giá trị (key) / one or more of the keys below",
}


def local(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).isoformat(timespec="seconds")


def _pick(obj, base: str, lang: str):
    """The English text when asked for and present, else the Vietnamese one."""
    english = getattr(obj, f"{base}_en", None) if lang == "en" else None
    return english or getattr(obj, f"{base}_vi")


def service(category: Category, lang: str) -> dict:
    return {
        "service_code": category.code,
        "service_name": _pick(category, "name", lang),
        "description": _pick(category, "description", lang),
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": category.open311_keywords or ", ".join(category.keywords or []),
        "group": _pick(category.group, "name", lang),
    }


def definition(category: Category, lang: str) -> dict:
    attributes = []
    for spec in sorted(category.attributes or [], key=lambda s: s.get("order", 0)):
        datatype = spec.get("datatype", "string")
        item = {
            "variable": True,
            "code": spec["code"],
            "datatype": datatype,
            "required": bool(spec.get("required")),
            "datatype_description": DATATYPE_DESCRIPTIONS.get(datatype),
            "order": spec.get("order", 0),
            "description": (spec.get("description_en") if lang == "en" else None)
            or spec.get("description_vi"),
        }
        if datatype in ("singlevaluelist", "multivaluelist"):
            item["values"] = [{"key": v["key"],
                               "name": (v.get("name_en") if lang == "en" else None) or v["name_vi"]}
                              for v in spec.get("values", [])]
        attributes.append(item)
    return {"service_code": category.code, "attributes": attributes}


def resolve_due(session: Session, report_ids: list[int]) -> dict[int, datetime]:
    """The RESOLVE due time of many reports in one query (public_sla does one per report)."""
    if not report_ids:
        return {}
    rows = session.execute(
        select(SlaClock.report_id, SlaClock.due_at)
        .where(SlaClock.report_id.in_(report_ids), SlaClock.kind == "RESOLVE")
        .order_by(SlaClock.report_id, SlaClock.cycle.desc(), SlaClock.id.desc())
        .distinct(SlaClock.report_id))
    return {rid: due for rid, due in rows}


def public_events(session: Session, report_ids: list[int]) -> dict[int, list[ReportEvent]]:
    found: dict[int, list[ReportEvent]] = {rid: [] for rid in report_ids}
    if report_ids:
        for event in session.scalars(select(ReportEvent).where(
                ReportEvent.report_id.in_(report_ids), ReportEvent.public.is_(True))
                .order_by(ReportEvent.id)):
            found[event.report_id].append(event)
    return found


def note(event: ReportEvent) -> dict:
    return {
        "type": event.type,
        "status": OPEN311_STATUS.get(event.to_status) if event.to_status else None,
        "status_notes": STATUS_LABELS_VI.get(event.to_status) if event.to_status else None,
        "datetime": local(event.created_at),
        "summary": event.note,
    }


def service_request(report: Report, lang: str, due: dict[int, datetime],
                    events: dict[int, list[ReportEvent]] | None = None) -> dict:
    unit = report.unit
    photos = [media_url(p.display_key) for p in report.photos]
    out = {
        "service_request_id": report.code,
        "status": OPEN311_STATUS.get(report.status, "open"),
        "status_notes": STATUS_LABELS_VI.get(report.status, report.status),
        "service_name": _pick(report.category, "name", lang),
        "service_code": report.category_code,
        "description": report.description,
        "agency_responsible": _pick(unit, "name", lang) if unit else None,
        "service_notice": None,
        "requested_datetime": local(report.created_at),
        "updated_datetime": local(report.updated_at),
        "expected_datetime": local(due.get(report.id)),
        "address": report.address,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lon,
        "media_url": photos[0] if photos else None,
    }
    if events is not None:
        out["extended_attributes"] = {
            "ward": {"code": report.ward.code, "name": report.ward.name},
            "fine_status": report.status,
            "duplicate_of": report.duplicate_of.code if report.duplicate_of_id else None,
            "photos": photos,
        }
        out["notes"] = [note(e) for e in events.get(report.id, [])]
    return out


def request_update(event: ReportEvent, report: Report) -> dict:
    """One row of the update feed (the FixMyStreet-style servicerequestupdates extension)."""
    status = event.to_status or report.status
    return {
        "update_id": str(event.id),
        "service_request_id": report.code,
        "status": OPEN311_STATUS.get(status, "open"),
        "status_notes": STATUS_LABELS_VI.get(status, status),
        "fine_status": status,
        "type": event.type,
        "updated_datetime": local(event.created_at),
        "description": event.note,
    }
