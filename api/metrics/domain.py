"""The domain's gauges, computed when Prometheus scrapes: one SQL round trip and one passive
queue declaration on the broker (Redis or RabbitMQ). Outbox and pending deliveries read their partial indexes; the dead-delivery and
SLA counts scan ``push_delivery``/``webhook_delivery``/``sla_clock`` (docs/deploy.md gives
the cost; scrape every 30 s or more). A database or broker that does not answer is reported
as ``ioc_domain_metrics_up 0`` / ``ioc_broker_up 0``, never as a failed scrape.
"""
from __future__ import annotations

import logging

from kombu import Connection
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import text

from api.db import db

log = logging.getLogger(__name__)

QUEUES = ("celery",)  # Celery's default queue: every task of ours goes there
DUE_SOON_HOURS = 24

# The citizen's clock (RESOLVE), running (not stopped, not paused).
_SNAPSHOT = text(f"""
WITH sla AS (
    SELECT count(DISTINCT report_id) AS open,
           count(DISTINCT report_id) FILTER (WHERE due_at <= now()) AS breached,
           count(DISTINCT report_id) FILTER (
               WHERE due_at > now() AND due_at <= now() + interval '{DUE_SOON_HOURS} hours')
               AS due_soon
    FROM sla_clock
    WHERE kind = 'RESOLVE' AND stopped_at IS NULL AND (state ->> 'paused_at') IS NULL
), outbox AS (
    SELECT count(*) AS pending,
           coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest_seconds
    FROM outbox WHERE processed_at IS NULL
)
SELECT outbox.pending, outbox.oldest_seconds,
       (SELECT count(*) FROM push_delivery WHERE status = 'pending') AS push_pending,
       (SELECT count(*) FROM push_delivery WHERE status = 'failed') AS push_dead,
       (SELECT count(*) FROM webhook_delivery WHERE status = 'pending') AS webhook_pending,
       (SELECT count(*) FROM webhook_delivery WHERE status = 'dead') AS webhook_dead,
       sla.open, sla.due_soon, sla.breached
FROM outbox, sla
""")


class DomainCollector:
    def __init__(self, app):
        self.app = app

    def collect(self):
        yield from self._database()
        yield from self._broker()

    def _database(self):
        up = "ioc_domain_metrics_up", "1 when the database answered the metrics query"
        try:
            with db.engine.connect() as conn:
                row = conn.execute(_SNAPSHOT).one()
        except Exception as exc:  # a scrape must not fail with the database
            log.warning("metrics: database: %s", exc)
            yield _gauge(*up, 0)
            return
        yield _gauge(*up, 1)
        yield _gauge("ioc_outbox_pending", "Outbox rows not yet processed", row.pending)
        yield _gauge("ioc_outbox_oldest_age_seconds",
                     "Age of the oldest unprocessed outbox row (0 when none)",
                     float(row.oldest_seconds))
        deliveries = GaugeMetricFamily(
            "ioc_deliveries", "Push and webhook deliveries waiting (pending) or given up (dead)",
            labels=["channel", "status"])
        deliveries.add_metric(["push", "pending"], row.push_pending)
        deliveries.add_metric(["push", "dead"], row.push_dead)
        deliveries.add_metric(["webhook", "pending"], row.webhook_pending)
        deliveries.add_metric(["webhook", "dead"], row.webhook_dead)
        yield deliveries
        yield _gauge("ioc_sla_open_reports", "Reports whose resolution clock runs", row.open)
        yield _gauge("ioc_sla_due_soon_reports",
                     f"Running resolution clocks due within {DUE_SOON_HOURS} h", row.due_soon)
        yield _gauge("ioc_sla_breached_reports", "Running resolution clocks past their due time",
                     row.breached)

    def _broker(self):
        """Messages waiting per queue, asked of the broker itself (a passive declare: Redis
        sums its priority lists, RabbitMQ counts ready messages), whatever the broker."""
        url = self.app.config["APP"].CELERY_BROKER_URL
        if not url:
            return
        up = "ioc_broker_up", "1 when the broker answered"
        depth = GaugeMetricFamily("ioc_celery_queue_length", "Task messages waiting in the queue",
                                  labels=["queue"])
        try:
            with Connection(url, connect_timeout=2,
                            transport_options={"socket_timeout": 2, "max_retries": 0}) as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
                channel = conn.default_channel
                lengths = {}
                for queue in QUEUES:
                    try:
                        lengths[queue] = channel.queue_declare(queue, passive=True).message_count
                    except conn.channel_errors:  # not declared yet: nobody sent to it
                        channel = conn.channel()
                        lengths[queue] = 0
        except Exception as exc:  # a scrape must not fail with the broker
            log.warning("metrics: broker: %s", exc)
            yield _gauge(*up, 0)
            return
        yield _gauge(*up, 1)
        for queue, length in lengths.items():
            depth.add_metric([queue], length)
        yield depth


def _gauge(name: str, documentation: str, value) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)
