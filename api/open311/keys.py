"""Issue, find and revoke Open311 API keys; a fixed-window rate limit per key."""
from __future__ import annotations

import hashlib
import logging
import secrets
import time
from datetime import datetime, timezone

import redis
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.open311.models import Open311ApiKey

log = logging.getLogger(__name__)

DEMO_KEY_NAME = "demo"
DEFAULT_RATE_LIMIT = 60
SCOPES = ("open311", "ioc")
WINDOW_SECONDS = 60


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_key(session: Session, name: str, rate_limit_per_minute: int = DEFAULT_RATE_LIMIT,
               scopes: list[str] | None = None) -> tuple[Open311ApiKey, str]:
    """The new row and the raw key: the only moment the raw key exists."""
    scopes = scopes or ["open311"]
    raw = ("o311_" if "open311" in scopes else "ioc_") + secrets.token_urlsafe(32)
    row = Open311ApiKey(name=name, key_hash=hash_key(raw), created_at=datetime.now(timezone.utc),
                        rate_limit_per_minute=rate_limit_per_minute, scopes=scopes)
    session.add(row)
    session.flush()
    return row, raw


def ensure_demo_key(session: Session, raw_key: str,
                    rate_limit_per_minute: int = 120) -> Open311ApiKey:
    """Idempotent, so the demo loader can run on every start."""
    row = session.scalar(select(Open311ApiKey).where(Open311ApiKey.key_hash == hash_key(raw_key)))
    if row is None:
        row = Open311ApiKey(name=DEMO_KEY_NAME, key_hash=hash_key(raw_key),
                            rate_limit_per_minute=rate_limit_per_minute)
        session.add(row)
        session.flush()
    elif row.revoked_at is not None:
        # A demo that was revoked by hand stays revoked: the operator meant it.
        log.warning("the demo Open311 key is revoked")
    return row


def find_active(session: Session, raw_key: str) -> Open311ApiKey | None:
    if not raw_key:
        return None
    return session.scalar(select(Open311ApiKey).where(
        Open311ApiKey.key_hash == hash_key(raw_key), Open311ApiKey.revoked_at.is_(None)))


def revoke(session: Session, key_id: int) -> Open311ApiKey | None:
    row = session.get(Open311ApiKey, key_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = datetime.now(timezone.utc)
    return row


def over_limit(key: Open311ApiKey) -> int | None:
    """Seconds to wait when the key used up its window, else None.

    A fixed window is coarse (a burst at a window edge may pass twice the
    limit) but needs one INCR per call. Redis is an accelerator, never a gate:
    when it is down, calls are allowed.
    """
    client = current_app.extensions.get("redis")
    if client is None or not key.rate_limit_per_minute:
        return None
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    # Named by the key's hash, not its id: ids repeat across databases sharing one Redis.
    name = f"open311:rate:{key.key_hash[:24]}:{window}"
    try:
        pipe = client.pipeline()
        pipe.incr(name)
        pipe.expire(name, WINDOW_SECONDS * 2)
        count, _ = pipe.execute()
    except redis.RedisError as exc:
        log.warning("open311 rate limit skipped: %s", exc)
        return None
    if count > key.rate_limit_per_minute:
        return max(1, int((window + 1) * WINDOW_SECONDS - now) + 1)
    return None
