"""What officers, unit heads, dispatchers and citizens do to a report (DESIGN §4, issue 7).

One function per action: check who may act, check the input against the report, then one
call to :func:`api.reports.workflow.transition` (or one event row when the status does not
change). The HTTP resources and the staff console both call these; neither commits here.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import UUID

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.identity.auth import StaffPrincipal
from api.identity.models import Citizen, StaffUser
from api.ioc.models import ReportRating
from api.photos.models import Photo
from api.reference.geo import distance_m
from api.reference.models import Category, Unit
from api.reports import queries
from api.reports.models import Report, ReportEvent, ReportFollower
from api.reports.states import OPEN_STATUSES
from api.reports.workflow import Actor, transition
from api.sla import service as sla
from api.sla.clocks import ClockError

UNIT_ROLES = ("officer", "unit_head")
DISPATCH_ROLES = ("dispatcher", "admin")
RETURN_REASONS = ("not_our_competence", "wrong_location", "insufficient_information",
                  "duplicate", "other")
REJECT_REASONS = ("spam", "not_a_problem", "insufficient_information", "outside_scope", "other")
DISPUTE_DAYS = 7


# --- who may act ------------------------------------------------------------------------

def _forbidden() -> ApiError:
    return ApiError(403, "FORBIDDEN", "Bạn không có quyền thực hiện thao tác này.")


def _for_unit(session: Session, staff: StaffPrincipal, code: str, *roles: str) -> Report:
    """The report, locked, if ``staff`` is of its unit with one of ``roles`` (dispatchers and
    admins may always act for a unit)."""
    report = queries.get_by_code_for_update(session, code)
    if staff.role in DISPATCH_ROLES:
        return report
    if staff.role not in (roles or UNIT_ROLES) or report.unit_id != staff.unit_id:
        raise _forbidden()
    return report


def _for_dispatcher(session: Session, staff: StaffPrincipal, code: str) -> Report:
    if staff.role not in DISPATCH_ROLES:
        raise _forbidden()
    return queries.get_by_code_for_update(session, code)


def _staff(staff: StaffPrincipal) -> Actor:
    return Actor("staff", staff.id)


def _event(session: Session, report: Report, kind: str, actor: Actor, *, note=None,
           public=True, data=None, at=None) -> ReportEvent:
    """A timeline entry that does not change the status."""
    at = at or datetime.now(timezone.utc)
    event = ReportEvent(report_id=report.id, type=kind, from_status=report.status,
                        to_status=report.status, actor_kind=actor.kind, actor_id=actor.id,
                        note=note, public=public, data=data or {}, created_at=at)
    report.updated_at = at
    session.add(event)
    session.flush()
    return event


def _attach_photos(session: Session, event: ReportEvent, photo_ids, *, staff_id: int | None = None,
                   citizen_id: int | None = None) -> list[Photo]:
    photos = []
    for pid in dict.fromkeys(photo_ids or ()):
        owner = Photo.staff_id == staff_id if staff_id else Photo.citizen_id == citizen_id
        photo = session.scalar(select(Photo).where(Photo.id == _uuid(pid), owner)
                               .with_for_update())
        if photo is None or photo.event_id is not None or photo.report_id is not None:
            raise ApiError(422, "PHOTO_NOT_FOUND", f"Không tìm thấy ảnh {pid} (hoặc ảnh đã dùng).",
                           {"photo_ids": [str(pid)]})
        photo.event_id = event.id
        photos.append(photo)
    return photos


def _uuid(value) -> UUID | None:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise ApiError(422, "PHOTO_NOT_FOUND", f"Mã ảnh không hợp lệ: {value}.",
                       {"photo_ids": [str(value)]})


# --- the unit ---------------------------------------------------------------------------

def accept(session: Session, staff: StaffPrincipal, code: str, note: str | None = None) -> Report:
    report = _for_unit(session, staff, code)
    if report.assignee_id is None and staff.role in UNIT_ROLES:
        report.assignee_id = staff.id
    transition(session, report, "accepted", _staff(staff), note=note)
    return report


def return_to_dispatcher(session: Session, staff: StaffPrincipal, code: str, *, reason_code: str,
                         suggested_unit_code: str | None = None, note: str | None = None) -> Report:
    report = _for_unit(session, staff, code)
    if reason_code not in RETURN_REASONS:
        raise ApiError(422, "VALIDATION_ERROR", "Lý do trả lại không hợp lệ.",
                       {"reason_code": [f"one of {', '.join(RETURN_REASONS)}"]})
    if reason_code == "other" and not note:
        raise ApiError(422, "NOTE_REQUIRED", "Cần ghi rõ lý do trả lại.", {"note": ["required"]})
    data = {"reason_code": reason_code}
    if suggested_unit_code:
        unit = session.scalar(select(Unit).where(Unit.code == suggested_unit_code))
        if unit is None:
            raise ApiError(404, "UNKNOWN_UNIT", "Không tìm thấy đơn vị được đề xuất.")
        data["suggested_unit"] = unit.code
    report.assignee_id = None
    transition(session, report, "returned", _staff(staff), note=note, public=False, data=data)
    return report


def request_info(session: Session, staff: StaffPrincipal, code: str, question: str) -> Report:
    """Ask the citizen: the clocks pause until they answer (at most 5 working days)."""
    report = _for_unit(session, staff, code)
    if not question:
        raise ApiError(422, "NOTE_REQUIRED", "Cần nội dung câu hỏi cho người dân.",
                       {"question": ["required"]})
    transition(session, report, "waiting_citizen", _staff(staff), note=question)
    return report


def progress(session: Session, staff: StaffPrincipal, code: str, note: str, photo_ids=()) -> Report:
    """A public progress update; the first one starts the work (accepted → in progress)."""
    report = _for_unit(session, staff, code)
    if not note and not photo_ids:
        raise ApiError(422, "NOTE_REQUIRED", "Cần nội dung cập nhật hoặc ảnh.", {"note": ["required"]})
    if report.status in ("accepted", "reopened"):
        event = transition(session, report, "in_progress", _staff(staff), note=note)
    elif report.status == "in_progress":
        event = _event(session, report, "progress", _staff(staff), note=note)
    else:
        raise ApiError(409, "INVALID_TRANSITION", "Chỉ cập nhật tiến độ khi đơn vị đang xử lý.")
    _attach_photos(session, event, photo_ids, staff_id=staff.id)
    return report


def resolve(session: Session, staff: StaffPrincipal, code: str, note: str, photo_ids) -> Report:
    """The answer, with evidence photos taken near the report (RESOLVE_EVIDENCE_MAX_METERS)."""
    report = _for_unit(session, staff, code)
    if not note:
        raise ApiError(422, "NOTE_REQUIRED", "Cần nội dung trả lời cho người dân.", {"note": ["required"]})
    if not photo_ids:
        raise ApiError(422, "EVIDENCE_REQUIRED", "Cần ít nhất một ảnh chụp kết quả xử lý tại hiện trường.",
                       {"photo_ids": ["required"]})
    limit = current_app.config["APP"].RESOLVE_EVIDENCE_MAX_METERS
    now = datetime.now(timezone.utc)
    event = transition(session, report, "resolved", _staff(staff), note=note, at=now)
    photos = _attach_photos(session, event, photo_ids, staff_id=staff.id)
    problems = {}
    for photo in photos:
        if photo.lat is None:
            problems[str(photo.id)] = "no GPS position in the photo"
        elif (d := distance_m(photo.lat, photo.lon, report.lat, report.lon)) > limit:
            problems[str(photo.id)] = f"taken {d:.0f} m from the report (limit {limit} m)"
    if problems:
        code_ = "EVIDENCE_NOT_LOCATED" if all("GPS" in v for v in problems.values()) else "EVIDENCE_TOO_FAR"
        raise ApiError(422, code_, "Ảnh kết quả phải có vị trí GPS và được chụp gần nơi phản ánh "
                       f"(trong phạm vi {limit} m).", {"photo_ids": list(problems.values())})
    return report


def assign(session: Session, staff: StaffPrincipal, code: str, officer_id: int) -> Report:
    """A unit head gives the report to an officer of the unit."""
    report = _for_unit(session, staff, code, "unit_head")
    officer = session.get(StaffUser, officer_id)
    if officer is None or not officer.active or officer.unit_id != report.unit_id \
            or officer.role not in UNIT_ROLES:
        raise ApiError(422, "UNKNOWN_OFFICER", "Cán bộ không thuộc đơn vị đang xử lý phản ánh.",
                       {"officer_id": ["not an active officer of the report's unit"]})
    if report.status not in OPEN_STATUSES:
        raise ApiError(409, "INVALID_TRANSITION", "Phản ánh đã đóng.")
    report.assignee_id = officer.id
    _event(session, report, "assigned", _staff(staff), public=False,
           data={"officer_id": officer.id, "officer_name": officer.full_name})
    return report


def request_extension(session: Session, staff: StaffPrincipal, code: str, reason: str) -> Report:
    report = _for_unit(session, staff, code)
    if report.status not in ("accepted", "in_progress"):
        raise ApiError(409, "INVALID_TRANSITION", "Chỉ xin gia hạn khi đang xử lý.")
    if not reason:
        raise ApiError(422, "NOTE_REQUIRED", "Cần lý do xin gia hạn.", {"reason": ["required"]})
    if _pending_extension(session, report) is not None:
        raise ApiError(409, "EXTENSION_PENDING", "Đã có đề nghị gia hạn chờ duyệt.")
    if sla.policy_of(session, report).extension is None:
        raise ApiError(409, "EXTENSION_NOT_ALLOWED",
                       "Quy định thời hạn của loại phản ánh này không cho phép gia hạn.")
    _event(session, report, "extension_requested", _staff(staff), note=reason, public=False)
    return report


def _pending_extension(session: Session, report: Report) -> ReportEvent | None:
    last = session.scalar(select(ReportEvent).where(
        ReportEvent.report_id == report.id,
        ReportEvent.type.in_(("extension_requested", "extension_approved", "extension_refused")))
        .order_by(ReportEvent.id.desc()).limit(1))
    return last if last is not None and last.type == "extension_requested" else None


def decide_extension(session: Session, staff: StaffPrincipal, code: str, *, approve: bool,
                     note: str | None = None) -> Report:
    """The unit head approves (the one extension the policy allows) or refuses."""
    report = _for_unit(session, staff, code, "unit_head")
    if _pending_extension(session, report) is None:
        raise ApiError(409, "NO_EXTENSION_REQUEST", "Không có đề nghị gia hạn chờ duyệt.")
    now = datetime.now(timezone.utc)
    if not approve:
        _event(session, report, "extension_refused", _staff(staff), note=note, public=False, at=now)
        return report
    try:
        sla.extend_report(session, report, now)
    except ClockError as exc:
        raise ApiError(409, "EXTENSION_NOT_ALLOWED", "Phản ánh này không được gia hạn thêm.",
                       {"extension": [str(exc)]})
    due = sla.running(session, report, "RESOLVE")
    _event(session, report, "extension_approved", _staff(staff), note=note, at=now,
           data={"resolve_due_at": due.due_at.isoformat() if due else None})
    return report


# --- the dispatcher ---------------------------------------------------------------------

def route(session: Session, staff: StaffPrincipal, code: str, unit_code: str,
          note: str | None = None) -> Report:
    report = _for_dispatcher(session, staff, code)
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise ApiError(404, "UNKNOWN_UNIT", "Không tìm thấy đơn vị.")
    report.assignee_id = None
    transition(session, report, "routed", _staff(staff), unit=unit, note=note)
    return report


def recategorise(session: Session, staff: StaffPrincipal, code: str, category_code: str) -> Report:
    report = _for_dispatcher(session, staff, code)
    category = session.get(Category, category_code)
    if category is None or not category.active:
        raise ApiError(422, "UNKNOWN_CATEGORY", "Loại phản ánh không tồn tại.")
    if report.status not in OPEN_STATUSES:
        raise ApiError(409, "INVALID_TRANSITION", "Phản ánh đã đóng.")
    if category.code == report.category_code:
        return report
    old = report.category_code
    report.category_code, report.category = category.code, category
    sla.change_class(session, report, category.sla_class, datetime.now(timezone.utc))
    _event(session, report, "recategorised", _staff(staff), public=True,
           note=f"Phân loại lại: {category.name_vi}.", data={"from": old, "to": category.code})
    return report


def change_class(session: Session, staff: StaffPrincipal, code: str, sla_class: str) -> Report:
    report = _for_dispatcher(session, staff, code)
    from api.reference.models import SLA_CLASSES
    if sla_class not in SLA_CLASSES:
        raise ApiError(422, "VALIDATION_ERROR", "Mức độ không hợp lệ.",
                       {"sla_class": [f"one of {', '.join(SLA_CLASSES)}"]})
    if report.status not in OPEN_STATUSES:
        raise ApiError(409, "INVALID_TRANSITION", "Phản ánh đã đóng.")
    old = report.sla_class
    if sla_class == old:
        return report
    sla.change_class(session, report, sla_class, datetime.now(timezone.utc))
    _event(session, report, "class_changed", _staff(staff), public=False,
           data={"from": old, "to": sla_class})
    return report


def reject(session: Session, staff: StaffPrincipal, code: str, reason_code: str, note: str) -> Report:
    report = _for_dispatcher(session, staff, code)
    if reason_code not in REJECT_REASONS:
        raise ApiError(422, "VALIDATION_ERROR", "Lý do từ chối không hợp lệ.",
                       {"reason_code": [f"one of {', '.join(REJECT_REASONS)}"]})
    if not note:
        raise ApiError(422, "NOTE_REQUIRED", "Cần giải thích lý do cho người dân.", {"note": ["required"]})
    transition(session, report, "rejected", _staff(staff), note=note,
               data={"reason_code": reason_code})
    return report


def mark_duplicate(session: Session, staff: StaffPrincipal, code: str, duplicate_of: str) -> Report:
    """Merge into the original: the reporter now follows it and hears of its progress."""
    report = _for_dispatcher(session, staff, code)
    original = queries.get_by_code(session, duplicate_of)
    while original.duplicate_of_id is not None:  # always point at the root
        original = session.get(Report, original.duplicate_of_id)
    transition(session, report, "duplicate", _staff(staff), duplicate_of=original,
               note=f"Trùng với phản ánh {original.code}.")
    from sqlalchemy.dialects.postgresql import insert
    session.execute(insert(ReportFollower).values(report_id=original.id, citizen_id=report.citizen_id)
                    .on_conflict_do_nothing())
    return report


def transfer_out(session: Session, staff: StaffPrincipal, code: str, reason: str) -> Report:
    """Complaints and denunciations follow other legal procedures (not this channel)."""
    report = _for_dispatcher(session, staff, code)
    if not reason:
        raise ApiError(422, "NOTE_REQUIRED", "Cần nêu thủ tục/cơ quan tiếp nhận.", {"reason": ["required"]})
    transition(session, report, "transferred_out", _staff(staff), note=reason)
    return report


# --- the citizen ------------------------------------------------------------------------

def _own(session: Session, citizen: Citizen, code: str) -> Report:
    report = queries.get_by_code_for_update(session, code)
    if report.citizen_id != citizen.id:
        # Someone else's report reads as "not yours", not as missing: the code is public.
        raise ApiError(403, "NOT_REPORTER", "Chỉ người gửi phản ánh mới thực hiện được thao tác này.")
    return report


def reply(session: Session, citizen: Citizen, code: str, text: str | None, photo_ids=()) -> Report:
    """The citizen answers a request for information: the clocks run again."""
    report = _own(session, citizen, code)
    if report.status != "waiting_citizen":
        raise ApiError(409, "NOT_WAITING", "Phản ánh không chờ bổ sung thông tin.")
    if not text and not photo_ids:
        raise ApiError(422, "NOTE_REQUIRED", "Cần nội dung hoặc ảnh bổ sung.", {"text": ["required"]})
    event = transition(session, report, "in_progress", Actor("citizen", citizen.id), note=text,
                       data={"reply": True})
    _attach_photos(session, event, photo_ids, citizen_id=citizen.id)
    return report


def rate(session: Session, citizen: Citizen, code: str, score: int, comment: str | None) -> Report:
    report = _own(session, citizen, code)
    if report.status not in ("resolved", "closed") or report.resolved_at is None:
        raise ApiError(409, "NOT_RESOLVED", "Chỉ đánh giá được phản ánh đã có kết quả xử lý.")
    if session.get(ReportRating, report.id) is not None:
        raise ApiError(409, "ALREADY_RATED", "Bạn đã đánh giá phản ánh này.")
    session.add(ReportRating(report_id=report.id, citizen_id=citizen.id, score=score,
                             comment=comment, created_at=datetime.now(timezone.utc)))
    _event(session, report, "rated", Actor("citizen", citizen.id), public=False,
           data={"score": score})
    return report


def dispute(session: Session, citizen: Citizen, code: str, reason: str) -> Report:
    """Not satisfied with the answer, within 7 days: the report reopens, a new cycle starts."""
    report = _own(session, citizen, code)
    if report.status != "resolved":
        raise ApiError(409, "NOT_RESOLVED", "Chỉ mở lại được phản ánh vừa có kết quả xử lý.")
    if datetime.now(timezone.utc) - report.resolved_at > timedelta(days=DISPUTE_DAYS):
        raise ApiError(409, "DISPUTE_WINDOW_CLOSED",
                       f"Đã quá {DISPUTE_DAYS} ngày kể từ khi có kết quả xử lý.")
    if not reason:
        raise ApiError(422, "NOTE_REQUIRED", "Cần nêu lý do chưa đồng ý.", {"reason": ["required"]})
    transition(session, report, "reopened", Actor("citizen", citizen.id), note=reason)
    return report
