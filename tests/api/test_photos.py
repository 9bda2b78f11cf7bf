"""Photo upload through HTTP: formats, EXIF, stripping, and every kind of bad file."""
import io
from datetime import datetime, timezone

import pytest
from PIL import Image

from tests.api.helpers import upload
from tests.fixtures import make_images as mk


def _fetch(client, url):
    path = url.replace("http://testserver", "")
    r = client.get(path)
    assert r.status_code == 200, url
    return r


def test_jpeg_with_gps_and_time(client, device):
    taken = datetime(2026, 3, 14, 8, 30, tzinfo=timezone.utc)
    data = mk.make_jpeg(4000, 3000, lat=21.1861, lon=106.0763, taken_at=taken, content="scene")
    r = upload(client, device, data)
    assert r.status_code == 201, r.json
    body = r.json
    assert body["lat"] == pytest.approx(21.1861, abs=1e-4)
    assert body["lon"] == pytest.approx(106.0763, abs=1e-4)
    assert body["taken_at"] is not None
    assert max(body["width"], body["height"]) == 2048


def test_derivatives_carry_no_metadata(client, device):
    data = mk.make_jpeg(1200, 900, lat=21.1861, lon=106.0763, content="scene")
    body = upload(client, device, data).json
    for url in (body["url"], body["thumb_url"]):
        r = _fetch(client, url)
        assert r.mimetype == "image/jpeg"
        img = Image.open(io.BytesIO(r.data))
        assert not img.getexif()
        assert "exif" not in img.info and "icc_profile" not in img.info
    thumb = Image.open(io.BytesIO(_fetch(client, body["thumb_url"]).data))
    assert max(thumb.size) <= 320


def test_orientation_applied(client, device):
    data = mk.make_jpeg(800, 400, orientation=6, content="scene")
    body = upload(client, device, data).json
    assert (body["width"], body["height"]) == (400, 800)


@pytest.mark.parametrize("maker", ["png", "webp", "heic"])
def test_other_formats(client, device, maker):
    data = getattr(mk, f"make_{maker}")(640, 480, lat=21.2849, lon=106.215)
    r = upload(client, device, data, filename=f"x.{maker}")
    assert r.status_code == 201, r.json
    assert r.json["lat"] == pytest.approx(21.2849, abs=1e-3)


def test_real_iphone_heic_outside_vietnam(client, device):
    """A real phone HEIC with GPS (from pillow-heif's test images): its location is abroad."""
    name = next(p.name for p in mk.IMAGES_DIR.iterdir() if p.suffix.lower() == ".heic")
    r = upload(client, device, mk.fixture_bytes(name), filename=name)
    assert r.status_code == 201, r.json
    assert r.json["lat"] is not None
    from tests.api.helpers import report_body, submit
    body = report_body([r.json["id"]], lat=..., lon=...)
    body = {k: v for k, v in body.items() if v is not ...}
    created = submit(client, device, body)
    assert created.status_code == 422
    assert created.json["code"] == "OUTSIDE_SERVICE_AREA"


def test_same_bytes_twice_is_the_same_photo(client, device):
    data = mk.make_jpeg(640, 480, content="scene")
    first, second = upload(client, device, data), upload(client, device, data)
    assert first.json["id"] == second.json["id"]


@pytest.mark.parametrize("data,code,status", [
    (b"this is not an image at all", "PHOTO_UNSUPPORTED_TYPE", 415),
    (mk.make_gif(), "PHOTO_UNSUPPORTED_TYPE", 415),
    (mk.truncate(mk.make_jpeg(1200, 900, content="scene"), 0.5), "PHOTO_CORRUPT", 422),
    (mk.make_png_bomb(), "PHOTO_TOO_MANY_PIXELS", 422),
    (b"", "PHOTO_EMPTY", 422),
], ids=["text", "gif", "truncated-jpeg", "bomb", "empty"])
def test_bad_files(client, device, data, code, status):
    r = upload(client, device, data)
    assert r.status_code == status, r.json
    assert r.json["code"] == code


def test_100_mb_upload_is_413(client, device):
    big = b"\xff\xd8\xff\xe0" + b"\0" * (100 * 1024 * 1024)
    r = upload(client, device, big)
    assert r.status_code == 413
    assert r.json["code"] == "PHOTO_TOO_LARGE"


def test_missing_file_field(client, device):
    r = client.post("/api/v1/photos", headers=device, data={"other": "x"},
                    content_type="multipart/form-data")
    assert r.status_code == 422
    assert "file" in r.json["errors"]


def test_upload_needs_identity(client):
    r = client.post("/api/v1/photos", data={"file": (io.BytesIO(b"x"), "a.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code == 401


def test_media_keys_are_checked(client):
    assert client.get("/media/../../etc/passwd").status_code == 404
    assert client.get("/media/" + "ab/cd/" + "0" * 64 + "_display.jpg").status_code == 404
