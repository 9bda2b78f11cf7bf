"""Rate limits kept in Redis, shared by every API process.

A limit is a *sliding-window counter*: each (bucket, identity, window length) has one
counter per fixed window, and the estimate for the last ``seconds`` is this window's
count plus the previous window's count weighted by how much of it still overlaps. A
burst at a window edge therefore cannot pass twice the limit (as it can with a plain
fixed window), and each check costs one pipeline: INCR + EXPIRE + GET per window. A
refused call is taken back off the counters (one more round trip, on refusal only), so a
caller over their own limit does not use up the budget of the others behind the same
address.

Identities (an e-mail, an IP address, a device id) are hashed into the key, so Redis
holds no personal data. Redis is an accelerator, never a gate: when it is down or slow,
calls are allowed and a warning is logged (as :func:`api.open311.keys.over_limit` does),
and the limiter leaves Redis alone for ``BREAKER_SECONDS`` before trying again.

Use on a view::

    @rate_limit("report_create", key=by_citizen_device_and_ip,
                per_hour={"citizen": "RATE_LIMIT_REPORTS_PER_HOUR",
                          "ip": "RATE_LIMIT_REPORTS_PER_IP_PER_HOUR"})

A limit is an int, the name of a :class:`api.config.Config` field (read on every
request), a callable taking the config, or a mapping from the key function's
dimension names to any of those. ``None`` or 0 means no limit.
"""
from __future__ import annotations

import functools
import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Union

import redis
from flask import current_app, request

from api.errors import ApiError

log = logging.getLogger(__name__)

NAMESPACE = "ratelimit"

LimitValue = Union[int, str, Callable[[object], int], None]
LimitSpec = Union[LimitValue, Mapping[str, LimitValue]]
KeyFunc = Callable[[], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class Rule:
    """At most ``limit`` events per ``seconds`` for ``identity`` in ``bucket``."""
    bucket: str
    identity: str
    limit: int
    seconds: int

    def keys(self, now: float) -> tuple[str, str, float]:
        """This window's key, the previous window's key, and how far into this window we are
        (0 ≤ fraction < 1)."""
        index, offset = divmod(now, self.seconds)
        digest = hashlib.sha256(self.identity.encode()).hexdigest()[:24]
        base = f"{NAMESPACE}:{self.bucket}:{self.seconds}:{digest}"
        return f"{base}:{int(index)}", f"{base}:{int(index) - 1}", offset / self.seconds


# After a Redis error the limiter stands aside for a while instead of paying the client's
# connection timeouts and retries (seconds per call) on every request during an outage.
BREAKER_SECONDS = 10.0
_broken: dict[int, float] = {}


def _redis():
    client = current_app.extensions.get("redis")
    if client is None or _broken.get(id(client), 0.0) > time.monotonic():
        return None
    return client


def _unavailable(client, what: str, exc: Exception) -> None:
    _broken[id(client)] = time.monotonic() + BREAKER_SECONDS
    log.warning("rate limit %s skipped, redis unavailable (retrying in %.0f s): %s", what,
                BREAKER_SECONDS, exc)


def _estimate(previous: int, current: int, fraction: float) -> float:
    return previous * (1.0 - fraction) + current


def _wait(rule: Rule, previous: int, current: int, fraction: float) -> int:
    """Seconds until the estimate leaves room for one more event."""
    room = rule.limit - 1
    if current <= room:
        # Still in this window: wait for enough of the previous one to slide out.
        needed = 1.0 - fraction - (room - current) / previous if previous else 0.0
        seconds = max(0.0, needed) * rule.seconds
    else:
        # This window alone is over: wait for it to end and then slide out enough.
        seconds = (1.0 - fraction) * rule.seconds + (1.0 - room / current) * rule.seconds
    return max(1, math.ceil(seconds))


def _run(rules: list[Rule], *, increment: bool, now: float | None,
         refund: bool = True) -> int | None:
    client = _redis()
    if client is None or not rules:
        return None
    now = time.time() if now is None else now
    pipe = client.pipeline(transaction=False)
    plan = []
    for rule in rules:
        current_key, previous_key, fraction = rule.keys(now)
        if increment:
            pipe.incr(current_key)
            pipe.expire(current_key, rule.seconds * 2 + 1)
        else:
            pipe.get(current_key)
        pipe.get(previous_key)
        plan.append(fraction)
    try:
        replies = pipe.execute()
    except redis.RedisError as exc:
        _unavailable(client, "check", exc)
        return None
    step = 3 if increment else 2
    refused = []
    for n, (rule, fraction) in enumerate(zip(rules, plan)):
        current = int(replies[n * step] or 0)
        previous = int(replies[n * step + step - 1] or 0)
        estimate = _estimate(previous, current, fraction)
        # Counting this call (hit): over when past the limit. Looking only (peek): over when
        # the next call would be past it.
        if (estimate > rule.limit) if increment else (estimate >= rule.limit):
            refused.append((rule, previous, current, fraction))
    if not refused:
        return None
    refunding = increment and refund
    if refunding:
        # A refused call does not count: a citizen over their own limit must not use up the
        # budget of everyone behind the same (carrier-grade NAT) address.
        _undo(client, [rule.keys(now)[0] for rule in rules])
    return max(_wait(rule, previous, current - (1 if refunding else 0), fraction)
               for rule, previous, current, fraction in refused)


def _undo(client, names: list[str]) -> None:
    try:
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.decr(name)
        pipe.execute()
    except redis.RedisError as exc:
        _unavailable(client, "undo", exc)


def hit(rules: list[Rule], *, now: float | None = None, refund: bool = True) -> int | None:
    """Count one event against every rule; the seconds to wait when any is over, else None.
    A refused event is taken back off the counters unless ``refund`` is false."""
    return _run(rules, increment=True, now=now, refund=refund)


def peek(rules: list[Rule], *, now: float | None = None) -> int | None:
    """Like :func:`hit` without counting: would one more event be over a limit?"""
    return _run(rules, increment=False, now=now)


def reset(rules: list[Rule], *, now: float | None = None) -> None:
    """Forget the counts of these rules (both windows)."""
    client = _redis()
    if client is None or not rules:
        return
    now = time.time() if now is None else now
    names = [k for rule in rules for k in rule.keys(now)[:2]]
    try:
        client.delete(*names)
    except redis.RedisError as exc:
        _unavailable(client, "reset", exc)


# --- who is calling -----------------------------------------------------------------------

def _config():
    return current_app.config["APP"]


def enabled() -> bool:
    return _config().rate_limits_on


def caller_address() -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The caller's address. Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, the address the
    outermost trusted proxy saw (X-Forwarded-For is otherwise ignored: anyone can send it);
    an IPv4-mapped IPv6 address as IPv4; None when it is not an address."""
    hops = getattr(_config(), "TRUSTED_PROXY_COUNT", 0)
    address = request.remote_addr or ""
    if hops > 0:
        forwarded = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",")
                     if p.strip()]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_ip() -> str:
    """The caller's address as rate limits count it: an IPv6 caller by its /64, which one
    subscriber usually holds whole."""
    ip = caller_address()
    if ip is None:
        return request.remote_addr or "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def by_ip() -> list[tuple[str, str]]:
    return [("ip", client_ip())]


def by_citizen_device_and_ip() -> list[tuple[str, str]]:
    """The signed-in citizen (or anonymous device), the device id sent, and the IP address.
    A citizen changing device, or a device changing account, stays counted."""
    from api.identity.auth import _DEVICE_ID, current_citizen
    out = []
    citizen = current_citizen(required=False)
    if citizen is not None:
        out.append(("citizen", citizen.principal))
    device = request.headers.get("X-Device-Id")
    if device and _DEVICE_ID.match(device) and ("citizen", f"dev:{device}") not in out:
        out.append(("citizen", f"dev:{device}"))
    # The bot sends for many people from one address: its requests count per citizen only.
    if not request.environ.get("ioc.via_chat"):
        out.append(("ip", client_ip()))
    return out


def by_staff_and_ip() -> list[tuple[str, str]]:
    from api.identity.auth import current_staff
    return [("staff", str(current_staff().id)), ("ip", client_ip())]


# --- the decorator ------------------------------------------------------------------------

def _resolve(spec: LimitSpec, dimension: str) -> int:
    if isinstance(spec, Mapping):
        spec = spec.get(dimension)
    if spec is None:
        return 0
    if isinstance(spec, str):
        spec = getattr(_config(), spec)
    elif callable(spec):
        spec = spec(_config())
    return int(spec or 0)


def rate_limited(wait: int, message: str | None = None) -> ApiError:
    """The 429 answer; ``message`` may say ``{when}`` (e.g. "5 phút")."""
    when = f"{wait} giây" if wait < 120 else f"{math.ceil(wait / 60)} phút"
    message = message or "Bạn thao tác quá nhiều lần, vui lòng thử lại sau {when}."
    return ApiError(429, "RATE_LIMITED", message.format(when=when),
                    headers={"Retry-After": str(wait)})


def rules_for(name: str, identities: Iterable[tuple[str, str]],
              windows: Iterable[tuple[int, LimitSpec]]) -> list[Rule]:
    rules = []
    windows = list(windows)
    for dimension, identity in identities:
        for seconds, spec in windows:
            limit = _resolve(spec, dimension)
            if limit > 0:
                rules.append(Rule(f"{name}:{dimension}", identity, limit, seconds))
    return rules


def enforce(name: str, key: KeyFunc, windows: Iterable[tuple[int, LimitSpec]],
            message: str | None = None) -> None:
    """Count this request; raise 429 RATE_LIMITED (with Retry-After) when over a limit."""
    if not enabled():
        return
    wait = hit(rules_for(name, key(), windows))
    if wait is not None:
        raise rate_limited(wait, message)


def rate_limit(name: str, *, key: KeyFunc = by_ip, per_minute: LimitSpec = None,
               per_hour: LimitSpec = None, per_day: LimitSpec = None,
               windows: Iterable[tuple[int, LimitSpec]] = (), message: str | None = None):
    """Guard a view: 429 RATE_LIMITED once ``key``'s identities exceed a limit.

    Place it between ``@blp.route`` and ``@blp.arguments`` so that it runs before the body
    is parsed: a flood of malformed requests is counted too. ``windows`` adds other lengths
    as ``(seconds, limit)`` pairs.
    """
    spans = [(60, per_minute), (3600, per_hour), (86400, per_day), *windows]
    spans = [(seconds, spec) for seconds, spec in spans if spec is not None]

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            enforce(name, key, spans, message)
            return view(*args, **kwargs)
        wrapper.__rate_limit__ = name  # copied outwards by the decorators above (functools.wraps)
        return wrapper
    return decorator


# --- failures only (sign-in) --------------------------------------------------------------

class FailureThrottle:
    """Counts failed attempts only: :meth:`check` before trying (429 once any counter holds
    its limit), :meth:`failed` after a failure, :meth:`succeeded` to forget some counters."""

    def __init__(self, name: str, seconds: int, counters: Iterable[tuple[str, str, int]],
                 message: str | None = None):
        self.message = message
        self.rules = {dimension: Rule(f"{name}:{dimension}", identity, int(limit), seconds)
                      for dimension, identity, limit in counters if limit and int(limit) > 0}

    def check(self) -> None:
        if not enabled():
            return
        wait = peek(list(self.rules.values()))
        if wait is not None:
            raise rate_limited(wait, self.message)

    def failed(self) -> None:
        if enabled():  # every failure counts, the one that reaches the limit too
            hit(list(self.rules.values()), refund=False)

    def succeeded(self, *dimensions: str) -> None:
        if enabled():
            reset([self.rules[d] for d in dimensions if d in self.rules])
