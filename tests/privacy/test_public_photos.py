"""Public photos never carry EXIF, XMP or GPS: every URL we hand out, fetched and read."""
from __future__ import annotations

import io
import struct
from datetime import datetime, timezone

from PIL import Image

from tests.api.helpers import report_body, submit, upload
from tests.fixtures.make_images import make_jpeg

EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
CAMERA = "PrivacyCam"
_IFD_GPS = 0x8825


def _with_xmp(jpeg: bytes) -> bytes:
    """Insert an XMP packet (with its own GPS position) right after the JPEG's SOI."""
    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
              b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
              b'exif:GPSLatitude="21,11.166N" exif:GPSLongitude="106,4.578E"/>'
              b'</rdf:RDF></x:xmpmeta>')
    payload = XMP_HEADER + packet
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def _app_markers(data: bytes) -> list[int]:
    """The APPn markers (0xE0..0xEF) of a JPEG, and COM (0xFE), before the image data."""
    assert data[:2] == b"\xff\xd8"
    pos, found = 2, []
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: metadata comes before it
            break
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            found.append(marker)
        pos += 2 + length
    return found


def _assert_clean(data: bytes, where: str) -> None:
    assert EXIF_HEADER not in data, where
    assert b"ns.adobe.com/xap" not in data and b"xmpmeta" not in data, where
    assert CAMERA.encode() not in data and b"GPSLatitude" not in data, where
    assert _app_markers(data) in ([], [0xE0]), where  # JFIF at most
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG", where
    exif = img.getexif()
    assert not exif and not exif.get_ifd(_IFD_GPS), where
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"} & set(img.info), where


def test_every_public_url_of_a_photo_is_stripped(client, device):
    taken = datetime(2026, 4, 2, 9, 15, tzinfo=timezone.utc)
    original = _with_xmp(make_jpeg(1600, 1200, lat=21.1861, lon=106.0763, taken_at=taken,
                                   content="scene", make=CAMERA))
    # The upload really carries what must not come out.
    assert EXIF_HEADER in original and XMP_HEADER in original
    source = Image.open(io.BytesIO(original))
    assert source.getexif().get_ifd(_IFD_GPS) and source.getexif()[0x010F] == CAMERA

    uploaded = upload(client, device, original)
    assert uploaded.status_code == 201, uploaded.json
    assert uploaded.json["lat"] is not None  # GPS was read before stripping
    created = submit(client, device, report_body([uploaded.json["id"]]))
    assert created.status_code == 201, created.json
    code = created.json["code"]

    urls = {uploaded.json["url"], uploaded.json["thumb_url"]}
    for body in (created.json, client.get(f"/api/v1/reports/{code}").json,
                 *client.get(f"/api/v1/reports?near=21.1861,106.0763&radius=50").json["items"]):
        for photo in body["photos"]:
            urls |= {photo["url"], photo["thumb_url"]}
    for report in client.get("/api/v1/me/data", headers=device).json["reports"]:
        for photo in report["photos"]:
            urls |= {photo["url"], photo["thumb_url"]}
    assert len(urls) == 2 and any("_thumb" in u for u in urls) and any("_display" in u for u in urls)

    for url in sorted(urls):
        assert url.startswith("http://testserver/media/"), url
        r = client.get(url.removeprefix("http://testserver"))
        assert r.status_code == 200 and r.mimetype == "image/jpeg", url
        _assert_clean(r.data, url)
