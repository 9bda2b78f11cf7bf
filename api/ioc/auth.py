"""Who may read the IOC feed: staff signed in as dispatcher or admin, or an integrating system
holding an API key with the ``ioc`` scope (``X-Api-Key`` header)."""
from __future__ import annotations

import functools

from flask import g, request

from api.db import db
from api.errors import ApiError
from api.identity.auth import current_staff
from api.open311 import keys

IOC_ROLES = ("dispatcher", "admin")


def check_ioc_access() -> None:
    raw = request.headers.get("X-Api-Key", "").strip()
    if raw and not request.headers.get("Authorization"):
        key = keys.find_active(db.session, raw)
        if key is None or "ioc" not in (key.scopes or []):
            raise ApiError(403, "INVALID_API_KEY", "Khóa API không hợp lệ, đã thu hồi hoặc không "
                           "được dùng cho nguồn dữ liệu IOC.")
        wait = keys.over_limit(key)
        if wait is not None:
            raise ApiError(429, "RATE_LIMITED", "Quá nhiều yêu cầu với khóa API này.",
                           headers={"Retry-After": str(wait)})
        g.ioc_client = f"key:{key.id}"
        return
    staff = current_staff(*IOC_ROLES)
    g.ioc_client = f"staff:{staff.id}"


def ioc_access(view):
    """Guard a view of the IOC feed (staff dispatcher/admin or an ``ioc`` API key)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        check_ioc_access()
        return view(*args, **kwargs)
    return wrapper
