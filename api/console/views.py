"""The console's pages: sign-in, the queue, a report, and one POST route per action.

Each action is one parse of the form, one call into ``api.reports.actions`` and one
commit, then a redirect back to the report with a message. When the action refuses
(``ApiError``) the report page comes back with the message on the form and the input
kept, photos included (they are stored before the action runs).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable
from uuid import UUID

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from api.console import PAGE_SIZE, bp, present
from api.console.security import CONSOLE_ROLES, safe_next, sign_in, sign_out
from api.db import db
from api.errors import ApiError
from api.identity.auth import authenticate_staff
from api.identity.models import StaffUser
from api.photos.models import Photo
from api.photos.service import accept_photo
from api.photos.urls import photo_out
from api.reference.models import SLA_CLASSES, Category, CategoryGroup, Unit, Ward
from api.reports import actions, codes, staff_queries
from api.reports.states import OPEN_STATUSES, STATUS_LABELS_VI
from api.text import clean

DISPATCH_ROLES = ("dispatcher", "admin")
UNIT_ROLES = ("officer", "unit_head")
TEXT_MAX = 2000
MAX_PHOTOS = 5
UNIT_KIND_LABELS = {"department": "Sở, ban, ngành", "police": "Công an",
                    "utility": "Doanh nghiệp dịch vụ", "ward": "UBND xã, phường",
                    "ioc": "Trung tâm IOC"}


# --- sign in / out ------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.values.get("next"))
    if g.get("console_user") is not None:
        return redirect(next_url or url_for("console.queue_page"))
    if request.method == "GET":
        return render_template("console/login.html", email="", next_url=next_url, error=None)
    email = (request.form.get("email") or "").strip()[:200]
    password = request.form.get("password") or ""
    if not email or not password:
        return _login_refused(email, next_url, "Vui lòng nhập email và mật khẩu.", 400)
    if len(password) > 1024:
        return _login_refused(email, next_url, "Email hoặc mật khẩu không đúng.", 200)
    try:
        user = authenticate_staff(email, password)
    except ApiError as exc:
        # The same page again with the message: 200, as a 401 would need a WWW-Authenticate
        # challenge that a form cannot answer.
        db.session.rollback()
        return _login_refused(email, next_url, exc.message, 200 if exc.status == 401 else exc.status)
    if user.role not in CONSOLE_ROLES:
        db.session.rollback()
        return _login_refused(email, next_url, "Tài khoản này không dùng được bảng điều khiển.", 403)
    sign_in(user)
    user.last_login_at = datetime.now(timezone.utc)
    db.session.commit()
    return redirect(next_url or url_for("console.queue_page"))


def _login_refused(email: str, next_url: str | None, message: str, status: int):
    return render_template("console/login.html", email=email, next_url=next_url,
                           error=message), status


@bp.post("/logout")
def logout():
    sign_out()
    flash("Bạn đã đăng xuất.", "success")
    return redirect(url_for("console.login"))


# --- the queue ----------------------------------------------------------------------------

def _int(raw, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(raw), low), high)
    except (TypeError, ValueError):
        return default


def _categories() -> list[Category]:
    return list(db.session.scalars(
        select(Category).join(CategoryGroup, CategoryGroup.code == Category.group_code)
        .options(contains_eager(Category.group))
        .where(Category.active.is_(True)).order_by(CategoryGroup.sort, Category.sort, Category.name_vi)))


def _wards() -> list:
    province = current_app.config["APP"].PROVINCE_CODE
    return list(db.session.execute(select(Ward.code, Ward.name).where(
        Ward.province_code == province).order_by(Ward.name)))


@bp.get("")
@bp.get("/")
def queue_page():
    staff = g.staff
    dispatcher = staff.role in DISPATCH_ROLES
    args = request.args
    categories, wards = _categories(), _wards()
    statuses = staff_queries.OPEN if dispatcher else staff_queries.UNIT_QUEUE
    category_codes, ward_codes = {c.code for c in categories}, {w.code for w in wards}
    chosen = {
        "status": args.get("status") if args.get("status") in statuses else None,
        "category": args.get("category") if args.get("category") in category_codes else None,
        "ward": args.get("ward") if args.get("ward") in ward_codes else None,
        "overdue": "1" if args.get("overdue") == "1" else None,
        "due_soon": "1" if args.get("due_soon") == "1" else None,
        "scope": "all" if dispatcher and args.get("scope") == "all" else None,
    }
    chosen = {k: v for k, v in chosen.items() if v}
    page = _int(args.get("page"), 1, 1, 4000)
    filters = staff_queries.QueueFilters(
        status=chosen.get("status"), category=chosen.get("category"), ward=chosen.get("ward"),
        overdue="overdue" in chosen, due_soon="due_soon" in chosen,
        scope=chosen.get("scope", "mine"), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    items, total = staff_queries.queue(db.session, staff, filters)
    db.session.rollback()  # read only
    for item in items:
        item["thumb_url"] = present.local_url(item["thumb_url"])
    pages = max(1, math.ceil(total / PAGE_SIZE))
    unit = db.session.get(Unit, staff.unit_id) if staff.unit_id else None
    if dispatcher:
        heading = "Tất cả phản ánh đang mở" if "scope" in chosen else "Phản ánh chờ điều phối"
    else:
        heading = f"Phản ánh của {unit.name_vi}" if unit else "Phản ánh của đơn vị"

    def page_url(number: int) -> str:
        return url_for("console.queue_page", **chosen, page=number)

    return render_template(
        "console/queue.html", items=items, total=total, page=page, pages=pages,
        page_url=page_url, first=(page - 1) * PAGE_SIZE + 1 if items else 0,
        last=(page - 1) * PAGE_SIZE + len(items), chosen=chosen, dispatcher=dispatcher,
        statuses=[(s, STATUS_LABELS_VI[s]) for s in statuses], categories=categories,
        wards=wards, heading=heading, filtered=bool(set(chosen) - {"scope"}),
        sla_labels=present.SLA_STATE_LABELS, due_text=present.due_text, iso=present.iso)


@bp.get("/go")
def go():
    """The code box in the header: straight to a report."""
    typed = (request.args.get("code") or "").strip()
    code = codes.parse_code(typed) if typed else None
    if code is None:
        flash(f"“{typed[:40]}” không phải mã phản ánh hợp lệ." if typed
              else "Nhập mã phản ánh để mở.", "error")
        return redirect(url_for("console.queue_page"))
    return redirect(url_for("console.report_page", code=code))


# --- one report ---------------------------------------------------------------------------

@dataclass
class FormState:
    """A refused (or photo-only) submission, shown again on its form."""
    action: str
    message: str | None = None
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    photos: list = field(default_factory=list)
    notice: str | None = None


def _pending_extension(timeline: list[dict]) -> bool:
    kinds = [e["type"] for e in timeline if e["type"].startswith("extension_")]
    return bool(kinds) and kinds[-1] == "extension_requested"


def _extension_possible(code: str) -> bool:
    """Whether the SLA policy the report runs under allows an extension at all (only the
    "complex" class does by default): no point asking for one that cannot be granted."""
    from api.reports.models import Report
    from api.sla.models import SlaPolicyVersion
    from api.sla.policies import policy_from_dict
    body = db.session.scalar(select(SlaPolicyVersion.body).join(
        Report, Report.sla_policy_id == SlaPolicyVersion.id).where(Report.code == code))
    if body is None:
        return True  # unknown here: the unit head's decision will tell
    try:
        return policy_from_dict(body).extension is not None
    except (KeyError, TypeError, ValueError):
        return True


def allowed_actions(role: str, view: dict, extension_possible: bool = True) -> list[str]:
    """What this person may do to the report now (the services check again)."""
    status = view["status"]
    if role in DISPATCH_ROLES:
        allowed = []
        if status in ("new", "returned", "routed", "reopened"):
            allowed.append("route")
        if status in OPEN_STATUSES:
            allowed += ["recategorise", "class"]
        if status in ("new", "routed", "returned"):
            allowed += ["duplicate", "reject", "transfer-out"]
        return allowed
    if role not in UNIT_ROLES:
        return []
    working = status in ("accepted", "in_progress")
    extended = any(c["kind"] == "RESOLVE" and c["stopped_at"] is None and c["extended"]
                   for c in view["clocks"])
    pending = _pending_extension(view["timeline"])
    allowed = []
    if status in ("routed", "reopened"):
        allowed.append("accept")
    if working or status == "reopened":
        allowed.append("progress")
    if working:
        allowed += ["resolve", "request-info"]
        if not pending and not extended and extension_possible:
            allowed.append("extension")
    if working or status == "routed":
        allowed.append("return")
    if role == "unit_head":
        if status in staff_queries.UNIT_QUEUE:
            allowed.append("assign")
        if pending:
            allowed.append("extension-decision")
    return allowed


def _localise_photos(view: dict) -> None:
    for photo in view["photos"] + [p for e in view["timeline"] for p in e["photos"]]:
        photo["url"] = present.local_url(photo["url"])
        photo["thumb_url"] = present.local_url(photo["thumb_url"])


def _report_page(code: str, form: FormState | None = None, status: int = 200):
    staff = g.staff
    view = staff_queries.staff_view(db.session, staff, code)
    db.session.commit()  # the audit row of a contact view is written with the page
    _localise_photos(view)
    session = db.session
    allowed = allowed_actions(staff.role, view, _extension_possible(view["code"]))
    units = list(session.scalars(select(Unit).where(Unit.active.is_(True))
                                 .order_by(Unit.kind, Unit.name_vi)))
    unit_names = {u.code: u.name_vi for u in units}
    categories = _categories()
    category_names = {c.code: c.name_vi for c in categories}
    officers = []
    if "assign" in allowed:
        officers = list(session.scalars(select(StaffUser).where(
            StaffUser.unit_id == staff.unit_id, StaffUser.active.is_(True),
            StaffUser.role.in_(UNIT_ROLES)).order_by(StaffUser.role, StaffUser.full_name)))
    unit_groups: dict[str, list[Unit]] = {}
    for unit in units:
        if unit.kind != "ioc":
            unit_groups.setdefault(UNIT_KIND_LABELS.get(unit.kind, unit.kind), []).append(unit)
    groups: dict[str, list[Category]] = {}
    for category in categories:
        groups.setdefault(category.group.name_vi, []).append(category)
    suggested = next((e["data"].get("suggested_unit") for e in reversed(view["timeline"])
                      if e.get("to_status") == "returned"), None)
    for event in view["timeline"]:
        event["title"] = present.event_title(event)
        event["details"] = present.event_details(event, unit_names, category_names)
    html = render_template(
        "console/report.html", r=view, allowed=allowed, form=form or FormState(action=""),
        officers=officers, unit_groups=unit_groups, category_groups=groups,
        suggested_unit=suggested, suggested_unit_name=unit_names.get(suggested, suggested),
        sla_classes=[(c, present.SLA_CLASS_LABELS.get(c, c)) for c in SLA_CLASSES],
        return_reasons=[(r, present.RETURN_REASON_LABELS.get(r, r)) for r in actions.RETURN_REASONS],
        reject_reasons=[(r, present.REJECT_REASON_LABELS.get(r, r)) for r in actions.REJECT_REASONS],
        map=present.point_map(session, view["lat"], view["lon"], view["ward"]["code"]),
        labels=present, max_photos=MAX_PHOTOS, text_max=TEXT_MAX,
        photo_max_bytes=current_app.config["PHOTO_MAX_BYTES"])
    db.session.rollback()
    return html, status


@bp.get("/reports/<code>")
def report_page(code: str):
    return _report_page(code)


# --- actions ------------------------------------------------------------------------------

def _text(form, name: str) -> str | None:
    value = clean(form.get(name))
    if value is not None and len(value) > TEXT_MAX:
        raise ApiError(422, "VALIDATION_ERROR", f"Nội dung quá dài (tối đa {TEXT_MAX} ký tự).",
                       {name: [f"at most {TEXT_MAX} characters"]})
    return value


def _required(form, name: str, message: str) -> str:
    value = (form.get(name) or "").strip()
    if not value:
        raise ApiError(422, "VALIDATION_ERROR", message, {name: ["required"]})
    return value


def _officer_id(form) -> int:
    try:
        return int(_required(form, "officer_id", "Cần chọn cán bộ được giao."))
    except ValueError:
        raise ApiError(422, "UNKNOWN_OFFICER", "Cán bộ không thuộc đơn vị đang xử lý phản ánh.",
                       {"officer_id": ["not a number"]})


@dataclass(frozen=True)
class Action:
    call: Callable  # (session, staff, code, form, photo_ids) -> Report
    done: str
    photos: bool = False


ACTIONS: dict[str, Action] = {
    "accept": Action(lambda s, st, c, f, p: actions.accept(s, st, c, _text(f, "note")),
                     "Đã tiếp nhận phản ánh."),
    "return": Action(lambda s, st, c, f, p: actions.return_to_dispatcher(
        s, st, c, reason_code=_required(f, "reason_code", "Cần chọn lý do trả lại."),
        suggested_unit_code=(f.get("suggested_unit_code") or None), note=_text(f, "note")),
        "Đã trả phản ánh lại cho điều phối viên IOC."),
    "request-info": Action(lambda s, st, c, f, p: actions.request_info(s, st, c, _text(f, "question")),
                           "Đã gửi câu hỏi cho người dân; thời hạn tạm dừng đến khi người dân trả lời."),
    "progress": Action(lambda s, st, c, f, p: actions.progress(s, st, c, _text(f, "note"), p),
                       "Đã cập nhật tiến độ.", photos=True),
    "resolve": Action(lambda s, st, c, f, p: actions.resolve(s, st, c, _text(f, "note"), p),
                      "Đã gửi kết quả xử lý cho người dân.", photos=True),
    "assign": Action(lambda s, st, c, f, p: actions.assign(s, st, c, _officer_id(f)),
                     "Đã giao cán bộ xử lý."),
    "extension": Action(lambda s, st, c, f, p: actions.request_extension(s, st, c, _text(f, "reason")),
                        "Đã gửi đề nghị gia hạn cho lãnh đạo đơn vị."),
    "extension-decision": Action(lambda s, st, c, f, p: actions.decide_extension(
        s, st, c, approve=f.get("approve") == "1", note=_text(f, "note")), "Đã ghi quyết định gia hạn."),
    "route": Action(lambda s, st, c, f, p: actions.route(
        s, st, c, _required(f, "unit_code", "Cần chọn đơn vị xử lý."), _text(f, "note")),
        "Đã chuyển phản ánh đến đơn vị xử lý."),
    "recategorise": Action(lambda s, st, c, f, p: actions.recategorise(
        s, st, c, _required(f, "category", "Cần chọn loại phản ánh.")), "Đã phân loại lại phản ánh."),
    "class": Action(lambda s, st, c, f, p: actions.change_class(
        s, st, c, _required(f, "sla_class", "Cần chọn mức độ.")), "Đã đổi mức độ xử lý."),
    "reject": Action(lambda s, st, c, f, p: actions.reject(
        s, st, c, _required(f, "reason_code", "Cần chọn lý do từ chối."), _text(f, "note")),
        "Đã từ chối phản ánh."),
    "duplicate": Action(lambda s, st, c, f, p: actions.mark_duplicate(
        s, st, c, _required(f, "duplicate_of", "Cần nhập mã phản ánh gốc.")),
        "Đã gộp vào phản ánh gốc."),
    "transfer-out": Action(lambda s, st, c, f, p: actions.transfer_out(s, st, c, _text(f, "reason")),
                           "Đã chuyển xử lý theo thủ tục khác."),
}


def _photo_ids(staff, uploaded: list[str]) -> list[str]:
    """The photos kept from an earlier try, then the files of this request, stored now
    (and committed: a refused action must not cost the officer the upload)."""
    for raw in request.form.getlist("photo_id")[:MAX_PHOTOS]:
        try:
            uploaded.append(str(UUID(raw)))
        except ValueError:
            continue
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    if len(uploaded) + len(files) > MAX_PHOTOS:
        raise ApiError(422, "TOO_MANY_PHOTOS", f"Tối đa {MAX_PHOTOS} ảnh cho mỗi lần cập nhật.",
                       {"photos": [f"at most {MAX_PHOTOS}"]})
    for upload in files:
        photo = accept_photo(db.session, None, upload.read(), staff_id=staff.id)
        db.session.commit()
        if str(photo.id) not in uploaded:
            uploaded.append(str(photo.id))
    return uploaded


def _kept_photos(staff, ids: list[str]) -> list[dict]:
    if not ids:
        return []
    rows = db.session.scalars(select(Photo).where(
        Photo.id.in_([UUID(i) for i in ids]), Photo.staff_id == staff.id, Photo.event_id.is_(None)))
    by_id = {str(p.id): p for p in rows}
    out = []
    for pid in ids:
        if pid in by_id:
            item = photo_out(by_id[pid])
            out.append({"id": pid, "thumb_url": present.local_url(item["thumb_url"]),
                        "lat": by_id[pid].lat, "lon": by_id[pid].lon})
    return out


@bp.post("/reports/<code>/<action>")
def act(code: str, action: str):
    spec = ACTIONS.get(action)
    if spec is None:
        abort(404)
    staff = g.staff
    form = request.form
    uploaded: list[str] = []
    try:
        photo_ids = _photo_ids(staff, uploaded) if spec.photos else []
        if spec.photos and form.get("upload_only") == "1":
            if not photo_ids:
                raise ApiError(422, "PHOTO_REQUIRED", "Chưa chọn ảnh nào để tải lên.",
                               {"photos": ["required"]})
            state = FormState(action=action, values=form.to_dict(),
                              photos=_kept_photos(staff, photo_ids),
                              notice=f"Đã tải {len(photo_ids)} ảnh lên. Kiểm tra rồi bấm gửi.")
            return _report_page(code, state)
        report = spec.call(db.session, staff, code, form, photo_ids)
        db.session.commit()
    except ApiError as exc:
        db.session.rollback()
        state = FormState(action=action, message=exc.message, values=form.to_dict(),
                          errors=exc.errors, photos=_kept_photos(staff, uploaded))
        return _report_page(code, state, 422 if exc.status == 404 else exc.status)
    flash(spec.done, "success")
    return redirect(url_for("console.report_page", code=report.code))
