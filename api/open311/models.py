"""API keys of Open311 partners (other city systems, integrators, the 1022 hotline)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base


class Open311ApiKey(Base):
    """Only the sha256 of a key is stored: a leaked table does not leak working keys."""

    __tablename__ = "open311_api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=60)
    # What the key may call: "open311" (GeoReport v2) and/or "ioc" (the IOC pull API and stream).
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=lambda: ["open311"],
                                              server_default=text("'{open311}'"))
