"""The IOC feed: the CloudEvents log, webhook subscribers and their deliveries, ratings."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer,
                        SmallInteger, String, Text, UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base

EVENT_TYPES = ("report.created", "report.routed", "report.status_changed", "sla.warning",
               "sla.breached", "report.rated")
WEBHOOK_STATUSES = ("pending", "delivered", "dead")


class IocEvent(Base):
    """One CloudEvent, written once from a report event. ``id`` is the CloudEvent id and the
    position in the stream: webhooks replay from it, the SSE stream resumes after it."""

    __tablename__ = "ioc_event"
    __table_args__ = (
        CheckConstraint(f"type IN {EVENT_TYPES}", name="ioc_event_type"),
        UniqueConstraint("source_event_id", "type", name="uq_ioc_event_source_type"),
        Index("ix_ioc_event_time", "time"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_event_id: Mapped[int] = mapped_column(ForeignKey("report_event.id", ondelete="CASCADE"))
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(20))  # the tracking code
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict] = mapped_column(JSONB)


class WebhookSubscription(Base):
    """An IOC system that wants events pushed. The secret signs each body (HMAC-SHA256); it is
    shown to the admin once, at creation."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    types: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One event for one subscriber: pending until a 2xx, dead after the last attempt."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        CheckConstraint(f"status IN {WEBHOOK_STATUSES}", name="webhook_delivery_status"),
        UniqueConstraint("subscription_id", "ioc_event_id", name="uq_webhook_delivery_sub_event"),
        Index("ix_webhook_delivery_due", "next_attempt_at",
              postgresql_where=text("status = 'pending'")),
        Index("ix_webhook_delivery_sub_status", "subscription_id", "status", "ioc_event_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE"))
    ioc_event_id: Mapped[int] = mapped_column(ForeignKey("ioc_event.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReportRating(Base):
    """The citizen's verdict on an answered report (1–5 and a comment); one per report."""

    __tablename__ = "report_rating"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="report_rating_score"),
                      Index("ix_report_rating_created", "created_at"),
                      Index("ix_report_rating_citizen", "citizen_id"))

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"),
                                           primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
