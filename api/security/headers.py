"""Security headers on every response.

Set only when the view did not set them itself: the IOC wall (``/ioc``) and the staff
console send their own Content-Security-Policy, which wins.

HTML without a policy gets a strict default: our own origin only, no plugins, no
framing. Inline ``<script>``/``<style>`` blocks of that HTML (the Swagger UI page at
``/docs`` has one) are allowed by their SHA-256 hash, so ``'unsafe-inline'`` is never
needed.
"""
from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, current_app

REFERRER_POLICY = "no-referrer"
HSTS = "max-age=31536000; includeSubDomains"
_INLINE = {
    "script": re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.S | re.I),
    "style": re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.S | re.I),
}


def _hashes(html: str, tag: str) -> str:
    found = {"'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
             for body in _INLINE[tag].findall(html)}
    return "".join(" " + h for h in sorted(found))


def content_security_policy(html: str | None = None) -> str:
    """The default policy for an HTML page (its inline blocks allowed by hash)."""
    scripts = _hashes(html, "script") if html else ""
    styles = _hashes(html, "style") if html else ""
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self'{scripts}",
        f"style-src 'self'{styles}",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def apply(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["APP"].APP_ENV == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    if response.mimetype == "text/html" and "Content-Security-Policy" not in headers:
        html = None
        if not response.is_streamed and not response.direct_passthrough:
            html = response.get_data(as_text=True)
        headers["Content-Security-Policy"] = content_security_policy(html)
    return response


def install_security_headers(app: Flask) -> None:
    app.after_request(apply)
