"""Report endpoints: one parse, one service call, one return each."""
from __future__ import annotations

import hashlib
import json
import re

from flask import Response, request
from flask_smorest import Blueprint
from sqlalchemy.dialects.postgresql import insert

from api.db import db
from api.errors import ApiError
from api.identity.auth import current_citizen
from api.logs import bind_report
from api.reports import actions, cache, queries, schemas
from api.security.ratelimit import by_citizen_device_and_ip, rate_limit
from api.text import clean
from api.reports.codes import parse_code
from api.reports.models import ReportFollower
from api.reports.service import create_report
from api.reports.views import geojson_features, public_event, public_report, public_reports

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                description="Citizen reports (phản ánh hiện trường)")
me_blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in citizen")

_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,200}$")
CITIZEN_AUTH = [{"firebase": []}, {"device": []}]
_REPORT_OUT = schemas.ReportOut()


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        raise ApiError(400, "INVALID_IDEMPOTENCY_KEY", "Idempotency-Key không hợp lệ.",
                       {"Idempotency-Key": ["8–200 characters: letters, digits, . _ : -"]})
    return key


@blp.route("", methods=["POST"])
@rate_limit("report_create", key=by_citizen_device_and_ip,
            per_hour={"citizen": "RATE_LIMIT_REPORTS_PER_HOUR",
                      "ip": "RATE_LIMIT_REPORTS_PER_IP_PER_HOUR"})
@blp.arguments(schemas.ReportIn)
@blp.response(201, schemas.ReportCreatedOut)
@blp.alt_response(401, description="UNAUTHENTICATED, AUTH_REQUIRED, INVALID_TOKEN, TOKEN_EXPIRED")
@blp.alt_response(409, description="IDEMPOTENCY_KEY_REUSED")
@blp.alt_response(429, description="RATE_LIMITED (Retry-After)")
@blp.alt_response(422, description="VALIDATION_ERROR, UNKNOWN_CATEGORY, OUTSIDE_SERVICE_AREA, …")
@blp.doc(security=CITIZEN_AUTH, parameters=[{
    "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string"},
    "description": "Send one per report; a retry with the same key and body returns the same report."}])
def create(body):
    """Send a report. Location from lat/lon, or from the first photo's GPS when omitted."""
    citizen = current_citizen()
    result = create_report(db.session, citizen, body, idempotency_key=_idempotency_key())
    bind_report(result.report)  # before commit: the tasks sent after it carry the report
    db.session.commit()
    out = public_report(result.report) | {"replayed": result.replayed}
    return out, 201, {"Location": out["public_url"]}


@blp.route("", methods=["GET"])
@blp.arguments(schemas.ReportListArgs, location="query")
@blp.response(200, schemas.ReportPageOut)
@blp.doc(security=[])
def list_reports(args):
    """Public reports: filter by status, category, ward, bbox or near+radius, updated_since."""
    items, next_cursor = queries.list_reports(db.session, args)
    if args["format"] == "geojson":
        from flask import jsonify
        return jsonify({"type": "FeatureCollection", "features": geojson_features(items),
                        "next_cursor": next_cursor})
    return {"items": public_reports(items), "next_cursor": next_cursor}


@blp.route("/duplicates")
@blp.arguments(schemas.DuplicateArgs, location="query")
@blp.response(200, schemas.DuplicateListOut)
@blp.doc(security=[])
def duplicates(args):
    """Up to 5 open reports of the category within 250 m in the last 30 days: follow one instead."""
    hits = queries.nearby_duplicates(db.session, args["lat"], args["lon"], args["category"])
    pages = public_reports([r for r, _ in hits])
    return {"items": [out | {"distance_m": d} for out, (_, d) in zip(pages, hits)]}


@blp.route("/<code>")
@blp.response(200, schemas.ReportOut, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(304, description="Not modified (If-None-Match)")
@blp.alt_response(404, description="REPORT_NOT_FOUND")
@blp.doc(security=[])
def get_report(code):
    """A report's public view (no personal data). Codes are accepted typed in any form."""
    canonical = parse_code(code)
    body = cache.get_public(canonical) if canonical else None
    if body is None:
        report = queries.get_by_code(db.session, code)
        body = json.dumps(_REPORT_OUT.dump(public_report(report)), ensure_ascii=False).encode()
        cache.put_public(report.code, body)
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.blake2b(body, digest_size=16).hexdigest())
    return response.make_conditional(request)


@blp.route("/<code>/events")
@blp.etag
@blp.response(200, schemas.EventListOut)
@blp.doc(security=[])
def report_events(code):
    """The public timeline of a report."""
    report = queries.get_by_code(db.session, code)
    events = queries.public_events(db.session, report)
    photos = queries.event_photos(db.session, [e.id for e in events])
    return {"code": report.code, "events": [public_event(e, photos.get(e.id)) for e in events]}


@blp.route("/<code>/follow", methods=["POST", "DELETE"])
@blp.response(200, schemas.FollowOut)
@blp.doc(security=CITIZEN_AUTH)
def follow(code):
    """Follow a report (POST) to be notified of its progress, or stop following (DELETE)."""
    citizen = current_citizen()
    report = queries.get_by_code(db.session, code)
    if request.method == "POST":
        db.session.execute(insert(ReportFollower).values(report_id=report.id, citizen_id=citizen.id)
                           .on_conflict_do_nothing())
    else:
        db.session.query(ReportFollower).filter_by(report_id=report.id, citizen_id=citizen.id).delete()
    db.session.commit()
    return {"code": report.code, "following": request.method == "POST"}


def _acted(report):
    db.session.commit()
    return public_report(report)


@blp.route("/<code>/reply", methods=["POST"])
@blp.arguments(schemas.ReplyIn)
@blp.response(200, schemas.ReportOut)
@blp.alt_response(403, description="NOT_REPORTER")
@blp.alt_response(409, description="NOT_WAITING")
@blp.alt_response(422, description="NOTE_REQUIRED, PHOTO_NOT_FOUND")
@blp.doc(security=CITIZEN_AUTH)
def reply(body, code):
    """Answer the unit's question (text and/or photos): the clocks run again."""
    citizen = current_citizen()
    return _acted(actions.reply(db.session, citizen, code, clean(body["text"]), body["photo_ids"]))


@blp.route("/<code>/rating", methods=["POST"])
@blp.arguments(schemas.RatingIn)
@blp.response(200, schemas.ReportOut)
@blp.alt_response(403, description="NOT_REPORTER")
@blp.alt_response(409, description="NOT_RESOLVED, ALREADY_RATED")
@blp.doc(security=CITIZEN_AUTH)
def rating(body, code):
    """Rate the answer: 1–5 and a comment (once)."""
    citizen = current_citizen()
    return _acted(actions.rate(db.session, citizen, code, body["score"], clean(body["comment"])))


@blp.route("/<code>/dispute", methods=["POST"])
@blp.arguments(schemas.DisputeIn)
@blp.response(200, schemas.ReportOut)
@blp.alt_response(403, description="NOT_REPORTER")
@blp.alt_response(409, description="NOT_RESOLVED, DISPUTE_WINDOW_CLOSED")
@blp.alt_response(422, description="NOTE_REQUIRED")
@blp.doc(security=CITIZEN_AUTH)
def dispute(body, code):
    """Not satisfied with the answer (within 7 days): the report reopens."""
    citizen = current_citizen()
    return _acted(actions.dispute(db.session, citizen, code, clean(body["reason"])))


@me_blp.route("/reports")
@me_blp.arguments(schemas.MyReportsArgs, location="query")
@me_blp.response(200, schemas.ReportPageOut)
@me_blp.doc(security=CITIZEN_AUTH)
def my_reports(args):
    """Reports I sent (and, with include_followed, those I follow), newest change first."""
    citizen = current_citizen()
    items, next_cursor = queries.my_reports(
        db.session, citizen.id, include_followed=args["include_followed"], cursor=args.get("cursor"),
        limit=args["limit"])
    db.session.commit()  # a first visit creates the citizen row
    return {"items": public_reports(items), "next_cursor": next_cursor}
