"""Public URLs of stored photo derivatives (never the original: it is not kept)."""
from __future__ import annotations

from flask import current_app


def media_url(key: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/media/{key}"


def photo_keys(sha256: str) -> tuple[str, str]:
    base = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
    return f"{base}_display.jpg", f"{base}_thumb.jpg"


def photo_out(photo) -> dict:
    return {"id": photo.id, "url": media_url(photo.display_key),
            "thumb_url": media_url(photo.thumb_key), "width": photo.width, "height": photo.height}
