"""Staff credentials: argon2 password hashes and short-lived signed tokens."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.errors import ApiError

ISSUER = "ioc-api"
AUDIENCE = "staff"
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("not-a-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def issue_token(secret: str, *, user_id: int, role: str, unit_id: int | None, ttl_seconds: int,
                now: datetime | None = None) -> tuple[str, datetime]:
    now = now or datetime.now(timezone.utc)
    expires = now + timedelta(seconds=ttl_seconds)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": str(user_id), "role": role,
              "unit_id": unit_id, "iat": now, "exp": expires}
    return jwt.encode(claims, secret, algorithm="HS256"), expires


def decode_token(secret: str, token: str) -> dict:
    try:
        return jwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                          options={"require": ["exp", "sub", "role"]})
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "TOKEN_EXPIRED", "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.")
    except jwt.InvalidTokenError as exc:
        raise ApiError(401, "INVALID_TOKEN", "Mã xác thực không hợp lệ.", {"authorization": [str(exc)]})


def is_staff_token(token: str) -> bool:
    """Staff tokens are ours (HS256, our issuer); anything else is treated as Firebase."""
    return issued_by(token, ISSUER)


def issued_by(token: str, issuer: str) -> bool:
    """Whether ``token`` is an HS256 token of ours from ``issuer`` (unverified: it only tells
    which verifier to call)."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return False
    return header.get("alg") == "HS256" and claims.get("iss") == issuer
