"""Prometheus metrics of the Celery workers: task counts by outcome, durations, retries.

Tasks run in the pool's child processes, so samples go through prometheus_client's
multiprocess files: with ``PROMETHEUS_MULTIPROC_DIR`` set (one directory per worker host),
each child writes there and the worker's main process serves the sum on
``WORKER_METRICS_PORT`` (``GET /metrics``). Without the directory the main process serves
only what it counted itself (a ``-P solo``/``-P threads`` worker: everything). Queue depth,
outbox lag and SLA gauges are the API's (``api/metrics/domain.py``): one scrape target reads
them from the database and the broker, however many workers run.
"""
from __future__ import annotations

import logging
import os
import time

from celery import signals
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client import multiprocess

log = logging.getLogger(__name__)

TASKS = Counter("ioc_celery_tasks", "Tasks finished, by task name and outcome",
                ["task", "outcome"])  # outcome: succeeded | failed | retried
DURATION = Histogram("ioc_celery_task_duration_seconds", "Time a task ran, by task name",
                     ["task"], buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
_started: dict[str, float] = {}


def install(port: int) -> None:
    """Count every task; serve the metrics on ``port`` from the worker's main process."""
    signals.task_prerun.connect(_prerun, weak=False, dispatch_uid="ioc-metrics")
    signals.task_postrun.connect(_postrun, weak=False, dispatch_uid="ioc-metrics")
    signals.task_retry.connect(_retry, weak=False, dispatch_uid="ioc-metrics")
    signals.worker_process_shutdown.connect(_child_gone, weak=False, dispatch_uid="ioc-metrics")
    if port:
        def _serve(**_):
            start_http_server(port, registry=_registry())
            log.info("worker metrics on :%d/metrics", port)
        signals.worker_init.connect(_serve, weak=False, dispatch_uid="ioc-metrics-http")


def _registry():
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return registry


def _prerun(task_id=None, **_):
    _started[task_id] = time.perf_counter()


def _postrun(task_id=None, task=None, state=None, **_):
    started = _started.pop(task_id, None)
    name = getattr(task, "name", "unknown")
    if started is not None:
        DURATION.labels(name).observe(time.perf_counter() - started)
    if state == "SUCCESS":
        TASKS.labels(name, "succeeded").inc()
    elif state == "FAILURE":
        TASKS.labels(name, "failed").inc()
    # RETRY is counted by _retry (the task raised Retry; postrun sees state RETRY)


def _retry(sender=None, **_):
    TASKS.labels(getattr(sender, "name", "unknown"), "retried").inc()


def _child_gone(pid=None, **_):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid or os.getpid())
