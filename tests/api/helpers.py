"""Small helpers shared by the HTTP tests."""
from __future__ import annotations

import io
import uuid

from tests.fixtures.make_images import make_jpeg

# Points in Bắc Ninh (code 24): the old town centre and a Bắc Giang ward centroid.
BAC_NINH = (21.1861, 106.0763)
BAC_GIANG = (21.2849, 106.215)
HANOI = (21.0285, 105.8542)
PARIS = (48.8566, 2.3522)


def upload(client, headers, data: bytes | None = None, *, lat=BAC_NINH[0], lon=BAC_NINH[1],
           filename="photo.jpg"):
    data = data if data is not None else make_jpeg(640, 480, lat=lat, lon=lon,
                                                   content="scene")
    return client.post("/api/v1/photos", headers=headers,
                       data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def report_body(photo_ids, **overrides):
    body = {"category": "streetlight_out",
            "description": "Đèn đường trước số 12 phố Nguyễn Đăng Đạo bị hỏng ba ngày nay.",
            "lat": BAC_NINH[0], "lon": BAC_NINH[1], "photo_ids": [str(p) for p in photo_ids]}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def submit(client, headers, body, key: str | None = None):
    headers = dict(headers)
    headers["Idempotency-Key"] = key or uuid.uuid4().hex
    return client.post("/api/v1/reports", json=body, headers=headers)


def new_report(client, headers, **overrides):
    photo = upload(client, headers)
    assert photo.status_code == 201, photo.json
    r = submit(client, headers, report_body([photo.json["id"]], **overrides))
    assert r.status_code == 201, r.json
    return r.json


def staff_headers(client, email: str) -> dict:
    from tests.conftest import TEST_PASSWORD
    r = client.post("/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD})
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['access_token']}"}


def run_publishing(session, report_ids) -> None:
    """Do in-process what the worker does after each commit: publish the pending events of
    these reports, then send every delivery that is due (our own code, not a stand-in)."""
    from datetime import datetime, timezone
    from sqlalchemy import select
    from api.ioc import webhooks
    from api.ioc.models import IocEvent, WebhookDelivery
    from api.notify import service as notify
    from api.notify.models import PushDelivery
    from api.reports.models import OutboxMessage, ReportEvent
    from api.reports.publish import publish_event
    pending = session.scalars(
        select(OutboxMessage.event_id).join(ReportEvent, ReportEvent.id == OutboxMessage.event_id)
        .where(OutboxMessage.topic == "event.publish", OutboxMessage.processed_at.is_(None),
               ReportEvent.report_id.in_(report_ids)).order_by(OutboxMessage.event_id)).all()
    fresh_push, fresh_hooks = [], []
    for event_id in pending:
        published = publish_event(session, event_id)
        fresh_push += published.push_ids
        fresh_hooks += published.webhook_ids
    for delivery_id in fresh_push:  # the worker sends these right after the commit
        notify.deliver(session, delivery_id)
    for delivery_id in fresh_hooks:
        webhooks.deliver(session, delivery_id)
    now = datetime.now(timezone.utc)
    for delivery_id in session.scalars(
            select(PushDelivery.id).join(ReportEvent, ReportEvent.id == PushDelivery.event_id)
            .where(PushDelivery.status == "pending", PushDelivery.next_attempt_at <= now,
                   ReportEvent.report_id.in_(report_ids)).order_by(PushDelivery.id)).all():
        notify.deliver(session, delivery_id)
    for delivery_id in session.scalars(
            select(WebhookDelivery.id).join(IocEvent, IocEvent.id == WebhookDelivery.ioc_event_id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
                   IocEvent.report_id.in_(report_ids)).order_by(WebhookDelivery.id)).all():
        webhooks.deliver(session, delivery_id)


def routed_report(client, headers, session, **overrides):
    """A report sent over HTTP and routed by the real router in ``session``."""
    from sqlalchemy import select
    from api.reports.models import Report
    from api.routing.geocode import AddressLookup
    from api.routing.service import route_report
    code = new_report(client, headers, **overrides)["code"]
    report = session.scalar(select(Report).where(Report.code == code))
    route_report(session, report.id, AddressLookup(None))
    session.flush()
    session.expire(report)
    return report
