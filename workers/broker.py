"""The worker's consumer, made to live through a broker restart.

Celery 5.7 / kombu 5.7 on Redis: when the broker goes away while the worker holds
unacknowledged messages (an ETA task, a prefetched one), the consumer collects the lost
connection — which detaches its transport — and then closes it; closing the channel tries
to put the unacked messages back through that detached transport and raises
``AttributeError: 'NoneType' object has no attribute 'hostname'``. That error is not a
connection error, so it escapes and the whole worker stops ("Unrecoverable error"), and
with it everything ``make run`` started. ``scripts/chaos.py`` found it.

Here that last close may fail quietly: the messages are still in Redis's unacked set
(kombu restores them after the visibility timeout) and the outbox relay re-sends the work
they stood for after its lease; tasks are idempotent. The consumer then reconnects as usual.
"""
from __future__ import annotations

import logging

from celery.worker.consumer import Consumer as CeleryConsumer

log = logging.getLogger(__name__)


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc):
        connection = self.connection
        if connection is not None:
            close = connection.close

            def _close_detached():
                try:
                    close()
                except AttributeError as error:  # the transport is already detached
                    log.warning("closing the lost broker connection: %s (unacked messages "
                                "come back after the visibility timeout)", error)

            connection.close = _close_detached
        super().on_connection_error_after_connected(exc)
