from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app
from flask_smorest import Blueprint

from api.db import db
from api.identity import staff as staff_tokens
from api.identity.auth import authenticate_staff
from api.identity.schemas import LoginIn, TokenOut

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Staff sign-in")


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginIn)
@blp.response(200, TokenOut)
@blp.alt_response(401, description="INVALID_CREDENTIALS")
@blp.alt_response(429, description="RATE_LIMITED: too many failed sign-ins (Retry-After)")
@blp.doc(security=[])
def login(body):
    """Sign a staff member in; the token is short-lived (STAFF_TOKEN_TTL_SECONDS). After
    RATE_LIMIT_LOGIN_PER_15MIN failures for one e-mail from one address, 429 until the
    window slides on."""
    user = authenticate_staff(body["email"], body["password"])
    cfg = current_app.config["APP"]
    token, expires = staff_tokens.issue_token(
        cfg.SECRET_KEY, user_id=user.id, role=user.role, unit_id=user.unit_id,
        ttl_seconds=cfg.STAFF_TOKEN_TTL_SECONDS)
    user.last_login_at = datetime.now(timezone.utc)
    db.session.commit()
    return {"access_token": token, "token_type": "Bearer", "expires_at": expires,
            "role": user.role, "unit_id": user.unit_id}
