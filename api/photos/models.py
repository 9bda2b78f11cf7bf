from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base


class Photo(Base):
    """An uploaded photo. Only stripped derivatives are stored; the original is discarded."""

    __tablename__ = "photo"
    __table_args__ = (
        # A phone that retries an upload gets the same photo back.
        UniqueConstraint("citizen_id", "sha256", name="uq_photo_owner_content"),
        Index("ix_photo_report", "report_id"),
        Index("ix_photo_event", "event_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    source_type: Mapped[str] = mapped_column(String(10))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    display_key: Mapped[str] = mapped_column(String(200))
    thumb_key: Mapped[str] = mapped_column(String(200))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id", ondelete="SET NULL"))
    position: Mapped[int | None] = mapped_column(Integer)
    # Staff photos (progress, evidence of the fix) hang on a timeline event, not on the report.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", name="fk_photo_staff"))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_event.id", name="fk_photo_event", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
