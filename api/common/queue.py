"""Enqueue Celery tasks by name, only after the transaction that asked for them commits.

The API never imports ``workers/``: it knows task names, not task code. A
message that cannot be sent (broker down) is not an error for the request:
the outbox row written in the same transaction makes the relay send it later.
After a failed send the API stops trying for ``PAUSE_SECONDS``: while the broker restarts,
each request would otherwise wait out a connection timeout for a message the relay sends
anyway.
"""
from __future__ import annotations

import logging
import time

from celery import Celery
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
PAUSE_SECONDS = 5.0
_PAUSED_UNTIL = "task_sender_paused_until"


def init_sender(app: Flask, broker_url: str | None) -> None:
    sender = None
    if broker_url:
        sender = Celery("ioc-api", broker=broker_url, set_as_current=False)
        sender.conf.update(task_serializer="json", broker_connection_timeout=2,
                           broker_transport_options={"socket_timeout": 2,
                                                     "socket_connect_timeout": 2})
    app.extensions["task_sender"] = sender


def send_task_after_commit(session: Session, name: str, args: list) -> None:
    """Send ``name(*args)`` once ``session`` commits; nothing is sent on rollback."""
    sender = current_app.extensions.get("task_sender")
    if sender is None:
        return
    pending = session.info.setdefault("tasks_after_commit", [])
    if not pending:
        event.listen(session, "after_commit", _flush, once=True)
        event.listen(session, "after_rollback", _forget, once=True)
    pending.append((sender, name, args))


def _flush(session: Session) -> None:
    pending = session.info.pop("tasks_after_commit", [])
    extensions = current_app.extensions
    if time.monotonic() < extensions.get(_PAUSED_UNTIL, 0.0):
        log.info("broker paused after a failure: %d task(s) left to the outbox relay",
                 len(pending))
        return
    for sender, name, args in pending:
        try:
            sender.send_task(name, args=args, retry=False)
        except Exception as exc:  # the outbox relay re-sends it; the request has succeeded
            extensions[_PAUSED_UNTIL] = time.monotonic() + PAUSE_SECONDS
            log.warning("could not enqueue %s%s now (the outbox will retry; no sends for "
                        "%.0f s): %s", name, args, PAUSE_SECONDS, exc)
            return


def _forget(session: Session) -> None:
    session.info.pop("tasks_after_commit", None)
