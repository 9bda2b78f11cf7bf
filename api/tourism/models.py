"""Tourism: places to visit, festivals and local food, in Vietnamese and English.

Every row keeps folded copies of its names (``search_names``) and of its other
text (``search_text``), written by the loaders and the admin service with
``api.text.fold``; trigram GIN indexes on them make search diacritic-blind and
typo-tolerant. ``unverified`` names the fields an administrator still has to check.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (Boolean, CheckConstraint, DateTime, Float, ForeignKey, Index, Integer,
                        SmallInteger, String, Text, func, text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db import Base
from api.reference.models import Ward

PLACE_KINDS = ("pagoda", "temple", "communal_house", "church", "museum", "historic_site",
               "craft_village", "park_nature", "market", "restaurant", "cafe",
               "hotel_homestay", "shopping", "other")
CALENDARS = ("solar", "lunar")
# The document that word search looks in; queries must use this very expression.
# Written as Alembic reflects it back, so that the schema comparison sees no change.
SEARCH_WORDS = "to_tsvector('simple'::regconfig, (search_names || ' '::text) || search_text)"


def _trgm(name: str, column: str) -> Index:
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


class Place(Base):
    __tablename__ = "place"
    __table_args__ = (
        CheckConstraint(f"kind IN {PLACE_KINDS}", name="place_kind"),
        CheckConstraint("rating IS NULL OR (rating >= 0 AND rating <= 5)", name="place_rating"),
        Index("ix_place_earth", text("ll_to_earth(lat, lon)"), postgresql_using="gist"),
        Index("ix_place_kind", "kind"),
        _trgm("ix_place_search_names", "search_names"),
        # Every word of the query somewhere in the names or the text ('simple': no stemming).
        Index("ix_place_search_words", text(SEARCH_WORDS), postgresql_using="gin"),
        # GiST serves "nearest names first" (ORDER BY q <<-> search_names LIMIT n) for typos.
        Index("ix_place_search_names_gist", "search_names", postgresql_using="gist",
              postgresql_ops={"search_names": "gist_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable key of a seeded place, so that the seed can be loaded again as an upsert.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    description_vi: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    address_vi: Mapped[str | None] = mapped_column(String(300))
    address_en: Mapped[str | None] = mapped_column(String(300))
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("ward.code"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    # {"weekly": {"mon": [["07:00", "11:30"], …], …}, "exceptions": [{"date", "until", "closed",
    #  "hours", "note_vi", "note_en"}], "note_vi", "note_en"} — see api/tourism/hours.py.
    opening_hours: Mapped[dict | None] = mapped_column(JSONB)
    # [{"label_vi", "label_en", "price_vnd"}]; price_vnd 0 = free.
    tickets: Mapped[list[dict]] = mapped_column(JSONB, default=list)
    phone: Mapped[str | None] = mapped_column(String(40))
    website: Mapped[str | None] = mapped_column(String(300))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    rating: Mapped[float | None] = mapped_column(Float)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    unverified: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    search_names: Mapped[str] = mapped_column(Text, default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now())

    ward: Mapped[Ward | None] = relationship(lazy="joined")
    photos: Mapped[list["PlacePhoto"]] = relationship(
        order_by="PlacePhoto.position", cascade="all, delete-orphan")


class PlacePhoto(Base):
    """A place's photos, in display order, stored through the photo pipeline."""

    __tablename__ = "place_photo"

    place_id: Mapped[int] = mapped_column(ForeignKey("place.id", ondelete="CASCADE"),
                                          primary_key=True)
    photo_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("photo.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    photo = relationship("Photo", lazy="joined")


class TourismEvent(Base):
    """A festival or event, on a solar or a lunar date, every year or in one year only."""

    __tablename__ = "tourism_event"
    __table_args__ = (
        CheckConstraint(f"calendar IN {CALENDARS}", name="tourism_event_calendar"),
        CheckConstraint("month BETWEEN 1 AND 12 AND day BETWEEN 1 AND 31",
                        name="tourism_event_month_day"),
        CheckConstraint("duration_days BETWEEN 1 AND 60", name="tourism_event_duration"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description_vi: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    calendar: Mapped[str] = mapped_column(String(10))
    month: Mapped[int] = mapped_column(SmallInteger)
    day: Mapped[int] = mapped_column(SmallInteger)
    leap_month: Mapped[bool] = mapped_column(Boolean, default=False)
    # The main day is (month, day); the festival may start earlier and last longer.
    starts_before_days: Mapped[int] = mapped_column(SmallInteger, default=0)
    duration_days: Mapped[int] = mapped_column(SmallInteger, default=1)
    # None: every year; else only in that (solar) year.
    year: Mapped[int | None] = mapped_column(SmallInteger)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("place.id", ondelete="SET NULL"))
    venue_vi: Mapped[str | None] = mapped_column(String(300))
    venue_en: Mapped[str | None] = mapped_column(String(300))
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("ward.code"))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    unverified: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now())

    place: Mapped[Place | None] = relationship()
    ward: Mapped[Ward | None] = relationship(lazy="joined")


class Food(Base):
    """A local specialty and where to find it."""

    __tablename__ = "food"
    __table_args__ = (_trgm("ix_food_search_names", "search_names"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    description_vi: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    where_vi: Mapped[str | None] = mapped_column(Text)
    where_en: Mapped[str | None] = mapped_column(Text)
    season_vi: Mapped[str | None] = mapped_column(String(200))
    season_en: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    unverified: Mapped[list[str]] = mapped_column(ARRAY(String), default=list)
    search_names: Mapped[str] = mapped_column(Text, default="")
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    places: Mapped[list[Place]] = relationship(secondary="food_place", order_by="Place.id")


class FoodPlace(Base):
    __tablename__ = "food_place"

    food_id: Mapped[int] = mapped_column(ForeignKey("food.id", ondelete="CASCADE"),
                                         primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("place.id", ondelete="CASCADE"),
                                          primary_key=True, index=True)
