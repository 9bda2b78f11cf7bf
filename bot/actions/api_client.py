"""The public API as the actions see it: JSON over aiohttp, 3 s per call, never a crash.

``ApiUnavailable`` covers everything the citizen can only wait out (connection refused,
timeout, 5xx, an unreadable body); ``ApiRefused`` is a 4xx with the API's error envelope
(``{code, status, message, errors}``), which the caller turns into an answer.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from actions.settings import settings

log = logging.getLogger(__name__)


class ApiUnavailable(Exception):
    """The API is down, too slow or failing: tell the citizen to try again later."""


class ApiRefused(Exception):
    """A 4xx answer, with the stable error code of the envelope."""

    def __init__(self, status: int, code: str, message: str = ""):
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.message = message


async def request(method: str, path: str, *, params: list | dict | None = None,
                  json: Any = None, headers: dict | None = None) -> tuple[int, Any]:
    """One call to the API; returns (status, decoded JSON) for 2xx answers."""
    config = settings()
    timeout = aiohttp.ClientTimeout(total=config.timeout_seconds)
    url = config.api_url + path
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.request(method, url, params=params, json=json,
                                       headers=headers) as response:
                status = response.status
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        log.warning("API %s %s failed: %s", method, path, type(exc).__name__)
        raise ApiUnavailable(type(exc).__name__) from exc
    if status >= 500:
        log.warning("API %s %s answered %s", method, path, status)
        raise ApiUnavailable(f"status {status}")
    if status >= 400:
        envelope = body if isinstance(body, dict) else {}
        raise ApiRefused(status, str(envelope.get("code") or status), str(envelope.get("message") or ""))
    if body is None and status != 204:
        raise ApiUnavailable("unreadable answer")
    return status, body


async def get(path: str, params: list | dict | None = None) -> Any:
    return (await request("GET", path, params=params))[1]


async def post(path: str, body: dict, *, bearer: str | None = None,
               idempotency_key: str | None = None) -> Any:
    headers = {}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return (await request("POST", path, json=body, headers=headers))[1]
