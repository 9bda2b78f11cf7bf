"""SLA data: calendar exceptions, versioned policies, and the clocks of each report."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, String,
                        UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base

EXCEPTION_KINDS = ("day_off", "working_day", "not_a_holiday")


class CalendarException(Base):
    """A date the working calendar treats differently from the law's default.

    ``day_off``: an announced extra day off (a bridge day); ``working_day``: a
    make-up working day (usually a Saturday); ``not_a_holiday``: a public
    holiday of the holidays package that does not apply here.
    """

    __tablename__ = "calendar_exception"
    __table_args__ = (
        CheckConstraint(f"kind IN {EXCEPTION_KINDS}", name="calendar_exception_kind"),
        UniqueConstraint("day", "kind", name="uq_calendar_exception_day_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


CLOCK_KINDS = ("TRIAGE", "ACCEPT", "RESOLVE", "UNIT_RESOLVE")


class SlaPolicyVersion(Base):
    """The targets of one SLA class, versioned: a change is a new row, never an edit.

    A report keeps the version it was received under (``report.sla_policy_id``).
    """

    __tablename__ = "sla_policy"
    __table_args__ = (UniqueConstraint("sla_class", "version", name="uq_sla_policy_class_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sla_class: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column()
    body: Mapped[dict] = mapped_column(JSONB)  # api.sla.policies.policy_to_dict
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SlaClock(Base):
    """One running or finished clock of a report. ``state`` is the whole clock
    (api.sla.clocks); the columns beside it are what queries and the sweep need."""

    __tablename__ = "sla_clock"
    __table_args__ = (
        CheckConstraint(f"kind IN {CLOCK_KINDS}", name="sla_clock_kind"),
        Index("ix_sla_clock_due_check", "next_check_at",
              postgresql_where=text("stopped_at IS NULL AND next_check_at IS NOT NULL")),
        Index("ix_sla_clock_report", "report_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    cycle: Mapped[int] = mapped_column(default=1)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(10))
    state: Mapped[dict] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
