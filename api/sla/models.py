"""SLA data: calendar exceptions (make-up Saturdays, announced days off)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, String, UniqueConstraint, func
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
