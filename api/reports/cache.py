"""Cache of the public report view: the body every status reader gets.

A status page is read far more often than a report changes, and every reader
gets the same public body, so it is rendered once and kept in Redis. Any
commit that inserts or changes a report deletes its entry (session events
below); the TTL bounds staleness should a delete ever be lost.
"""
from __future__ import annotations

import logging
import time

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.common.redis import client
from api.reports.models import Report

PUBLIC_TTL_SECONDS = 60
# A tiny per-process layer in front of Redis for the hottest codes: a process
# drops its own entries on commit at once; other processes may serve a view up
# to LOCAL_TTL_SECONDS old.
LOCAL_TTL_SECONDS = 2.0
LOCAL_MAX_ENTRIES = 10_000
_local: dict[str, tuple[float, bytes]] = {}
log = logging.getLogger(__name__)


def _key(code: str) -> str:
    return f"report:public:{code}"


def get_public(code: str) -> bytes | None:
    hit = _local.get(code)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    r = client()
    if r is None:
        return None
    try:
        body = r.get(_key(code))
    except redis.RedisError as exc:
        log.warning("report cache read failed: %s", exc)
        return None
    if body is not None:
        _remember(code, body)
    return body


def _remember(code: str, body: bytes) -> None:
    if len(_local) >= LOCAL_MAX_ENTRIES:
        _local.clear()
    _local[code] = (time.monotonic() + LOCAL_TTL_SECONDS, body)


def put_public(code: str, body: bytes) -> None:
    _remember(code, body)
    r = client()
    if r is None:
        return
    try:
        r.set(_key(code), body, ex=PUBLIC_TTL_SECONDS)
    except redis.RedisError as exc:
        log.warning("report cache write failed: %s", exc)


def invalidate(r: redis.Redis | None, codes: set[str]) -> None:
    for code in codes:
        _local.pop(code, None)
    if r is None or not codes:
        return
    try:
        r.delete(*(_key(c) for c in codes))
    except redis.RedisError as exc:
        log.warning("report cache invalidation failed (TTL bounds staleness): %s", exc)


def install_invalidation(session_class: type[Session], redis_client) -> None:
    """Delete the cached view of every report a transaction touched, once it commits."""

    @event.listens_for(session_class, "before_flush")
    def _collect(session: Session, _ctx, _instances):
        changed = session.info.setdefault("changed_reports", set())
        # A new report has no cached view yet (misses are not cached): only changes count.
        for obj in session.dirty:
            if isinstance(obj, Report) and obj.code:
                changed.add(obj.code)

    @event.listens_for(session_class, "after_commit")
    def _invalidate(session: Session):
        invalidate(redis_client, session.info.pop("changed_reports", set()))

    @event.listens_for(session_class, "after_rollback")
    def _forget(session: Session):
        session.info.pop("changed_reports", None)
