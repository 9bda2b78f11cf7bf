"""The audit log: who saw or changed personal data, when, from where (DESIGN §10)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base


class AuditLog(Base):
    """Append-only. No foreign keys: the record outlives what it describes."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_report", "report_id", "at"),
        Index("ix_audit_log_actor", "actor_kind", "actor_id", "at"),
        Index("ix_audit_log_citizen", "citizen_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_kind: Mapped[str] = mapped_column(String(10))  # staff | citizen | system
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60))  # e.g. report.contact.viewed
    report_id: Mapped[int | None] = mapped_column(BigInteger)
    citizen_id: Mapped[int | None] = mapped_column(Integer)
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSONB, default=dict)
