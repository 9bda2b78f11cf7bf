"""The staff web console (``/console``): officers, unit heads and IOC dispatchers work
their queue and act on reports from a desk browser.

Server-rendered pages (Jinja2) over the same service functions as the staff API
(``api.reports.staff_queries`` and ``api.reports.actions``); the sign-in lives in
Flask's signed session cookie, every POST carries a per-session CSRF token, and every
asset is served from here (no CDN, no web fonts, no map tiles).
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static")

# Defaults an operator may override in the Flask config.
IDLE_SECONDS = 30 * 60          # signed out after this long without a request
MAX_SESSION_SECONDS = 12 * 3600  # and after a working day whatever happens
PAGE_SIZE = 25


@bp.record_once
def _configure(state) -> None:
    """The session cookie carries the console sign-in and nothing else: keep it to the
    console's path, away from scripts (HttpOnly), off cross-site requests (SameSite=Lax)
    and, in production, off plain HTTP (Secure)."""
    cfg = state.app.config
    cfg.setdefault("CONSOLE_IDLE_SECONDS", IDLE_SECONDS)
    cfg.setdefault("CONSOLE_MAX_SESSION_SECONDS", MAX_SESSION_SECONDS)
    if cfg.get("SESSION_COOKIE_NAME") in (None, "session"):
        cfg["SESSION_COOKIE_NAME"] = "ioc_console"
    if cfg.get("SESSION_COOKIE_PATH") is None:
        root = (cfg.get("APPLICATION_ROOT") or "/").rstrip("/")
        cfg["SESSION_COOKIE_PATH"] = f"{root}/console"
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    if cfg.get("SESSION_COOKIE_SAMESITE") is None:
        cfg["SESSION_COOKIE_SAMESITE"] = "Lax"
    if cfg.get("APP_ENV") == "production":
        cfg["SESSION_COOKIE_SECURE"] = True


from api.console import security, views  # noqa: E402,F401  (routes and guards)
