"""One error envelope everywhere: ``{code, status, message, errors}``.

``code`` is a stable machine code listed in ``mobile_contracts/errors.md``;
``message`` is for people (Vietnamese first, the app may show it);
``errors`` holds per-field details when there are any.
"""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

# Codes for plain HTTP failures that are not raised by our own services.
HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    428: "PRECONDITION_REQUIRED",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}

HTTP_MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    401: "Cần đăng nhập.",
    403: "Bạn không có quyền thực hiện thao tác này.",
    404: "Không tìm thấy.",
    405: "Phương thức không được hỗ trợ.",
    413: "Dữ liệu gửi lên quá lớn.",
    415: "Định dạng dữ liệu không được hỗ trợ.",
    422: "Dữ liệu không hợp lệ.",
    500: "Lỗi hệ thống, vui lòng thử lại sau.",
    503: "Hệ thống tạm thời gián đoạn, vui lòng thử lại sau.",
}


class ApiError(Exception):
    """A failure the client can act on. Services raise it; the handler renders it."""

    def __init__(self, status: int, code: str, message: str, errors: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors or {}
        self.headers = headers or {}


class ValidationFailed(ApiError):
    """Business-rule violations collected over a whole request and raised once."""

    def __init__(self, errors: dict[str, list[str]], code: str = "VALIDATION_ERROR",
                 message: str = "Dữ liệu không hợp lệ.", status: int = 422):
        super().__init__(status, code, message, errors)


def envelope(status: int, code: str, message: str, errors: Any = None) -> dict:
    return {"code": code, "status": status, "message": message, "errors": errors or {}}


def _error_schema():
    """The envelope as an OpenAPI schema (flask-smorest's default has other types)."""
    from marshmallow import Schema, fields

    class ErrorEnvelope(Schema):
        code = fields.String(required=True, metadata={"description": "Stable machine code (errors.md)"})
        status = fields.Integer(required=True)
        message = fields.String(required=True, metadata={"description": "For people, Vietnamese first"})
        errors = fields.Raw(metadata={"description": "Per-field details, when there are any"})

    return ErrorEnvelope


ErrorEnvelope = _error_schema()


def render_error(status: int, code: str, message: str, errors: Any = None, headers: dict | None = None):
    response = jsonify(envelope(status, code, message, errors))
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return render_error(exc.status, exc.code, exc.message, exc.errors, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        errors = None
        code = HTTP_CODES.get(status, HTTPStatus(status).phrase.upper().replace(" ", "_"))
        data = getattr(exc, "data", None) or {}
        if "messages" in data:  # webargs/marshmallow validation
            errors = data["messages"]
            # One level deeper is the location ("json", "query", "form"): flatten it.
            if isinstance(errors, dict) and len(errors) == 1:
                errors = next(iter(errors.values()))
            code = "VALIDATION_ERROR"
        message = HTTP_MESSAGES.get(status, exc.description or HTTPStatus(status).phrase)
        headers = {}
        if status == 405 and exc.valid_methods:
            headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        elif exc.response is not None and "Allow" in exc.response.headers:
            headers["Allow"] = exc.response.headers["Allow"]
        return render_error(status, code, message, errors, headers)

    from sqlalchemy.exc import DataError

    @app.errorhandler(DataError)
    def _data_error(exc: DataError):
        # SQLSTATE class 22 (data exception): a value the client sent is out of the
        # database's range (a UTC offset beyond ±15:59, a date past year 294276, …).
        if str(getattr(exc.orig, "pgcode", "") or "").startswith("22"):
            return render_error(422, "VALIDATION_ERROR", "Giá trị nằm ngoài phạm vi cho phép.",
                                {"value": [str(exc.orig).strip().splitlines()[0][:200]]})
        return _unexpected(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        from api.db import DatabaseUnavailable, is_connection_error
        if isinstance(exc, DatabaseUnavailable) or is_connection_error(exc):
            app.logger.warning("database unavailable: %s", exc)
            return render_error(503, "SERVICE_UNAVAILABLE", HTTP_MESSAGES[503], None, {"Retry-After": "5"})
        app.logger.exception("unhandled error")
        return render_error(500, "INTERNAL_ERROR", HTTP_MESSAGES[500])
