"""JSON logs, one line per record, each carrying the request id.

The id comes from ``X-Request-Id`` when a proxy set one, else is generated,
and is echoed in the response so a citizen's support call can be traced.

One report's path crosses processes (API → routing task → publish task → push and
webhook deliveries), so the log context — the request id and, once known, the report's
id and code (:func:`bind`) — travels in a header of every task message the context sends
(:func:`install_task_log_context`) and is bound again in the worker while the task runs.
Every line of that path then carries the same ``request_id`` and ``report_code``.
"""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CONTEXT_FIELDS = ("request_id", "report_id", "report_code")
TASK_HEADER = "log_context"  # the Celery message header that carries the context
# Outside a request (a Celery task): the context of the task being run.
_task_context: ContextVar[dict | None] = ContextVar("log_context", default=None)


def current_context() -> dict:
    """The log context of this request or task (empty fields left out)."""
    if has_request_context():
        found = {"request_id": g.get("request_id"), **g.get("log_context", {})}
    else:
        found = dict(_task_context.get() or {})
    return {k: v for k, v in found.items() if v is not None}


def bind(**fields) -> None:
    """Add fields (``report_id``, ``report_code``) to every later log line of this request or
    task, and to the tasks it sends."""
    fields = {k: v for k, v in fields.items() if k in CONTEXT_FIELDS and v is not None}
    if has_request_context():
        g.log_context = {**g.get("log_context", {}), **fields}
    else:
        _task_context.set({**(_task_context.get() or {}), **fields})


def bind_report(report) -> None:
    bind(report_id=report.id, report_code=report.code)


class _RequestIdFilter(logging.Filter):
    """Puts the context on the record; a field a log call passed in ``extra`` wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current_context()
        for name in CONTEXT_FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, context.get(name))
        return True


def configure_logging(level: str, as_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if as_json:
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(report_id)s "
            "%(report_code)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def install_request_logging(app: Flask) -> None:
    access = logging.getLogger("api.access")
    install_task_log_context()

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        started = g.get("request_started")
        if started is not None and access.isEnabledFor(logging.INFO) \
                and request.path not in ("/healthz", "/metrics"):
            access.info("request", extra={
                "method": request.method, "path": request.path, "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 2)})
        return response


def install_task_log_context() -> None:
    """Carry the log context across Celery: every message sent from a request or a task
    holds it in a header; a worker binds it while it runs the task, then forgets it.
    Connected once per process (the API's sender and the worker share the signals)."""
    from celery import signals
    signals.before_task_publish.connect(_add_header, weak=False, dispatch_uid="ioc-log-context")
    signals.task_prerun.connect(_bind_task, weak=False, dispatch_uid="ioc-log-context")
    signals.task_postrun.connect(_unbind_task, weak=False, dispatch_uid="ioc-log-context")


def _add_header(headers=None, **_):
    context = current_context()
    if headers is not None and context:
        headers[TASK_HEADER] = context


def _bind_task(task=None, **_):
    # Celery's message protocol 2 puts custom headers on the task's request
    incoming = task.request.get(TASK_HEADER) if task is not None else None
    context = {k: v for k, v in (incoming if isinstance(incoming, dict) else {}).items()
               if k in CONTEXT_FIELDS}
    _task_context.set(context)


def _unbind_task(**_):
    _task_context.set(None)
