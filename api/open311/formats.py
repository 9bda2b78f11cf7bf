"""The two Open311 wire formats: JSON (arrays, objects) and XML (one element per field).

XML follows the GeoReport v2 examples: a list field holds one child per item,
named by the singular (``<attributes><attribute>…``), booleans read
``true``/``false`` and a missing value is an empty element.
"""
from __future__ import annotations

import json
from datetime import datetime
from xml.etree import ElementTree as ET

from flask import Response

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}

# Plural field → element name of each item.
SINGULAR = {
    "services": "service", "service_requests": "request", "attributes": "attribute",
    "values": "value", "errors": "error", "endpoints": "endpoint", "formats": "format",
    "photos": "photo", "notes": "note", "extensions": "extension",
    "service_request_updates": "request_update", "keywords": "keyword",
}


class Open311Error(Exception):
    """One failure in the spec's shape. ``code`` is the HTTP status, as in the spec's examples;
    ``description`` starts with our stable machine code (docs/open311.md)."""

    def __init__(self, status: int, machine_code: str, description: str,
                 headers: dict | None = None, details: list[str] | None = None):
        super().__init__(description)
        self.status = status
        self.machine_code = machine_code
        self.description = description
        self.headers = headers or {}
        self.details = details or []

    def items(self) -> list[dict]:
        """One entry per problem, so a client can show each field's message."""
        lines = [f"{self.description} ({d})" for d in self.details] or [self.description]
        return [{"code": self.status, "description": f"{self.machine_code}: {line}"}
                for line in lines]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _append(parent: ET.Element, name: str, value) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list):
        child = SINGULAR.get(name, "item")
        for item in value:
            _append(element, child, item)
    else:
        element.text = _text(value)


def to_xml(root: str, value) -> bytes:
    """``value`` is a list (one child per item) or a dict (one child per field)."""
    element = ET.Element(root)
    if isinstance(value, list):
        child = SINGULAR.get(root, "item")
        for item in value:
            _append(element, child, item)
    else:
        for key, item in value.items():
            _append(element, key, item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="utf-8")


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def render(fmt: str, root: str, value, status: int = 200, headers: dict | None = None) -> Response:
    if fmt == "xml":
        body = to_xml(root, value)
    else:
        body = json.dumps(value, ensure_ascii=False, default=_json_default).encode()
    response = Response(body, status=status, content_type=FORMATS.get(fmt, FORMATS["json"]))
    for name, item in (headers or {}).items():
        response.headers[name] = item
    return response


def render_error(fmt: str, error: Open311Error) -> Response:
    return render(fmt if fmt in FORMATS else "json", "errors", error.items(), error.status,
                  error.headers)
