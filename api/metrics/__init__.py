"""Prometheus metrics of the API: ``GET /metrics``.

Per request: a count by method, route template and status, a latency histogram by route
template, a count of 5xx answers. At scrape time, the domain's gauges (``domain.py``): the
outbox's lag, pending and dead deliveries, SLA clocks, the broker's queue depth.

Gunicorn runs several processes: with ``PROMETHEUS_MULTIPROC_DIR`` set, each writes its
samples to files there and a scrape adds them all up (prometheus_client's multiprocess
mode; ``api/gunicorn_conf.py`` empties the directory at start and retires dead workers'
files). Unset, the counters live in this one process (tests, ``flask run``).

Access: with ``METRICS_TOKEN`` set, only ``Authorization: Bearer <token>`` reads them, from
anywhere; unset, only callers on loopback or a private network (the address is the
socket's, or the one ``TRUSTED_PROXY_COUNT`` proxies vouch for: ``caller_address``).
"""
from __future__ import annotations

import hmac
import ipaddress
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram,
                               generate_latest)
from prometheus_client import multiprocess

from api.errors import ApiError
from api.security.ratelimit import caller_address

bp = Blueprint("metrics", __name__)

REQUESTS = Counter("ioc_http_requests", "HTTP requests answered, by route template",
                   ["method", "route", "status"])
LATENCY = Histogram("ioc_http_request_duration_seconds", "Time to answer, by route template",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
ERRORS = Counter("ioc_http_server_errors", "HTTP 5xx answers, by route template",
                 ["method", "route"])
# Loopback and the RFC 1918 / unique-local ranges where a scraper lives (ipaddress's
# is_private also admits documentation and reserved ranges: too wide for this).
_PRIVATE_NETS = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"))
UNMATCHED = "<unmatched>"  # no route: the raw path is not a label (unbounded cardinality)


def install_metrics(app: Flask) -> None:
    """Time and count every request; serve ``/metrics``. Call before other request hooks
    so that requests they refuse are counted too."""
    app.before_request(_start)
    app.after_request(_count)
    app.register_blueprint(bp)


def _start():
    g.metrics_started = time.perf_counter()


def _count(response):
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    status = response.status_code
    REQUESTS.labels(request.method, route, str(status)).inc()
    if status >= 500:
        ERRORS.labels(request.method, route).inc()
    started = g.get("metrics_started")
    if started is not None:
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
    return response


@bp.get("/metrics")
def metrics():
    """Prometheus text format (not in openapi.json: it is for the operator's scraper)."""
    _check_access()
    from api.metrics.domain import DomainCollector
    sources = [_process_samples(), DomainCollector(current_app)]
    return Response(generate_latest(_Union(sources)), mimetype=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


class _Union:
    """What ``generate_latest`` reads: the metrics of several collectors, made at scrape."""

    def __init__(self, sources):
        self.sources = sources

    def collect(self):
        for source in self.sources:
            yield from source.collect()


def _process_samples():
    """Every gunicorn worker's samples (multiprocess mode), else this process's."""
    if current_app.config["APP"].PROMETHEUS_MULTIPROC_DIR:
        return multiprocess.MultiProcessCollector(
            None, path=current_app.config["APP"].PROMETHEUS_MULTIPROC_DIR)
    return REGISTRY


def _check_access() -> None:
    token = current_app.config["APP"].METRICS_TOKEN
    if token:
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(),
                                                               token.encode()):
            return
        raise ApiError(401, "UNAUTHENTICATED", "Metrics need the METRICS_TOKEN bearer token.",
                       headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    address = caller_address()
    if address is not None and any(address in net for net in _PRIVATE_NETS):
        return
    raise ApiError(403, "FORBIDDEN", "Metrics are served to loopback and private networks "
                                     "only (or set METRICS_TOKEN).")
