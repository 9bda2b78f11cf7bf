from __future__ import annotations

import re

from flask import Response, current_app, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from werkzeug.exceptions import RequestEntityTooLarge

from api.common.fields import LocalDateTime
from api.db import db
from api.errors import ApiError
from api.identity.auth import current_citizen, current_staff
from api.photos.service import accept_photo
from api.photos.urls import photo_out

blp = Blueprint("photos", __name__, description="Photo upload (EXIF GPS read, metadata stripped)")

_MEDIA_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}_(display|thumb)\.jpg$")


class PhotoUploadIn(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


class PhotoUploadOut(Schema):
    id = fields.UUID()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    taken_at = LocalDateTime(allow_none=True)
    width = fields.Integer()
    height = fields.Integer()
    url = fields.String()
    thumb_url = fields.String()


@blp.route("/api/v1/photos", methods=["POST"])
@blp.arguments(PhotoUploadIn, location="files")
@blp.response(201, PhotoUploadOut)
@blp.alt_response(413, description="PHOTO_TOO_LARGE")
@blp.alt_response(415, description="PHOTO_UNSUPPORTED_TYPE")
@blp.alt_response(422, description="PHOTO_CORRUPT, PHOTO_TOO_MANY_PIXELS, PHOTO_EMPTY")
@blp.doc(security=[{"firebase": []}, {"device": []}])
def upload(_files):
    """Upload one photo (multipart field ``file``): JPEG, PNG, WebP or HEIC."""
    citizen = current_citizen()
    photo = accept_photo(db.session, citizen, _files["file"].read())
    db.session.commit()
    return {"id": photo.id, "lat": photo.lat, "lon": photo.lon, "taken_at": photo.taken_at,
            "width": photo.width, "height": photo.height} | photo_out(photo)


@blp.route("/api/v1/staff/photos", methods=["POST"])
@blp.arguments(PhotoUploadIn, location="files")
@blp.response(201, PhotoUploadOut)
@blp.alt_response(413, description="PHOTO_TOO_LARGE")
@blp.alt_response(415, description="PHOTO_UNSUPPORTED_TYPE")
@blp.alt_response(422, description="PHOTO_CORRUPT, PHOTO_TOO_MANY_PIXELS, PHOTO_EMPTY")
@blp.doc(security=[{"staff": []}])
def staff_upload(_files):
    """A staff photo (progress, evidence of the fix): attach it by id to an action."""
    staff = current_staff()
    photo = accept_photo(db.session, None, _files["file"].read(), staff_id=staff.id)
    db.session.commit()
    return {"id": photo.id, "lat": photo.lat, "lon": photo.lon, "taken_at": photo.taken_at,
            "width": photo.width, "height": photo.height} | photo_out(photo)


@blp.route("/media/<path:key>")
@blp.doc(security=[])
def media(key: str):
    """A stored derivative (stripped of all metadata)."""
    if not _MEDIA_KEY.match(key):
        raise ApiError(404, "NOT_FOUND", "Không tìm thấy.")
    data = current_app.extensions["photo_storage"].get(key)
    if data is None:
        raise ApiError(404, "NOT_FOUND", "Không tìm thấy.")
    response = Response(data, mimetype="image/jpeg")
    # Content-addressed: a key never changes content.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@blp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    from api.errors import render_error
    mb = current_app.config["PHOTO_MAX_BYTES"] // (1024 * 1024)
    return render_error(413, "PHOTO_TOO_LARGE", f"Ảnh quá lớn (tối đa {mb} MB).")
