"""The IOC wall: one HTML page for the operations centre's big screen (``/ioc``).

The page itself holds no report data and needs no sign-in: its script asks the staff
member for a password (or the kiosk for an API key) and then reads the IOC JSON APIs
and the live stream with those credentials. Every asset is served from here, so the
wall keeps working on a network without internet access (no CDN, no web fonts, no
tile server: the map is drawn from ward centroids, see :func:`wards`).
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from sqlalchemy import select

from api.db import db

bp = Blueprint("ioc_wall", __name__, url_prefix="/ioc", template_folder="templates",
               static_folder="static")

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Versioned asset URLs (?v=<content hash>) may be kept for a year; bare ones for an hour.
VERSIONED_MAX_AGE = 365 * 24 * 3600
PLAIN_MAX_AGE = 3600
WARDS_MAX_AGE = 6 * 3600

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
))


@lru_cache(maxsize=16)
def _fingerprint(filename: str, mtime_ns: int) -> str:
    return hashlib.sha256((STATIC_DIR / filename).read_bytes()).hexdigest()[:12]


def asset_url(filename: str) -> str:
    """The static URL with a content hash, so a long cache never serves a stale script."""
    path = STATIC_DIR / filename
    return url_for("ioc_wall.static", filename=filename,
                   v=_fingerprint(filename, path.stat().st_mtime_ns))


@bp.get("")
@bp.get("/")
def wall():
    """The wall page (no data in it: the script fetches everything with credentials)."""
    root = request.script_root
    html = render_template(
        "ioc/wall.html", css_url=asset_url("wall.css"), js_url=asset_url("wall.js"),
        api_base=f"{root}/api/v1", wards_url=url_for("ioc_wall.wards"))
    response = current_app.response_class(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    return response


@bp.get("/wards.json")
def wards():
    """The province's communes and wards with their centroids: the map's base layer.

    Public reference data (names and points of administrative units), like the
    category list; cached by browsers and revalidated with an ETag.
    """
    from api.reference.models import Province, Ward
    province_code = current_app.config["APP"].PROVINCE_CODE
    province = db.session.get(Province, province_code)
    rows = db.session.execute(
        select(Ward.code, Ward.name, Ward.kind, Ward.lat, Ward.lon)
        .where(Ward.province_code == province_code).order_by(Ward.code)).all()
    body = {
        "province": ({"code": province.code, "name": province.name, "lat": province.lat,
                      "lon": province.lon} if province is not None else None),
        "wards": [{"code": r.code, "name": r.name, "kind": r.kind, "lat": r.lat, "lon": r.lon}
                  for r in rows if r.lat is not None and r.lon is not None],
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = f"public, max-age={WARDS_MAX_AGE}"
    response.add_etag()
    return response.make_conditional(request)


@bp.after_request
def _headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.endpoint == "ioc_wall.static" and response.status_code in (200, 304):
        versioned = "v" in request.args
        age = VERSIONED_MAX_AGE if versioned else PLAIN_MAX_AGE
        response.headers["Cache-Control"] = (
            f"public, max-age={age}" + (", immutable" if versioned else ""))
    return response
