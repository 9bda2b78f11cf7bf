"""Tourism API: public reads (places, festivals, food) and admin writes."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import g
from flask_smorest import Blueprint

from api.common.fields import LOCAL_TZ
from api.db import db
from api.errors import ApiError
from api.identity.auth import staff_required
from api.photos.urls import photo_out
from api.tourism import editing, schemas, service
from api.tourism.models import Place, TourismEvent

blp = Blueprint("tourism", __name__, url_prefix="/api/v1",
                description="Tourism: places, festivals and local food (vi/en)")
admin_blp = Blueprint("tourism_admin", __name__, url_prefix="/api/v1/admin",
                      description="Tourism administration (admin role)")
STAFF_AUTH = [{"staff": []}]


@blp.route("/places")
@blp.arguments(schemas.PlaceListArgs, location="query")
@blp.response(200, schemas.PlacePageOut)
@blp.alt_response(400, description="INVALID_PARAMETER (near, kind)")
@blp.doc(security=[])
def list_places(args):
    """Search places: diacritics and case ignored, small typos tolerated, names ranked first;
    filter by kind, tag, distance (``near`` + ``radius``, nearest first) and opening."""
    return service.list_places(db.session, args)


@blp.route("/places/<int:place_id>")
@blp.arguments(schemas.PlaceDetailArgs, location="query")
@blp.response(200, schemas.PlaceOut)
@blp.alt_response(404, description="PLACE_NOT_FOUND")
@blp.doc(security=[])
def get_place(args, place_id: int):
    """One place: description, opening hours (open now, opens at), tickets, photos, festivals."""
    return service.place_detail(db.session, place_id, args)


@blp.route("/events")
@blp.arguments(schemas.EventArgs, location="query")
@blp.response(200, schemas.TourismEventPageOut)
@blp.alt_response(422, description="INVALID_DATE_RANGE")
@blp.doc(security=[])
def list_events(args):
    """Festivals and events between ``from`` and ``to`` (default: the next 365 days), lunar
    dates resolved to solar dates with the Vietnamese calendar (UTC+7)."""
    return service.list_events(db.session, args)


@blp.route("/food")
@blp.arguments(schemas.FoodArgs, location="query")
@blp.response(200, schemas.FoodListOut)
@blp.doc(security=[])
def list_food(args):
    """Local specialties and where to find them."""
    return service.list_food(db.session, args)


# --- admin ------------------------------------------------------------------------------------

def _place_or_404(place_id: int) -> Place:
    place = db.session.get(Place, place_id)
    if place is None:
        raise ApiError(404, "PLACE_NOT_FOUND", "Không tìm thấy địa điểm.")
    return place


def _place_admin(place: Place) -> Place:
    place.photos_out = [photo_out(pp.photo) for pp in place.photos]
    return place


@admin_blp.route("/places", methods=["POST"])
@staff_required("admin")
@admin_blp.arguments(schemas.PlaceIn)
@admin_blp.response(201, schemas.PlaceAdminOut)
@admin_blp.alt_response(409, description="ALREADY_EXISTS (slug)")
@admin_blp.alt_response(422, description="VALIDATION_ERROR, UNKNOWN_REFERENCE")
@admin_blp.doc(security=STAFF_AUTH)
def create_place(body):
    """Add a place. The ward comes from the coordinates unless ``ward_code`` is given."""
    place = editing.save_place(db.session, body)
    db.session.commit()
    return _place_admin(place)


@admin_blp.route("/places/<int:place_id>", methods=["GET"])
@staff_required("admin")
@admin_blp.response(200, schemas.PlaceAdminOut)
@admin_blp.alt_response(404, description="PLACE_NOT_FOUND")
@admin_blp.doc(security=STAFF_AUTH)
def get_place_admin(place_id: int):
    """A place with both languages and the list of fields still unverified."""
    return _place_admin(_place_or_404(place_id))


@admin_blp.route("/places/<int:place_id>", methods=["PATCH"])
@staff_required("admin")
@admin_blp.arguments(schemas.PlacePatch)
@admin_blp.response(200, schemas.PlaceAdminOut)
@admin_blp.alt_response(404, description="PLACE_NOT_FOUND")
@admin_blp.alt_response(409, description="ALREADY_EXISTS (slug)")
@admin_blp.alt_response(422, description="VALIDATION_ERROR, UNKNOWN_REFERENCE")
@admin_blp.doc(security=STAFF_AUTH)
def update_place(body, place_id: int):
    """Correct a place: only the fields sent change, and they count as verified."""
    place = editing.save_place(db.session, body, _place_or_404(place_id))
    db.session.commit()
    return _place_admin(place)


@admin_blp.route("/places/<int:place_id>/photos", methods=["POST"])
@staff_required("admin")
@admin_blp.arguments(schemas.PlacePhotoUploadIn, location="files")
@admin_blp.response(201, schemas.PlacePhotoOut)
@admin_blp.alt_response(404, description="PLACE_NOT_FOUND")
@admin_blp.alt_response(413, description="PHOTO_TOO_LARGE")
@admin_blp.alt_response(415, description="PHOTO_UNSUPPORTED_TYPE")
@admin_blp.alt_response(422, description="PHOTO_CORRUPT, PHOTO_TOO_MANY_PIXELS, PHOTO_EMPTY")
@admin_blp.doc(security=STAFF_AUTH)
def add_place_photo(files, place_id: int):
    """Upload a photo of the place (multipart ``file``); it is added last."""
    place = _place_or_404(place_id)
    photo = editing.add_place_photo(db.session, place, files["file"].read(), g.staff.id)
    db.session.commit()
    return photo_out(photo)


@admin_blp.route("/places/<int:place_id>/photos/<uuid:photo_id>", methods=["DELETE"])
@staff_required("admin")
@admin_blp.response(204)
@admin_blp.alt_response(404, description="PLACE_NOT_FOUND, PLACE_PHOTO_NOT_FOUND")
@admin_blp.doc(security=STAFF_AUTH)
def remove_place_photo(place_id: int, photo_id: uuid.UUID):
    """Take a photo off the place (the stored photo stays)."""
    editing.remove_place_photo(db.session, _place_or_404(place_id), photo_id)
    db.session.commit()


def _event_or_404(event_id: int) -> TourismEvent:
    event = db.session.get(TourismEvent, event_id)
    if event is None:
        raise ApiError(404, "EVENT_NOT_FOUND", "Không tìm thấy sự kiện.")
    return event


def _event_admin(event: TourismEvent) -> TourismEvent:
    today = datetime.now(LOCAL_TZ).date()
    event.next = service.occurrences_of(event, today, today + timedelta(days=3 * 365))
    return event


@admin_blp.route("/events", methods=["POST"])
@staff_required("admin")
@admin_blp.arguments(schemas.EventIn)
@admin_blp.response(201, schemas.EventAdminOut)
@admin_blp.alt_response(409, description="ALREADY_EXISTS (slug)")
@admin_blp.alt_response(422, description="VALIDATION_ERROR, UNKNOWN_REFERENCE")
@admin_blp.doc(security=STAFF_AUTH)
def create_event(body):
    """Add a festival or event on a solar or lunar date, yearly or in one year."""
    event = editing.save_event(db.session, body)
    db.session.commit()
    return _event_admin(event)


@admin_blp.route("/events/<int:event_id>", methods=["GET"])
@staff_required("admin")
@admin_blp.response(200, schemas.EventAdminOut)
@admin_blp.alt_response(404, description="EVENT_NOT_FOUND")
@admin_blp.doc(security=STAFF_AUTH)
def get_event_admin(event_id: int):
    """An event with both languages, its next dates and its unverified fields."""
    return _event_admin(_event_or_404(event_id))


@admin_blp.route("/events/<int:event_id>", methods=["PATCH"])
@staff_required("admin")
@admin_blp.arguments(schemas.EventPatch)
@admin_blp.response(200, schemas.EventAdminOut)
@admin_blp.alt_response(404, description="EVENT_NOT_FOUND")
@admin_blp.alt_response(409, description="ALREADY_EXISTS (slug)")
@admin_blp.alt_response(422, description="VALIDATION_ERROR, UNKNOWN_REFERENCE")
@admin_blp.doc(security=STAFF_AUTH)
def update_event(body, event_id: int):
    """Correct an event: only the fields sent change, and they count as verified."""
    event = editing.save_event(db.session, body, _event_or_404(event_id))
    db.session.commit()
    return _event_admin(event)
