"""Liveness and readiness for load balancers and orchestrators."""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text

from api.db import db

blp = Blueprint("health", __name__, description="Liveness and readiness")


class HealthOut(Schema):
    status = fields.String(metadata={"enum": ["ok"]})


class ReadyOut(Schema):
    status = fields.String(metadata={"enum": ["ok", "unavailable"]})
    checks = fields.Dict(keys=fields.String(), values=fields.String())


@blp.route("/healthz")
@blp.response(200, HealthOut)
@blp.doc(security=[])
def healthz():
    """The process is alive (no dependency is checked)."""
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200, ReadyOut)
@blp.alt_response(503, schema=ReadyOut, description="A dependency does not answer (Retry-After)")
@blp.doc(security=[])
def readyz():
    """Ready to serve: the database and the broker answer."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return (body, 200) if ready else (body, 503, {"Retry-After": "5"})


def _check_database() -> str:
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any failure means "not ready", never a 500
        current_app.logger.warning("readiness: database: %s", exc)
        return "unavailable"


def _check_broker() -> str:
    url = current_app.config.get("CELERY_BROKER_URL") or current_app.config.get("REDIS_URL")
    if not url:
        return "not_configured"
    try:
        from kombu import Connection
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:
        current_app.logger.warning("readiness: broker: %s", exc)
        return "unavailable"
