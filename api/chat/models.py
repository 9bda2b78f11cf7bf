"""A conversation handed from the bot to a person at the IOC."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base

HANDOFF_STATUSES = ("open", "closed")


class ChatHandoff(Base):
    __tablename__ = "chat_handoff"
    __table_args__ = (
        CheckConstraint(f"status IN {HANDOFF_STATUSES}", name="chat_handoff_status"),
        CheckConstraint("lang IN ('vi', 'en')", name="chat_handoff_lang"),
        Index("ix_chat_handoff_open", "created_at", postgresql_where="status = 'open'"),
        Index("ix_chat_handoff_citizen", "citizen_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The conversation (the proxy's sender id: "c<citizen>:<app sender>" or "anon:<app sender>").
    sender: Mapped[str] = mapped_column(String(200))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id", ondelete="SET NULL"))
    lang: Mapped[str] = mapped_column(String(2), default="vi")
    summary: Mapped[str] = mapped_column(Text)
    transcript: Mapped[list] = mapped_column(JSONB, default=list)
    report_code: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    close_note: Mapped[str | None] = mapped_column(Text)

    @property
    def reference(self) -> str:
        return f"HT-{self.id:06d}"
