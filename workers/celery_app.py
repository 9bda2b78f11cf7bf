"""The Celery app: ``celery -A workers.celery_app worker`` / ``… beat``.

Tasks run inside a Flask app context (the official Flask↔Celery wiring), take
ids, re-fetch, and are idempotent. Messages are acknowledged after the task
ran (``acks_late``) and requeued if the worker dies, so a killed worker loses
nothing; the outbox relay covers a broker that loses messages.
"""
from __future__ import annotations

from celery import Celery, Task

from api import create_app

RELAY_EVERY_SECONDS = 5.0
DELIVERIES_EVERY_SECONDS = 2.0
AUTOCLOSE_EVERY_SECONDS = 600.0
SLA_SWEEP_EVERY_SECONDS = 60.0


def create_celery(flask_app=None) -> Celery:
    flask_app = flask_app or create_app()

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    cfg = flask_app.config["APP"]
    app = Celery("ioc", task_cls=FlaskTask, broker=cfg.CELERY_BROKER_URL)
    app.conf.update(
        task_serializer="json", accept_content=["json"], result_serializer="json",
        task_ignore_result=True, task_acks_late=True, task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1, broker_connection_retry_on_startup=True,
        timezone="UTC", enable_utc=True,
        beat_schedule={
            "outbox-relay": {"task": "outbox.relay", "schedule": RELAY_EVERY_SECONDS},
            "sla-sweep": {"task": "sla.sweep", "schedule": SLA_SWEEP_EVERY_SECONDS},
            "privacy-retention": {"task": "privacy.retention", "schedule": 86400.0},
            "deliveries-sweep": {"task": "deliveries.sweep", "schedule": DELIVERIES_EVERY_SECONDS},
            "reports-autoclose": {"task": "reports.autoclose", "schedule": AUTOCLOSE_EVERY_SECONDS},
        },
    )
    from workers import broker
    broker.install()  # lives through a Redis restart (workers/broker.py)
    app.flask_app = flask_app
    flask_app.extensions["celery"] = app
    from workers import metrics
    metrics.install(cfg.WORKER_METRICS_PORT)
    # The worker keeps the API's log format (JSON lines with request and report ids) instead
    # of replacing the root logger's handlers with its own.
    from celery import signals
    from api.logs import configure_logging
    signals.setup_logging.connect(
        lambda **_: configure_logging(cfg.LOG_LEVEL, cfg.LOG_JSON), weak=False,
        dispatch_uid="ioc-logging")
    import workers.tasks  # noqa: F401  (registers the tasks on this app)
    import workers.privacy  # noqa: F401
    return app


celery_app = create_celery()
app = celery_app  # what `celery -A workers.celery_app` looks for
