"""Chat grants: what lets the bot act for the citizen who is talking to it.

The proxy signs a short-lived token for every message it forwards (HS256, issuer
``ioc-chat``, audience ``chat``) naming the conversation and, when the person is known
(Firebase or device id), the citizen. The bot reads it from the message metadata and sends
it back as ``Authorization: Bearer``. The API accepts a grant on exactly the endpoints in
``GRANT_ENDPOINTS``; anywhere else it is refused, so a grant leaked from the tracker store
is worth ten minutes of "send a report / ask for a person" and nothing more.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import jwt

from api.errors import ApiError
from api.identity.staff import issued_by

ISSUER = "ioc-chat"
AUDIENCE = "chat"
# Flask endpoints on which a chat grant stands for its citizen.
GRANT_ENDPOINTS = frozenset({"reports.create", "chat.create_handoff"})


@dataclass(frozen=True)
class Grant:
    sender: str
    citizen_id: int | None


def issue(secret: str, *, sender: str, citizen_id: int | None, ttl_seconds: int,
          now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": sender, "cid": citizen_id, "iat": now,
              "exp": now + timedelta(seconds=ttl_seconds)}
    return jwt.encode(claims, secret, algorithm="HS256")


def is_grant(token: str) -> bool:
    return issued_by(token, ISSUER)


def decode(secret: str, token: str) -> Grant:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "TOKEN_EXPIRED", "Phiên trò chuyện đã hết hạn.")
    except jwt.InvalidTokenError as exc:
        raise ApiError(401, "INVALID_TOKEN", "Mã xác thực không hợp lệ.", {"authorization": [str(exc)]})
    cid = claims.get("cid")
    if cid is not None and not isinstance(cid, int):
        raise ApiError(401, "INVALID_TOKEN", "Mã xác thực không hợp lệ.")
    return Grant(sender=str(claims["sub"]), citizen_id=cid)
