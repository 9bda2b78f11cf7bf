"""The GeoReport v2 endpoints under /open311/v2 (a plain Flask blueprint: Open311 is its own
contract, documented in docs/open311.md, not part of the mobile OpenAPI document)."""
from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, request
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from api.db import db
from api.errors import ApiError
from api.identity.models import Citizen
from api.open311 import keys, views
from api.open311.formats import FORMATS, Open311Error, render, render_error
from api.reference.models import Category, CategoryGroup
from api.reports.codes import parse_code
from api.reports.models import Report, ReportEvent
from api.reports.schemas import ReportIn
from api.reports.service import create_report
from api.reports.states import CLOSED_STATUSES, OPEN_STATUSES

blp = Blueprint("open311", __name__, url_prefix="/open311/v2")

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-01T00:00:00+07:00"
MAX_SPAN = timedelta(days=90)
# The spec's cap on one GET requests answer; also the largest page_size.
MAX_REQUESTS = 1000
MAX_IDS = 200
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]{1,60})\](\[\])?$")
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,200}$")
_TRUE = ("1", "true", "yes")


# --- plumbing -----------------------------------------------------------------------------

def open311_view(view):
    """Check the suffix and the key, and render every failure in the spec's error format."""
    @functools.wraps(view)
    def wrapper(*args, fmt: str, **kwargs):
        if fmt not in FORMATS:
            return render_error("json", Open311Error(
                404, "UNKNOWN_FORMAT", "The path must end in .json or .xml."))
        try:
            g.open311_key = _check_key(required=request.method == "POST")
            return view(*args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            db.session.rollback()
            return render_error(fmt, exc)
    return wrapper


def _check_key(*, required: bool):
    raw = request.values.get("api_key", "").strip()
    if not raw:
        if required:
            raise Open311Error(403, "API_KEY_REQUIRED",
                               "An api_key is required to create service requests.")
        return None
    key = keys.find_active(db.session, raw)
    if key is None or "open311" not in (key.scopes or []):
        raise Open311Error(403, "INVALID_API_KEY", "The api_key is unknown, revoked or not an "
                           "Open311 key.")
    wait = keys.over_limit(key)
    if wait is not None:
        raise Open311Error(429, "RATE_LIMITED",
                           f"Too many calls with this api_key: at most "
                           f"{key.rate_limit_per_minute} a minute.", {"Retry-After": str(wait)})
    return key


def _lang() -> str:
    raw = (request.args.get("lang") or request.args.get("locale") or "vi").lower()
    return "en" if raw.startswith("en") else "vi"


def _local_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _datetime_arg(name: str) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise Open311Error(400, "INVALID_DATE", f"{name} must be a W3C datetime such as "
                                                "2026-01-31T00:00:00+07:00.")
    # A local-time partner omitting the offset means Vietnam time, not UTC.
    return value if value.tzinfo else value.replace(tzinfo=_local_tz())


def _window(start_name: str, end_name: str, *, default: bool) -> tuple[datetime | None, datetime | None]:
    """The requested range, at most 90 days; the most recent 90 days when none is given."""
    start, end = _datetime_arg(start_name), _datetime_arg(end_name)
    if start and end:
        if start > end:
            raise Open311Error(400, "INVALID_DATE_RANGE", f"{start_name} is after {end_name}.")
        if end - start > MAX_SPAN:
            raise Open311Error(400, "DATE_RANGE_TOO_LONG",
                               f"{start_name} to {end_name} may span at most 90 days.")
    elif start:
        end = start + MAX_SPAN
    elif end:
        start = end - MAX_SPAN
    elif default:
        end = datetime.now(timezone.utc)
        start = end - MAX_SPAN
    return start, end


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise Open311Error(400, "INVALID_PARAMETER", f"{name} must be a whole number from "
                                                     f"{low} to {high}.")
    return value


def _csv(name: str) -> list[str]:
    return [v.strip() for v in request.args.get(name, "").split(",") if v.strip()]


def _category(service_code: str) -> Category:
    category = db.session.get(Category, service_code)
    if category is None or not category.active:
        raise Open311Error(404, "UNKNOWN_SERVICE_CODE", f"No service with code '{service_code}'.")
    return category


# --- discovery and services -----------------------------------------------------------------

@blp.get("/discovery.<fmt>")
@open311_view
def discovery(fmt: str):
    base = current_app.config["PUBLIC_BASE_URL"]
    return render(fmt, "discovery", {
        "changeset": CHANGESET,
        "contact": "Trung tâm Giám sát, điều hành đô thị thông minh tỉnh Bắc Ninh (IOC)",
        "key_service": "Xin khóa API (api_key) từ quản trị viên IOC / ask the IOC administrator "
                       "for an api_key",
        "endpoints": [{"specification": SPECIFICATION, "url": f"{base}/open311/v2",
                       "changeset": CHANGESET, "type": "production",
                       "formats": ["text/xml", "application/json"]}],
        "extensions": [
            {"name": "page", "description": "page (from 1) and page_size (1–1000) on GET requests"},
            {"name": "updated_after", "description": "updated_after / updated_before filters on "
                                                     "GET requests (updated_datetime)"},
            {"name": "extensions", "description": "extensions=true adds extended_attributes "
                                                  "(ward, fine_status, duplicate_of, photos) and notes"},
            {"name": "servicerequestupdates", "description": "GET servicerequestupdates.{json,xml}"
                                                             "?start_date=…: the public status feed"},
            {"name": "lang", "description": "lang=en (or locale=en) for English names"},
        ],
    })


@blp.get("/services.<fmt>")
@open311_view
def services(fmt: str):
    lang = _lang()
    categories = db.session.scalars(
        select(Category).join(CategoryGroup).where(Category.active.is_(True))
        .order_by(CategoryGroup.sort, Category.sort, Category.code)).all()
    return render(fmt, "services", [views.service(c, lang) for c in categories])


@blp.get("/services/<service_code>.<fmt>")
@open311_view
def service_definition(service_code: str, fmt: str):
    return render(fmt, "service_definition", views.definition(_category(service_code), _lang()))


# --- reading requests -------------------------------------------------------------------------

def _render_requests(fmt: str, reports: list[Report]):
    session = db.session
    ids = [r.id for r in reports]
    extended = request.args.get("extensions", "").lower() in _TRUE
    events = views.public_events(session, ids) if extended else None
    due = views.resolve_due(session, ids)
    lang = _lang()
    return render(fmt, "service_requests",
                  [views.service_request(r, lang, due, events) for r in reports])


@blp.get("/requests.<fmt>")
@open311_view
def list_requests(fmt: str):
    page_size = _int_arg("page_size", MAX_REQUESTS, 1, MAX_REQUESTS)
    page = _int_arg("page", 1, 1, 1_000_000)
    stmt = select(Report)
    wanted = _csv("service_request_id")
    if wanted:
        # The spec: service_request_id overrides every other filter.
        codes = [c for c in (parse_code(w) for w in wanted[:MAX_IDS]) if c]
        stmt = stmt.where(Report.code.in_(codes))
    else:
        updated_after, updated_before = (_datetime_arg("updated_after"),
                                         _datetime_arg("updated_before"))
        start, end = _window("start_date", "end_date",
                             default=not (updated_after or updated_before))
        if start:
            stmt = stmt.where(Report.created_at >= start, Report.created_at <= end)
        if updated_after:
            stmt = stmt.where(Report.updated_at > updated_after)
        if updated_before:
            stmt = stmt.where(Report.updated_at <= updated_before)
        if _csv("service_code"):
            stmt = stmt.where(Report.category_code.in_(_csv("service_code")))
        statuses = set(_csv("status"))
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "INVALID_PARAMETER", "status must be open, closed or both.")
        if statuses == {"open"}:
            stmt = stmt.where(Report.status.in_(OPEN_STATUSES))
        elif statuses == {"closed"}:
            stmt = stmt.where(Report.status.in_(CLOSED_STATUSES))
    reports = list(db.session.scalars(
        stmt.order_by(Report.created_at.desc(), Report.id.desc())
        .offset((page - 1) * page_size).limit(page_size)))
    return _render_requests(fmt, reports)


@blp.get("/requests/<request_id>.<fmt>")
@open311_view
def get_request(request_id: str, fmt: str):
    code = parse_code(request_id)
    report = db.session.scalar(select(Report).where(Report.code == code)) if code else None
    if report is None:
        raise Open311Error(404, "REQUEST_NOT_FOUND", f"No service request '{request_id}'.")
    return _render_requests(fmt, [report])


@blp.get("/tokens/<token>.<fmt>")
@open311_view
def token(token: str, fmt: str):
    # Requests are created synchronously, so the only token we ever hand out is the id itself.
    code = parse_code(token)
    found = db.session.scalar(select(Report.code).where(Report.code == code)) if code else None
    if found is None:
        raise Open311Error(404, "TOKEN_NOT_FOUND", f"No service request for token '{token}'.")
    return render(fmt, "service_requests", [{"service_request_id": found, "token": token}])


@blp.get("/servicerequestupdates.<fmt>")
@open311_view
def request_updates(fmt: str):
    start, end = _window("start_date", "end_date", default=True)
    page_size = _int_arg("page_size", MAX_REQUESTS, 1, MAX_REQUESTS)
    page = _int_arg("page", 1, 1, 1_000_000)
    rows = db.session.execute(
        select(ReportEvent, Report).join(Report, Report.id == ReportEvent.report_id)
        .where(ReportEvent.public.is_(True), ReportEvent.created_at >= start,
               ReportEvent.created_at <= end)
        # Oldest first, so a synchroniser can resume from the last update it stored.
        .order_by(ReportEvent.created_at, ReportEvent.id)
        .offset((page - 1) * page_size).limit(page_size)).all()
    return render(fmt, "service_request_updates",
                  [views.request_update(event, report) for event, report in rows])


# --- creating requests --------------------------------------------------------------------------

def _form_attributes(category: Category) -> dict:
    known = {spec["code"] for spec in category.attributes or []}
    answers = {}
    for name in request.form:
        match = _ATTRIBUTE.match(name)
        if not match:
            continue
        code, as_list = match.group(1), bool(match.group(2))
        if code not in known:
            raise Open311Error(400, "UNKNOWN_ATTRIBUTE",
                               f"Service '{category.code}' has no attribute '{code}'.")
        values = [v for v in request.form.getlist(name) if v != ""]
        answers[code] = values if as_list or len(values) > 1 else (values[0] if values else "")
    return answers


def _location() -> dict:
    form = request.form
    has_lat, has_long = bool(form.get("lat", "").strip()), bool(form.get("long", "").strip())
    forms = [name for name, present in (("lat/long", has_lat or has_long),
                                        ("address_string", bool(form.get("address_string", "").strip())),
                                        ("address_id", bool(form.get("address_id", "").strip())))
             if present]
    if len(forms) != 1:
        raise Open311Error(400, "LOCATION_REQUIRED" if not forms else "AMBIGUOUS_LOCATION",
                           "Send exactly one location: lat and long, address_string or address_id"
                           + (f" (got {', '.join(forms)})." if forms else "."))
    if forms[0] == "address_string":
        raise Open311Error(400, "ADDRESS_NOT_GEOCODED",
                           "address_string cannot be located here (no geocoder): send lat and long.")
    if forms[0] == "address_id":
        raise Open311Error(400, "ADDRESS_ID_UNSUPPORTED",
                           "This server keeps no address registry: send lat and long.")
    if not (has_lat and has_long):
        raise Open311Error(400, "INVALID_LOCATION", "lat and long must be sent together.")
    try:
        return {"lat": float(form["lat"]), "lon": float(form["long"])}
    except ValueError:
        raise Open311Error(400, "INVALID_LOCATION", "lat and long must be decimal degrees (WGS84).")


def _citizen(key, form) -> Citizen:
    who = (form.get("email", "").strip().lower() or form.get("device_id", "").strip() or "anon")
    principal = f"o311:{key.id}:{who}"[:200]
    name = " ".join(p for p in (form.get("first_name", "").strip(),
                                form.get("last_name", "").strip()) if p) or None
    session = db.session
    session.execute(insert(Citizen).values(principal=principal, display_name=name, locale="vi")
                    .on_conflict_do_nothing(index_elements=["principal"]))
    return session.scalar(select(Citizen).where(Citizen.principal == principal))


_FIELD_NAMES = {"lat": "lat", "lon": "long", "photo_ids": "media", "category": "service_code",
                "contact": "phone", "description": "description", "address": "address_string"}


def _field(name: str) -> str:
    if name.startswith("attributes."):
        return f"attribute[{name.split('.', 1)[1]}]"
    return _FIELD_NAMES.get(name, name)


def _details(errors) -> list[str]:
    if not isinstance(errors, dict):
        return [str(errors)] if errors else []
    lines = []
    for name, messages in errors.items():
        if isinstance(messages, dict):  # nested schema (contact)
            lines += [f"{_field(k)}: {m}" for k, m in _flatten(messages)]
        else:
            text = "; ".join(str(m) for m in (messages if isinstance(messages, list) else [messages]))
            lines.append(f"{_field(name)}: {text}")
    return lines


def _flatten(messages: dict):
    for key, value in messages.items():
        for item in value if isinstance(value, list) else [value]:
            yield key, item


def _translate(exc: ApiError) -> Open311Error:
    """The report service speaks /api/v1 codes; Open311 knows only 400, 403, 404 (and 429)."""
    if exc.status >= 500:
        raise exc
    if exc.code == "UNKNOWN_CATEGORY":
        status = 404
    elif exc.status in (401, 403):
        status = 403
    elif exc.status == 429:
        status = 429
    else:
        status = 400
    return Open311Error(status, exc.code, exc.message, exc.headers, _details(exc.errors))


@blp.post("/requests.<fmt>")
@open311_view
def create_request(fmt: str):
    form = request.form
    key = g.open311_key
    service_code = form.get("service_code", "").strip()
    if not service_code:
        raise Open311Error(400, "SERVICE_CODE_REQUIRED", "service_code is required.")
    category = _category(service_code)
    location = _location()
    attributes = _form_attributes(category)
    session = db.session
    citizen = _citizen(key, form)
    notices = []
    photo_ids = []
    try:
        media = request.files.get("media")
        if media is not None and media.filename:
            from api.photos.service import accept_photo
            photo_ids.append(str(accept_photo(session, citizen, media.read()).id))
        if form.get("media_url", "").strip():
            # Fetching partner-supplied URLs from inside the IOC network invites SSRF.
            notices.append("media_url is not fetched: upload the photo as the multipart field "
                           "'media'.")
        raw = {
            "category": category.code,
            "description": form.get("description", "").strip() or category.name_vi,
            **location,
            "photo_ids": photo_ids,
            "contact": {"name": " ".join(p for p in (form.get("first_name", "").strip(),
                                                     form.get("last_name", "").strip()) if p)
                        or None, "phone": form.get("phone", "").strip() or None},
            "attributes": attributes,
        }
        try:
            body = ReportIn().load(raw)
        except ValidationError as exc:
            raise Open311Error(400, "VALIDATION_ERROR", "Invalid request.",
                               details=_details(exc.messages))
        idempotency_key = request.headers.get("Idempotency-Key")
        if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
            idempotency_key = None
        result = create_report(session, citizen, body, idempotency_key=idempotency_key,
                               source="open311")
    except ApiError as exc:
        raise _translate(exc)
    session.commit()
    report = result.report
    base = current_app.config["PUBLIC_BASE_URL"]
    notices.insert(0, f"Đã tiếp nhận phản ánh {report.code}; tra cứu tại "
                      f"{base}/api/v1/reports/{report.code}")
    return render(fmt, "service_requests", [{
        "service_request_id": report.code, "service_notice": " ".join(notices),
        "account_id": None}])


# --- anything else under /open311/v2 ------------------------------------------------------------

_ALL = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@blp.route("/", defaults={"rest": ""}, methods=_ALL)
@blp.route("/<path:rest>", methods=_ALL)
def not_found(rest: str):
    return render_error("json", Open311Error(
        404, "NOT_FOUND", "No such Open311 resource: paths end in .json or .xml."))
