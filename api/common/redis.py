"""The Redis client of the API (cache, later rate limits and live feeds).

Redis is an accelerator here, never a source of truth: callers treat every
Redis error as a cache miss.
"""
from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from flask import Flask, current_app


def to_redis_py_url(url: str) -> str:
    """Kombu's ``redis+socket:///path`` (the embedded server) → redis-py's ``unix:///path``."""
    if url.startswith("redis+socket://"):
        return "unix://" + url.removeprefix("redis+socket://")
    return url


def init_redis(app: Flask, url: str | None) -> None:
    app.extensions["redis"] = (
        # No retries: a Redis that is down must cost one short timeout, not several.
        redis.Redis.from_url(to_redis_py_url(url), socket_timeout=0.5, socket_connect_timeout=0.5,
                             health_check_interval=30, retry=Retry(NoBackoff(), 0))
        if url else None)


def client() -> redis.Redis | None:
    return current_app.extensions.get("redis")
