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
