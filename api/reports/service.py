"""Creating a report: validate everything, then write it in one transaction.

The report, its ``created`` event, the reporter's follow and the outbox row
that asks for routing are written together, so an accepted report is never
lost: the outbox relay re-sends what the broker dropped. An ``Idempotency-Key``
makes a phone's retry return the report it already created.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from uuid import UUID

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.identity.models import Citizen
from api.photos.models import Photo
from api.reference.geo import locate_ward
from api.reference.models import Category, Ward
from api.reports import codes
from api.reports.attributes import validate_attributes
from api.common.queue import send_task_after_commit
from api.reports.models import IdempotencyKey, OutboxMessage, Report, ReportEvent, ReportFollower
from api.reports.outbox import TASKS, lease
from api.sla.service import load_calendars, start_report_clocks

ROUTE_TOPIC = "report.route"


@dataclass
class Violations:
    """Business-rule violations gathered over a whole request, raised once."""
    items: list[tuple[str, str, str]] = field(default_factory=list)  # (field, code, message)

    def add(self, field_name: str, code: str, message: str) -> None:
        self.items.append((field_name, code, message))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        errors: dict[str, list[str]] = {}
        for name, _code, message in self.items:
            errors.setdefault(name, []).append(message)
        distinct = {code for _f, code, _m in self.items}
        code = distinct.pop() if len(distinct) == 1 else "VALIDATION_ERROR"
        status = 401 if code == "AUTH_REQUIRED" else 422
        message = self.items[0][2] if len(self.items) == 1 else "Dữ liệu không hợp lệ."
        raise ApiError(status, code, message, errors)


@dataclass
class CreateResult:
    report: Report
    replayed: bool


def request_fingerprint(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim_idempotency_key(session: Session, principal: str, key: str, fingerprint: str
                           ) -> IdempotencyKey | None:
    """Insert our claim on the key; return the earlier claim when there is one.

    A concurrent request with the same key waits on the unique index until the
    first commits, then sees its row: two retries never create two reports.
    """
    inserted = session.execute(
        insert(IdempotencyKey).values(principal=principal, key=key, request_hash=fingerprint)
        .on_conflict_do_nothing(constraint="uq_idempotency_principal_key")
        .returning(IdempotencyKey.id)).scalar()
    if inserted is not None:
        return None
    return session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.principal == principal, IdempotencyKey.key == key))


def _load_photos(session: Session, citizen: Citizen, photo_ids: list[UUID],
                 problems: Violations) -> list[Photo]:
    if not photo_ids:
        return []
    if len(photo_ids) != len(set(photo_ids)):
        problems.add("photo_ids", "DUPLICATE_PHOTO", "Một ảnh được gửi hai lần.")
    limit = current_app.config["PHOTOS_PER_REPORT"]
    if len(photo_ids) > limit:
        problems.add("photo_ids", "TOO_MANY_PHOTOS", f"Tối đa {limit} ảnh cho một phản ánh.")
        return []
    found = {p.id: p for p in session.scalars(
        select(Photo).where(Photo.id.in_(photo_ids), Photo.citizen_id == citizen.id)
        # Locked, so two reports racing for one photo cannot both attach it.
        .with_for_update().execution_options(populate_existing=True))}
    photos = []
    for pid in dict.fromkeys(photo_ids):
        photo = found.get(pid)
        if photo is None:
            # Someone else's photo reads as missing: ids must not reveal others' uploads.
            problems.add("photo_ids", "PHOTO_NOT_FOUND", f"Không tìm thấy ảnh {pid}.")
        elif photo.report_id is not None:
            problems.add("photo_ids", "PHOTO_ALREADY_USED", f"Ảnh {pid} đã thuộc phản ánh khác.")
        else:
            photos.append(photo)
    return photos


def create_report(session: Session, citizen: Citizen, body: dict, *, idempotency_key: str | None,
                  source: str = "app") -> CreateResult:
    fingerprint = request_fingerprint(body)
    if idempotency_key:
        earlier = _claim_idempotency_key(session, citizen.principal, idempotency_key, fingerprint)
        if earlier is not None:
            if earlier.request_hash != fingerprint:
                raise ApiError(409, "IDEMPOTENCY_KEY_REUSED",
                               "Mã Idempotency-Key này đã dùng cho một yêu cầu khác.")
            return CreateResult(session.get(Report, earlier.report_id), replayed=True)

    problems = Violations()
    category = session.get(Category, body["category"])
    if category is None or not category.active:
        problems.add("category", "UNKNOWN_CATEGORY", "Loại phản ánh không tồn tại.")
    elif citizen.is_anonymous and not category.anonymous_allowed:
        problems.add("authorization", "AUTH_REQUIRED",
                     "Loại phản ánh này cần đăng nhập bằng số điện thoại.")

    photos = _load_photos(session, citizen, body.get("photo_ids") or [], problems)
    if category is not None and category.photo_required and not body.get("photo_ids"):
        problems.add("photo_ids", "PHOTO_REQUIRED", "Loại phản ánh này cần ít nhất một ảnh.")

    attributes = {}
    if category is not None:
        attributes, attr_errors = validate_attributes(category.attributes or [],
                                                      body.get("attributes") or {})
        for code, messages in attr_errors.items():
            for message in messages:
                problems.add(f"attributes.{code}", "INVALID_ATTRIBUTE", message)

    lat, lon, location_source = body.get("lat"), body.get("lon"), "device"
    if lat is None:
        located = next((p for p in photos if p.lat is not None), None)
        if located is not None:
            lat, lon, location_source = located.lat, located.lon, "exif"
    ward = None
    if lat is None:
        if not any(f == "photo_ids" for f, _c, _m in problems.items):
            problems.add("lat", "LOCATION_REQUIRED",
                         "Cần vị trí: gửi lat/lon hoặc ảnh có toạ độ GPS.")
    else:
        ward = locate_ward(session, lat, lon, current_app.config["PROVINCE_CODE"])
        if ward is None:
            problems.add("lat", "OUTSIDE_SERVICE_AREA",
                         "Vị trí nằm ngoài địa bàn tỉnh, hệ thống chưa tiếp nhận được.")
    problems.raise_if_any()

    now = datetime.now(timezone.utc)
    contact = body.get("contact") or {}
    report = Report(
        code=codes.next_code(session, now.astimezone(_local_tz()).year),
        status="new", category_code=category.code, description=body["description"],
        lat=lat, lon=lon, location_source=location_source, address=body.get("address"),
        ward_code=ward.code, citizen_id=citizen.id,
        contact_name=contact.get("name") or citizen.display_name,
        contact_phone=contact.get("phone") or citizen.phone,
        attributes=attributes, source=source, created_at=now, updated_at=now)
    # Objects already loaded: the response then needs no lazy loads.
    report.category, report.photos = category, photos
    report.ward = session.get(Ward, ward.code)
    session.add(report)
    session.flush()
    for position, photo in enumerate(photos):
        photo.report_id, photo.position = report.id, position
    event = ReportEvent(report_id=report.id, type="created", from_status=None, to_status="new",
                        actor_kind="citizen", actor_id=citizen.id, public=True, created_at=now,
                        data={"source": source})
    session.add(event)
    session.add(ReportFollower(report_id=report.id, citizen_id=citizen.id))
    start_report_clocks(session, report, now, load_calendars(session))
    session.flush()
    message = OutboxMessage(topic=ROUTE_TOPIC, report_id=report.id, event_id=event.id,
                            payload={"report_id": report.id, "code": report.code},
                            next_attempt_at=now + lease())
    session.add(message)
    session.flush()
    send_task_after_commit(session, TASKS[ROUTE_TOPIC], [report.id, message.id])
    if idempotency_key:
        session.execute(update(IdempotencyKey).where(
            IdempotencyKey.principal == citizen.principal, IdempotencyKey.key == idempotency_key)
            .values(report_id=report.id))
    return CreateResult(report, replayed=False)


def _local_tz():
    from zoneinfo import ZoneInfo
    return ZoneInfo(current_app.config["TIMEZONE"])
