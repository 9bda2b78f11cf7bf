"""Report → public dictionaries (the shape of ReportOut). No personal data here."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import object_session

from api.photos.urls import photo_out
from api.reports.models import Report, ReportEvent
from api.reports.states import STATUS_LABELS_VI
from api.sla.service import public_sla, public_slas

_LOOKUP = object()


def public_report(report: Report, sla=_LOOKUP) -> dict:
    """``sla``: the clock when the caller read it with a page (``public_reports``)."""
    unit = report.unit
    return {
        "code": report.code,
        "status": report.status,
        "status_label": STATUS_LABELS_VI.get(report.status, report.status),
        "category": {"code": report.category.code, "name_vi": report.category.name_vi,
                     "name_en": report.category.name_en},
        "description": report.description,
        "lat": report.lat,
        "lon": report.lon,
        "address": report.address,
        "ward": {"code": report.ward.code, "name": report.ward.name},
        "unit": ({"code": unit.code, "name_vi": unit.name_vi, "name_en": unit.name_en}
                 if unit else None),
        "attributes": report.attributes or {},
        "photos": [photo_out(p) for p in report.photos],
        "duplicate_of": report.duplicate_of.code if report.duplicate_of_id else None,
        "sla": public_sla(object_session(report), report) if sla is _LOOKUP else sla,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "public_url": f"{current_app.config['PUBLIC_BASE_URL']}/api/v1/reports/{report.code}",
    }


def public_event(event: ReportEvent, photos: list | None = None) -> dict:
    return {"type": event.type, "status": event.to_status,
            "status_label": STATUS_LABELS_VI.get(event.to_status) if event.to_status else None,
            "note": event.note, "actor_kind": event.actor_kind,
            "photos": [photo_out(p) | {"id": p.id} for p in photos or []],
            "created_at": event.created_at}


def public_reports(reports: list[Report]) -> list[dict]:
    """A page of reports, their SLA clocks read in one query."""
    if not reports:
        return []
    slas = public_slas(object_session(reports[0]), reports)
    return [public_report(r, slas[r.id]) for r in reports]


def geojson_features(reports: list[Report]) -> list[dict]:
    return [_feature(r, props) for r, props in zip(reports, public_reports(reports))]


def _feature(report: Report, props: dict) -> dict:
    props.pop("lat"), props.pop("lon")
    return {"type": "Feature", "id": report.code,
            "geometry": {"type": "Point", "coordinates": [report.lon, report.lat]},
            "properties": props}
