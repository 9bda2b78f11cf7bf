"""Accept an uploaded photo: process it, store stripped derivatives, record it."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.identity.models import Citizen
from api.photos.models import Photo
from api.photos.pipeline import PhotoRejected, process_photo
from api.photos.urls import photo_keys

_STATUS = {"PHOTO_UNSUPPORTED_TYPE": 415, "PHOTO_CORRUPT": 422, "PHOTO_TOO_MANY_PIXELS": 422}
_MESSAGES = {
    "PHOTO_UNSUPPORTED_TYPE": "Chỉ nhận ảnh JPEG, PNG, WebP hoặc HEIC.",
    "PHOTO_CORRUPT": "Ảnh bị lỗi hoặc tải lên chưa hết, vui lòng chụp/gửi lại.",
    "PHOTO_TOO_MANY_PIXELS": "Ảnh có kích thước điểm ảnh quá lớn.",
}


def accept_photo(session: Session, citizen: Citizen | None, data: bytes, *,
                 staff_id: int | None = None) -> Photo:
    """Process and store an upload by a citizen, or (``citizen=None``) by a staff member."""
    cfg = current_app.config
    if not data:
        raise ApiError(422, "PHOTO_EMPTY", "Tệp ảnh rỗng.", {"file": ["empty file"]})
    if len(data) > cfg["PHOTO_MAX_BYTES"]:
        raise ApiError(413, "PHOTO_TOO_LARGE",
                       f"Ảnh quá lớn (tối đa {cfg['PHOTO_MAX_BYTES'] // (1024 * 1024)} MB).")
    try:
        processed = process_photo(data, max_pixels=cfg["PHOTO_MAX_PIXELS"])
    except PhotoRejected as exc:
        raise ApiError(_STATUS.get(exc.code, 422), exc.code, _MESSAGES.get(exc.code, exc.message),
                       {"file": [exc.message]})

    # A retried upload of the same bytes by the same person is the same photo.
    owner = (Photo.citizen_id == citizen.id) if citizen is not None else (
        Photo.staff_id == staff_id)
    existing = session.scalar(select(Photo).where(owner, Photo.sha256 == processed.sha256,
                                                  Photo.event_id.is_(None))
                              .order_by(Photo.created_at.desc()).limit(1))
    if existing is not None:
        return existing
    display_key, thumb_key = photo_keys(processed.sha256)
    storage = current_app.extensions["photo_storage"]
    storage.put(display_key, processed.display, "image/jpeg")
    storage.put(thumb_key, processed.thumb, "image/jpeg")
    session.execute(insert(Photo).values(
        citizen_id=citizen.id if citizen is not None else None, staff_id=staff_id,
        sha256=processed.sha256, source_type=processed.source_type,
        width=processed.width, height=processed.height, lat=processed.lat, lon=processed.lon,
        taken_at=processed.taken_at, display_key=display_key, thumb_key=thumb_key,
    ).on_conflict_do_nothing(constraint="uq_photo_owner_content"))
    return session.scalar(select(Photo).where(owner, Photo.sha256 == processed.sha256)
                          .order_by(Photo.created_at.desc()).limit(1))
