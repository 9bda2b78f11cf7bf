"""The citizen reporting API: app factory."""
from __future__ import annotations

from flask import Flask

from api.config import Config


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config.update(config.as_flask())
    app.config.update(
        API_TITLE="IOC phản ánh hiện trường API",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",  # served by us: no CDN
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=config.PHOTO_MAX_BYTES + 64 * 1024,
        API_SPEC_OPTIONS={
            "info": {"description": "Phản ánh hiện trường: citizen reports, photos, categories."},
            "components": {"securitySchemes": {
                "firebase": {"type": "http", "scheme": "bearer", "bearerFormat": "Firebase ID token"},
                "staff": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "device": {"type": "apiKey", "in": "header", "name": "X-Device-Id"},
                "ioc_key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            }},
        },
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.config["APP"] = config

    from api.logs import configure_logging, install_request_logging
    configure_logging(config.LOG_LEVEL, config.LOG_JSON)
    install_request_logging(app)
    from api.metrics import install_metrics
    install_metrics(app)  # Prometheus: request counts and latency, GET /metrics

    from scripts.services import database_url
    from api.db import db
    db.init_app(app, config.DATABASE_URL or database_url(), config.DATABASE_READ_URL)

    from api.common.redis import init_redis
    from api.reports.cache import install_invalidation
    init_redis(app, config.REDIS_URL or config.CELERY_BROKER_URL)
    install_invalidation(db.Session, app.extensions["redis"])
    from api.reports.publish import install_fast_path
    install_fast_path(db.Session)

    from api.common.queue import init_sender
    init_sender(app, config.CELERY_BROKER_URL)

    from flask_smorest import Api
    from api.errors import register_error_handlers
    from api.errors import ErrorEnvelope

    class EnvelopeApi(Api):
        ERROR_SCHEMA = ErrorEnvelope  # the documented error shape is our envelope

    api = EnvelopeApi(app)
    register_error_handlers(app)
    from api.security import install as install_security
    install_security(app)
    _register_blueprints(api)
    from api.open311.resources import blp as open311
    app.register_blueprint(open311)  # its own contract (docs/open311.md), not in openapi.json
    from api.ioc.wall import bp as ioc_wall
    app.register_blueprint(ioc_wall)  # the IOC wall page (HTML), not in openapi.json
    from api.console import bp as console
    app.register_blueprint(console)  # the staff console (HTML), not in openapi.json

    from api.photos.storage import storage_from_url
    app.extensions["photo_storage"] = storage_from_url(config.photo_storage_url)

    from swagger_ui_bundle import swagger_ui_path
    from flask import send_from_directory

    @app.get("/docs/assets/<path:filename>")
    def swagger_assets(filename: str):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)

    from api.cli import register_cli
    register_cli(app)
    _warm_up()
    return app


def _warm_up() -> None:
    """Pay first-use costs at start, not on a citizen's request: the holidays package
    loads its tables (~70 ms) on the first lookup of a year."""
    from datetime import date
    from api.sla.calendar import BusinessCalendar
    calendar = BusinessCalendar()
    for year in (date.today().year, date.today().year + 1):
        calendar.holidays_in(year)


def _register_blueprints(api) -> None:
    from api.admin.resources import blp as admin
    from api.admin.directory import blp as admin_directory
    from api.chat.resources import blp as chat, staff_blp as chat_handoffs
    from api.exports.resources import blp as exports
    from api.health import blp as health
    from api.identity.resources import blp as auth
    from api.open311.admin import blp as open311_admin
    from api.photos.resources import blp as photos
    from api.reference.resources import blp as categories
    from api.reports.resources import blp as reports, me_blp
    from api.reports.staff import blp as staff_reports
    from api.notify.resources import blp as me_notifications
    from api.ioc.resources import blp as ioc
    from api.ioc.admin import blp as ioc_webhooks
    from api.ioc.kpis import blp as ioc_kpis
    from api.privacy.resources import audit_blp as audit_log, me_data_blp as me_data
    from api.tourism.resources import admin_blp as tourism_admin, blp as tourism
    for blueprint in (admin_directory, health, auth, categories, photos, reports, me_blp,
                      me_notifications,
                      staff_reports, admin, open311_admin, exports, ioc, ioc_webhooks, ioc_kpis,
                      me_data, audit_log, tourism, tourism_admin, chat, chat_handoffs):
        api.register_blueprint(blueprint)
