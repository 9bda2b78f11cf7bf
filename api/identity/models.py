"""Who acts: citizens (Firebase or an anonymous device) and staff accounts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base
from api.reference.models import Unit

STAFF_ROLES = ("officer", "unit_head", "dispatcher", "admin")


class Citizen(Base):
    """One person or device that reports. ``principal`` is ``fb:<uid>`` or ``dev:<device id>``."""

    __tablename__ = "citizen"

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(200), unique=True)
    firebase_uid: Mapped[str | None] = mapped_column(String(128))
    # Personal data: visible to IOC dispatchers only (DESIGN §10).
    phone: Mapped[str | None] = mapped_column(String(32))
    display_name: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    @property
    def is_anonymous(self) -> bool:
        return self.principal.startswith("dev:")


class StaffUser(Base):
    __tablename__ = "staff_user"
    __table_args__ = (
        CheckConstraint(f"role IN {STAFF_ROLES}", name="staff_role"),
        CheckConstraint("role IN ('dispatcher', 'admin') OR unit_id IS NOT NULL",
                        name="staff_unit_scoped"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)  # stored lowercase
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    unit: Mapped[Unit | None] = relationship()
