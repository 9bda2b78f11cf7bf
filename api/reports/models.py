"""Reports, their append-only events, the transactional outbox and idempotency keys."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, DateTime, Float, ForeignKey,
                        Index, Integer, String, Text, UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base
from api.identity.models import Citizen
from api.photos.models import Photo
from api.reference.models import Category, Unit, Ward
from api.reports.states import STATUSES

SOURCES = ("app", "open311", "chat", "staff")
ACTOR_KINDS = ("citizen", "staff", "system")


class Report(Base):
    __tablename__ = "report"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="report_status"),
        CheckConstraint(f"source IN {SOURCES}", name="report_source"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="report_latlon"),
        Index("ix_report_earth", text("ll_to_earth(lat, lon)"), postgresql_using="gist"),
        Index("ix_report_category_status_created", "category_code", "status", "created_at"),
        Index("ix_report_updated", "updated_at", "id"),
        Index("ix_report_ward", "ward_code"),
        Index("ix_report_citizen", "citizen_id"),
        Index("ix_report_created", "created_at"),
        Index("ix_report_resolved_open", "resolved_at", postgresql_where=text("status = 'resolved'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="new")
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    description: Mapped[str] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    location_source: Mapped[str] = mapped_column(String(10), default="device")  # device | exif
    address: Mapped[str | None] = mapped_column(String(500))
    ward_code: Mapped[str] = mapped_column(ForeignKey("ward.code"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"))
    # Personal data: dispatchers only, never units, never public.
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    attributes: Mapped[dict] = mapped_column(JSONB, default=dict)
    source: Mapped[str] = mapped_column(String(10), default="app")
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    # Set by routing: a nearby open report of the same category, for the dispatcher to link.
    possible_duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("report.id", name="fk_report_possible_duplicate"))
    routed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The SLA class and policy version the report is held to (a class change re-targets it).
    sla_class: Mapped[str | None] = mapped_column(String(20))
    sla_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policy.id", name="fk_report_sla_policy"))
    # The officer of the unit working it (set by the unit head, or by accepting).
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", name="fk_report_assignee", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why a report closed without an answer being accepted: no_response, insufficient_information…
    close_reason: Mapped[str | None] = mapped_column(String(40))
    # Set by the retention job: the reporter's identity and contact are gone.
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    category: Mapped[Category] = relationship(lazy="joined")
    ward: Mapped[Ward] = relationship(lazy="joined")
    unit: Mapped[Unit | None] = relationship(lazy="joined")
    citizen: Mapped[Citizen] = relationship()
    photos: Mapped[list[Photo]] = relationship(order_by=Photo.position, lazy="selectin")
    duplicate_of: Mapped["Report | None"] = relationship(remote_side=[id],
                                                         foreign_keys=[duplicate_of_id])


class ReportEvent(Base):
    """One row per change of a report. Append-only: never updated, never deleted."""

    __tablename__ = "report_event"
    __table_args__ = (
        CheckConstraint(f"actor_kind IN {ACTOR_KINDS}", name="event_actor_kind"),
        Index("ix_report_event_report", "report_id", "id"),
        # KPIs count answers by day (docs/kpis.md).
        Index("ix_report_event_resolved_at", "created_at",
              postgresql_where=text("to_status = 'resolved'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    actor_kind: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    data: Mapped[dict] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OutboxMessage(Base):
    """Work that must leave the database after commit (routing, push, IOC).

    Written in the same transaction as the change that causes it, so a lost
    broker message delays work but never loses it: a relay re-sends rows that
    are not yet ``processed_at``.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "next_attempt_at", postgresql_where=text("processed_at IS NULL")),
        Index("ix_outbox_event", "event_id", "topic"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    topic: Mapped[str] = mapped_column(String(60))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("report_event.id", ondelete="CASCADE"))
    payload: Mapped[dict] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


class IdempotencyKey(Base):
    """A client's ``Idempotency-Key``: the same key and body give the same answer."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("principal", "key", name="uq_idempotency_principal_key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    principal: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 index=True)


class ReportFollower(Base):
    __tablename__ = "report_follower"
    __table_args__ = (Index("ix_report_follower_citizen", "citizen_id"),)

    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    report: Mapped[Report] = relationship()
