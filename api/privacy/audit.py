"""Write to the audit log: every view or change of personal data leaves a row.

Called inside the request's transaction, so the row commits with the work it describes
(a view that fails to render still counts: the row is written before the data is sent).
"""
from __future__ import annotations

from flask import g, has_request_context, request
from sqlalchemy.orm import Session

from api.privacy.models import AuditLog


def record(session: Session, action: str, *, report_id: int | None = None,
           citizen_id: int | None = None, detail: dict | None = None,
           actor_kind: str | None = None, actor_id: int | None = None) -> None:
    """``action`` is dotted, e.g. ``report.contact.viewed``, ``citizen.data.exported``."""
    ip = request_id = None
    if has_request_context():
        staff = g.get("staff")
        if actor_kind is None and staff is not None:
            actor_kind, actor_id = "staff", staff.id
        ip = request.headers.get("X-Forwarded-For", request.remote_addr or "")[:64] or None
        request_id = g.get("request_id")
    session.add(AuditLog(actor_kind=actor_kind or "system", actor_id=actor_id, action=action,
                         report_id=report_id, citizen_id=citizen_id, ip=ip,
                         request_id=request_id, detail=detail or {}))
