"""Citizens' devices, their in-app inbox, and one push delivery row per (event, device)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base

PLATFORMS = ("android", "ios", "web")
LOCALES = ("vi", "en")
PUSH_STATUSES = ("pending", "sent", "failed", "pruned")


class Device(Base):
    """One app install that accepts push: its FCM registration token and language."""

    __tablename__ = "device"
    __table_args__ = (
        CheckConstraint(f"platform IN {PLATFORMS}", name="device_platform"),
        CheckConstraint(f"locale IN {LOCALES}", name="device_locale"),
        Index("ix_device_citizen", "citizen_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(4096), unique=True)
    platform: Mapped[str] = mapped_column(String(10))
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    app_version: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Notification(Base):
    """The citizen's inbox: every change they follow, whether or not a push reached them."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("citizen_id", "event_id", name="uq_notification_citizen_event"),
        Index("ix_notification_citizen", "citizen_id", text("id DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("report_event.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    # Rendered in the citizen's language when written; data is the push data payload.
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PushDelivery(Base):
    """One push of one event to one device. The unique pair is what makes it exactly once."""

    __tablename__ = "push_delivery"
    __table_args__ = (
        CheckConstraint(f"status IN {PUSH_STATUSES}", name="push_delivery_status"),
        UniqueConstraint("event_id", "device_id", name="uq_push_delivery_event_device"),
        Index("ix_push_delivery_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("report_event.id", ondelete="CASCADE"))
    # SET NULL: a pruned device goes, the record of what was tried stays.
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="SET NULL"))
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_error: Mapped[str | None] = mapped_column(Text)
    fcm_message_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
