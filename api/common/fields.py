"""Marshmallow fields shared by the schemas."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from marshmallow import fields

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class LocalDateTime(fields.AwareDateTime):
    """UTC inside, Vietnam time at the edge: ISO 8601 with +07:00 on output.

    Input must carry an offset (any offset is accepted and kept as an instant).
    """

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return super()._serialize(value.astimezone(LOCAL_TZ), attr, obj, **kwargs)


def deadline_text(value) -> str:
    """A deadline as people in Vietnam write it: midnight is "24:00" of the day that ends."""
    from datetime import timedelta
    local = value.astimezone(LOCAL_TZ)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"24:00 ngày {local - timedelta(days=1):%d/%m/%Y}"
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"
