"""Who is calling: resolve the caller once per request and guard resources by role.

A citizen is a Firebase user (``Authorization: Bearer <Firebase ID token>``)
or, where the category allows it, an anonymous device (``X-Device-Id``).
Staff send the token from ``POST /api/v1/auth/login``.
"""
from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

from flask import current_app, g, request
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from api.db import db
from api.errors import ApiError
from api.chat import grants as chat_grants
from api.identity import staff as staff_tokens
from api.identity.models import Citizen, StaffUser
from api.text import clean

_CITIZEN = "ioc.citizen"
# Set on requests that the bot makes with a chat grant (api/chat/grants.py).
VIA_CHAT = "ioc.via_chat"
log = logging.getLogger(__name__)
_DEVICE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


@dataclass(frozen=True)
class StaffPrincipal:
    id: int
    role: str
    unit_id: int | None


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "INVALID_TOKEN", "Mã xác thực không hợp lệ.",
                       {"authorization": ["expected 'Bearer <token>'"]})
    return token.strip()


def _firebase():
    verifier = current_app.extensions.get("firebase_verifier")
    if verifier is None:
        from api.identity.firebase import FirebaseVerifier
        cfg = current_app.config["APP"]
        verifier = FirebaseVerifier(cfg.FIREBASE_PROJECT_ID, cfg.FIREBASE_CERTS_URL)
        current_app.extensions["firebase_verifier"] = verifier
    return verifier


def _get_or_create_citizen(principal: str, *, firebase_uid: str | None = None,
                           phone: str | None = None, name: str | None = None) -> Citizen:
    session = db.session
    citizen = session.scalar(select(Citizen).where(Citizen.principal == principal))
    if citizen is None:
        session.execute(insert(Citizen).values(
            principal=principal, firebase_uid=firebase_uid, phone=phone, display_name=name,
            locale="vi").on_conflict_do_nothing(index_elements=["principal"]))
        citizen = session.scalar(select(Citizen).where(Citizen.principal == principal))
    elif phone and citizen.phone != phone:
        citizen.phone = phone
    return citizen


def current_citizen(*, required: bool = True) -> Citizen | None:
    """The citizen behind this request (cached on the request: an app context, and so ``g``,
    can outlive one request)."""
    if _CITIZEN in request.environ:
        return request.environ[_CITIZEN]
    token = _bearer()
    citizen = None
    if token and chat_grants.is_grant(token):
        citizen = _citizen_from_grant(token)
    elif token:
        if staff_tokens.is_staff_token(token):
            raise ApiError(403, "CITIZEN_ONLY", "Thao tác này dành cho người dân.")
        claims = _firebase().verify(token)
        uid = claims["uid"]
        citizen = _get_or_create_citizen(
            f"fb:{uid}", firebase_uid=uid, phone=claims.get("phone_number"),
            name=clean(claims.get("name")))
    else:
        device = request.headers.get("X-Device-Id")
        if device is not None:
            if not _DEVICE_ID.match(device):
                raise ApiError(400, "INVALID_DEVICE_ID", "Mã thiết bị không hợp lệ.",
                               {"X-Device-Id": ["8–128 characters: letters, digits, . _ : -"]})
            citizen = _get_or_create_citizen(f"dev:{device}")
    if citizen is None and required:
        raise ApiError(401, "UNAUTHENTICATED", "Cần đăng nhập hoặc gửi mã thiết bị (X-Device-Id).")
    request.environ[_CITIZEN] = citizen
    return citizen


def _citizen_from_grant(token: str) -> Citizen | None:
    """The citizen a chat grant names, on the few endpoints where the bot may act for them."""
    if request.endpoint not in chat_grants.GRANT_ENDPOINTS:
        raise ApiError(403, "CHAT_GRANT_NOT_ALLOWED", "Trợ lý ảo không được làm thao tác này.")
    grant = chat_grants.decode(current_app.config["SECRET_KEY"], token)
    request.environ[VIA_CHAT] = grant
    if grant.citizen_id is None:
        return None
    citizen = db.session.get(Citizen, grant.citizen_id)
    if citizen is None or citizen.principal.startswith("erased:"):  # erased since the grant
        return None
    return citizen


def current_staff(*roles: str) -> StaffPrincipal:
    token = _bearer()
    if not token:
        raise ApiError(401, "UNAUTHENTICATED", "Cần đăng nhập.")
    if not staff_tokens.is_staff_token(token):
        raise ApiError(403, "STAFF_ONLY", "Thao tác này dành cho cán bộ.")
    claims = staff_tokens.decode_token(current_app.config["SECRET_KEY"], token)
    principal = StaffPrincipal(int(claims["sub"]), claims["role"], claims.get("unit_id"))
    if roles and principal.role not in roles:
        raise ApiError(403, "FORBIDDEN", "Bạn không có quyền thực hiện thao tác này.")
    g.staff = principal
    return principal


def staff_required(*roles: str):
    """Guard a view: only staff with one of ``roles`` (any role when empty)."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            current_staff(*roles)
            return view(*args, **kwargs)
        return wrapper
    return decorator


LOGIN_WINDOW_SECONDS = 15 * 60


def _login_throttle(email: str):
    """Failed sign-ins per e-mail from this IP (a success forgets them) and per IP whatever the
    e-mail (one address trying many accounts): RATE_LIMIT_LOGIN_PER_15MIN and
    RATE_LIMIT_LOGIN_PER_IP_PER_15MIN."""
    from api.security.ratelimit import FailureThrottle, client_ip
    cfg = current_app.config["APP"]
    ip = client_ip()
    return FailureThrottle("login", LOGIN_WINDOW_SECONDS, [
        ("email_ip", f"{email}|{ip}", cfg.RATE_LIMIT_LOGIN_PER_15MIN),
        ("ip", ip, cfg.RATE_LIMIT_LOGIN_PER_IP_PER_15MIN),
    ], message="Đăng nhập sai quá nhiều lần, vui lòng thử lại sau {when}.")


def authenticate_staff(email: str, password: str) -> StaffUser:
    """The active staff account with this e-mail and password, or 401 INVALID_CREDENTIALS.
    Every sign-in path (the API and the console) comes here, so all are throttled: 429
    RATE_LIMITED after too many failures. In production the demo staff password is refused
    even where an account still has it (a database seeded in demo mode)."""
    email = email.strip().lower()
    throttle = _login_throttle(email)
    throttle.check()
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
    ok = staff_tokens.verify_password(user.password_hash if user else None, password)
    cfg = current_app.config["APP"]
    if ok and user is not None and cfg.APP_ENV == "production" \
            and cfg.is_demo_staff_password(password):
        log.error("sign-in refused: staff account %s still has the demo password", user.id)
        ok = False
    if not ok or user is None or not user.active:
        throttle.failed()
        raise ApiError(401, "INVALID_CREDENTIALS", "Email hoặc mật khẩu không đúng.")
    throttle.succeeded("email_ip")
    return user
