"""Refuse NUL characters in request input before any view sees them.

PostgreSQL cannot store U+0000 in text or JSONB: psycopg2 raises ``ValueError`` and the
caller would get a 500 (found by the schemathesis run on ``POST /api/v1/me/devices``). No
field of this API has a use for it, so a NUL in the query string, a path segment, a form
field or anywhere in a JSON body (keys included) is a 422 VALIDATION_ERROR naming the
field; under ``/open311`` it is GeoReport v2's 400. Uploaded files are not looked at.
"""
from __future__ import annotations

from flask import Flask, request

from api.errors import ApiError

NUL = "\x00"
MESSAGE = "must not contain NUL (U+0000) characters"


def _walk(value, path: str, found: list[str]) -> None:
    if isinstance(value, str):
        if NUL in value:
            found.append(path or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                found.append(name)
            _walk(item, name, found)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _walk(item, f"{path}.{n}" if path else str(n), found)


def fields_with_nul() -> list[str]:
    found: list[str] = []
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and NUL in value:
            found.append(name)
    pairs = list(request.args.lists())
    if request.is_json:
        _walk(request.get_json(silent=True), "", found)
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        pairs += list(request.form.lists())
    for key, values in pairs:
        if _has_nul(key) or any(_has_nul(v) for v in values):
            found.append(str(key))
    return [f.replace(NUL, "\\x00") for f in found]


def _has_nul(value) -> bool:
    return isinstance(value, str) and NUL in value


def reject_nul():
    found = fields_with_nul()
    if not found:
        return None
    if request.path.startswith("/open311/"):
        from api.open311.formats import Open311Error, render_error
        fmt = "xml" if request.path.endswith(".xml") else "json"
        return render_error(fmt, Open311Error(400, "VALIDATION_ERROR", "Invalid request.",
                                              details=[f"{f}: {MESSAGE}" for f in found]))
    raise ApiError(422, "VALIDATION_ERROR", "Dữ liệu không hợp lệ.", {f: [MESSAGE] for f in found})


def install_input_guard(app: Flask) -> None:
    app.before_request(reject_nul)
