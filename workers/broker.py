"""The worker's Redis channel, made to live through a broker restart.

kombu 5.7 on Redis: when the broker goes away, the worker's consumer collects the lost
connection, which detaches its transport (``transport.client = None``), and reconnects
on a new one. The old connection's channel is still used afterwards: closing it puts the
unacknowledged messages back (an ETA task, a prefetched one), and a task that was running
across the restart is acknowledged on it when it ends. Both build a Redis client from the
detached transport and raise ``AttributeError: 'NoneType' object has no attribute
'hostname'``, which is not a connection error: it escapes, the whole worker stops
("Unrecoverable error"), and ``make run`` with it. ``scripts/chaos.py`` found both.

Here a channel whose transport is detached raises Redis's ``ConnectionError`` instead,
which kombu and Celery already handle as a connection error: the close goes on, the late
ack is logged ("Couldn't ack") and the message stays in Redis's unacked set, to be
delivered again after the visibility timeout (tasks are idempotent; the outbox relay
re-sends lost work long before that).
"""
from __future__ import annotations

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection.client is None:  # the transport of a lost connection
            raise RedisConnectionError("this channel's broker connection was closed")
        return super()._connparams(asynchronous=asynchronous)


def install() -> None:
    """Use :class:`Channel` for every Redis broker connection of this process."""
    kombu_redis.Transport.Channel = Channel
