"""Reference data: administrative units, the category taxonomy, responsible units."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, CheckConstraint, DateTime, Float, ForeignKey, Index,
                        Integer, String, Text, func, text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base

SLA_CLASSES = ("urgent", "fix_now", "normal", "complex")
HANDLING_LEVELS = ("ward", "province")
UNIT_KINDS = ("department", "police", "ioc", "utility", "ward")


class Province(Base):
    __tablename__ = "province"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_short: Mapped[str] = mapped_column(String(100))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class Ward(Base):
    """A commune, ward or special zone (xã, phường, đặc khu) since 1 July 2025."""

    __tablename__ = "ward"
    __table_args__ = (
        Index("ix_ward_earth", text("ll_to_earth(lat, lon)"), postgresql_using="gist"),
        Index("ix_ward_province", "province_code"),
    )

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("province.code"))
    name: Mapped[str] = mapped_column(String(120))
    name_short: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    name_folded: Mapped[str] = mapped_column(String(120))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    area_km2: Mapped[float | None] = mapped_column(Float)
    # GeoJSON (Multi)Polygon, loaded by an administrator when the province has them.
    boundary: Mapped[dict | None] = mapped_column(JSONB)

    province: Mapped[Province] = relationship()


class CategoryGroup(Base):
    __tablename__ = "category_group"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    icon: Mapped[str | None] = mapped_column(String(40))
    sort: Mapped[int] = mapped_column(Integer, default=0)

    categories: Mapped[list["Category"]] = relationship(
        back_populates="group", order_by="Category.sort")


class Unit(Base):
    """A body that handles reports: a provincial department, the police, a ward UBND, the IOC."""

    __tablename__ = "unit"
    __table_args__ = (CheckConstraint(f"kind IN {UNIT_KINDS}", name="unit_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    short_vi: Mapped[str | None] = mapped_column(String(120))
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("ward.code"), index=True)
    handles: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Category(Base):
    __tablename__ = "category"
    __table_args__ = (
        CheckConstraint(f"sla_class IN {SLA_CLASSES}", name="category_sla_class"),
        CheckConstraint(f"default_level IN {HANDLING_LEVELS}", name="category_default_level"),
    )

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    group_code: Mapped[str] = mapped_column(ForeignKey("category_group.code"))
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_vi: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    keywords_folded: Mapped[str] = mapped_column(Text, default="")
    sla_class: Mapped[str] = mapped_column(String(20))
    default_level: Mapped[str] = mapped_column(String(20))
    default_unit_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"))
    photo_required: Mapped[bool] = mapped_column(Boolean, default=True)
    anonymous_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    open311_keywords: Mapped[str | None] = mapped_column(String(300))
    # Extra questions as Open311 attributes: [{code, datatype, required, order, values…}].
    attributes: Mapped[list[dict]] = mapped_column(JSONB, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now())

    group: Mapped[CategoryGroup] = relationship(back_populates="categories")
