"""Every model, imported once so that Alembic and the app see the whole schema."""
from api.db import Base  # noqa: F401
from api.identity.models import Citizen, StaffUser  # noqa: F401
from api.photos.models import Photo  # noqa: F401
from api.reference.models import Category, CategoryGroup, Province, Unit, Ward  # noqa: F401
from api.reports.models import (IdempotencyKey, OutboxMessage, Report, ReportEvent,  # noqa: F401
                                ReportFollower)
from api.routing.models import RoutingRule  # noqa: F401
from api.sla.models import CalendarException, SlaClock, SlaPolicyVersion  # noqa: F401
from api.open311.models import Open311ApiKey  # noqa: F401
from api.notify.models import Device, Notification, PushDelivery  # noqa: F401
from api.ioc.models import IocEvent, ReportRating, WebhookDelivery, WebhookSubscription  # noqa: F401
from api.privacy.models import AuditLog  # noqa: F401
from api.tourism.models import Food, FoodPlace, Place, PlacePhoto, TourismEvent  # noqa: F401
from api.chat.models import ChatHandoff  # noqa: F401
