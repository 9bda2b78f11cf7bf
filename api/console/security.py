"""Who is at the console, and what protects every page: the signed session with its idle
timeout, the CSRF token on every POST, the security headers and the error pages.

The session cookie (signed with ``SECRET_KEY``) holds the staff id, the sign-in time,
the time of the last request and the CSRF token; the staff row is read again on each
request, so a deactivated account or a changed role takes effect at once.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from flask import (current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from werkzeug.exceptions import HTTPException

from api.console import bp
from api.db import db
from api.errors import ApiError
from api.identity.auth import StaffPrincipal
from api.identity.models import STAFF_ROLES, StaffUser

STATIC_DIR = Path(__file__).resolve().parent / "static"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# The sign-in page is the only page open without a session (its POST still needs the token).
OPEN_ENDPOINTS = ("console.login",)
CONSOLE_ROLES = STAFF_ROLES  # officer, unit_head, dispatcher, admin

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",  # blob: previews of photos chosen for upload
    "connect-src 'self'",
    "font-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
))
VERSIONED_MAX_AGE = 365 * 24 * 3600
PLAIN_MAX_AGE = 3600

ERROR_TITLES = {
    400: "Yêu cầu không hợp lệ",
    403: "Không có quyền truy cập",
    404: "Không tìm thấy",
    405: "Thao tác không được hỗ trợ",
    409: "Không thực hiện được",
    413: "Dữ liệu gửi lên quá lớn",
    422: "Dữ liệu không hợp lệ",
    500: "Lỗi hệ thống",
    503: "Hệ thống tạm thời gián đoạn",
}
CSRF_MESSAGE = ("Biểu mẫu thiếu mã bảo vệ hoặc mã đã hết hiệu lực, nên thao tác không được "
                "thực hiện. Vui lòng tải lại trang rồi thử lại.")
EXPIRED_MESSAGE = "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại."


# --- assets -------------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _fingerprint(filename: str, mtime_ns: int) -> str:
    return hashlib.sha256((STATIC_DIR / filename).read_bytes()).hexdigest()[:12]


def asset_url(filename: str) -> str:
    """The static URL with a content hash, so a year-long cache never serves a stale file."""
    path = STATIC_DIR / filename
    return url_for("console.static", filename=filename,
                   v=_fingerprint(filename, path.stat().st_mtime_ns))


# --- CSRF ---------------------------------------------------------------------------------

def csrf_token() -> str:
    """This session's token (made on first use); every form carries it in a hidden field."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _csrf_ok() -> bool:
    expected = session.get("csrf")
    sent = request.form.get(CSRF_FIELD, "")
    return bool(expected) and bool(sent) and hmac.compare_digest(
        sent.encode("utf-8"), expected.encode("utf-8"))


# --- the signed-in staff member -----------------------------------------------------------

def sign_in(user: StaffUser) -> None:
    """A fresh session for ``user`` (nothing survives from before: no session fixation)."""
    now = int(time.time())
    session.clear()
    session.update(staff_id=user.id, since=now, seen=now, csrf=secrets.token_urlsafe(32))


def sign_out() -> None:
    session.clear()


def _current_user() -> StaffUser | None:
    staff_id = session.get("staff_id")
    if staff_id is None:
        return None
    cfg = current_app.config
    now = int(time.time())
    idle = now - int(session.get("seen", 0))
    age = now - int(session.get("since", 0))
    if idle > cfg["CONSOLE_IDLE_SECONDS"] or age > cfg["CONSOLE_MAX_SESSION_SECONDS"]:
        sign_out()
        flash(EXPIRED_MESSAGE, "error")
        return None
    user = db.session.get(StaffUser, int(staff_id))
    if user is None or not user.active or user.role not in CONSOLE_ROLES:
        sign_out()
        return None
    session["seen"] = now
    return user


def safe_next(target: str | None) -> str | None:
    """A path inside the console to go back to after signing in (never another site)."""
    if not target:
        return None
    parts = urlsplit(target)
    console = url_for("console.queue_page")
    if parts.scheme or parts.netloc or not target.startswith(console) or "\\" in target:
        return None
    return target


@bp.before_request
def _guard():
    if request.endpoint == "console.static":
        return None
    if request.method not in SAFE_METHODS and not _csrf_ok():
        return error_page(400, CSRF_MESSAGE)
    user = _current_user()
    if user is None:
        if request.endpoint in OPEN_ENDPOINTS:
            return None
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("console.login", next=safe_next(target)))
    g.console_user = user
    # The audit writer (api.privacy.audit) reads g.staff, like the staff API sets it.
    g.staff = StaffPrincipal(user.id, user.role, user.unit_id)
    return None


@bp.context_processor
def _template_helpers():
    from api.console.present import ROLE_LABELS
    return {"csrf_token": csrf_token, "asset": asset_url, "csrf_field": CSRF_FIELD,
            "role_labels": ROLE_LABELS,
            "me": g.get("console_user"),
            "idle_seconds": current_app.config["CONSOLE_IDLE_SECONDS"]}


@bp.after_request
def _headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.endpoint == "console.static":
        if response.status_code in (200, 304):
            versioned = "v" in request.args
            age = VERSIONED_MAX_AGE if versioned else PLAIN_MAX_AGE
            headers["Cache-Control"] = f"public, max-age={age}" + (", immutable" if versioned else "")
        return response
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    # Every console page shows personal or internal data: never kept by a browser or proxy.
    headers["Cache-Control"] = "no-store"
    headers["Pragma"] = "no-cache"
    response.vary.add("Cookie")
    return response


# --- error pages --------------------------------------------------------------------------

def error_page(status: int, message: str, title: str | None = None):
    html = render_template("console/error.html", status=status, message=message,
                           title=title or ERROR_TITLES.get(status, "Có lỗi xảy ra"))
    return html, status


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    db.session.rollback()
    return error_page(exc.status, exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    from api.errors import HTTP_MESSAGES
    status = exc.code or 500
    if status == 413:
        mb = current_app.config["PHOTO_MAX_BYTES"] // (1024 * 1024)
        return error_page(413, f"Dữ liệu gửi lên quá lớn (ảnh tối đa {mb} MB mỗi lần gửi). "
                               "Hãy quay lại và gửi ít ảnh hơn hoặc ảnh nhỏ hơn.")
    return error_page(status, HTTP_MESSAGES.get(status, "Có lỗi xảy ra."))


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    from api.db import DatabaseUnavailable, is_connection_error
    db.session.rollback()
    if isinstance(exc, DatabaseUnavailable) or is_connection_error(exc):
        current_app.logger.warning("database unavailable: %s", exc)
        html, status = error_page(503, "Hệ thống tạm thời gián đoạn, vui lòng thử lại sau.")
        return html, status, {"Retry-After": "5"}
    current_app.logger.exception("unhandled error in the console")
    return error_page(500, "Lỗi hệ thống, vui lòng thử lại sau.")
