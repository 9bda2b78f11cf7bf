"""Routing rules: which unit handles a category (or group) in a ward (or everywhere)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base
from api.reference.models import Unit


class RoutingRule(Base):
    """Category-or-group × ward-or-anywhere → unit. The most specific matching rule wins:
    category+ward > category > group+ward > ward > group; ties go to the higher priority."""

    __tablename__ = "routing_rule"
    __table_args__ = (
        CheckConstraint("category_code IS NULL OR group_code IS NULL", name="rule_category_or_group"),
        Index("ix_routing_rule_lookup", "category_code", "group_code", "ward_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("category.code"))
    group_code: Mapped[str | None] = mapped_column(ForeignKey("category_group.code"))
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("ward.code"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    unit: Mapped[Unit] = relationship()

    @property
    def specificity(self) -> int:
        return 4 * bool(self.category_code) + 2 * bool(self.ward_code) + bool(self.group_code)
