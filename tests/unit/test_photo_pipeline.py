"""Photo intake pipeline: formats, EXIF GPS/time, orientation, stripping, rejections.

Pixel tests run on every back-end: libvips with the libjpeg-turbo JPEG path as deployed
(``vips``), libvips alone (``libvips``, simplejpeg hidden: what every JPEG the fast path
declines goes through), and the Pillow fallback (``pillow``, pyvips hidden).
"""
from __future__ import annotations

import functools
import hashlib
import io
import random
import struct
import time
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image, ImageFile, ImageOps, TiffImagePlugin

from api.photos import pipeline
from api.photos.pipeline import (
    PhotoRejected,
    ProcessedPhoto,
    process_photo,
    read_metadata,
    sniff_type,
)
from tests.fixtures.make_images import (
    exif_bytes,
    fixture_bytes,
    make_gif,
    make_heic,
    make_jpeg,
    make_png,
    make_png_bomb,
    make_png_rgb16,
    make_webp,
    scene,
    truncate,
)

R = TiffImagePlugin.IFDRational
MAKERS = {"jpeg": make_jpeg, "png": make_png, "webp": make_webp, "heic": make_heic}


@pytest.fixture(params=["vips", "libvips", "pillow"])
def backend(request, monkeypatch):
    if request.param in ("vips", "libvips"):
        if pipeline._pyvips is None:
            pytest.skip("pyvips is not installed")
        if request.param == "libvips":
            monkeypatch.setattr(pipeline, "_simplejpeg", None)
    else:
        monkeypatch.setattr(pipeline, "_pyvips", None)
    return request.param


def jpeg_markers(data: bytes) -> list[int]:
    """Marker bytes of every segment before the first SOS."""
    assert data[:2] == b"\xff\xd8"
    pos, markers = 2, []
    while True:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:
            return markers
        pos += 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]


def assert_clean_jpeg(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG"
    assert im.mode == "RGB"
    assert not im.getexif()
    for key in ("exif", "icc_profile", "xmp", "comment", "photoshop", "adobe"):
        assert key not in im.info, key
    # Only the codec's own segments (plus JFIF APP0) may appear: no APP1 (EXIF/XMP),
    # APP2 (ICC/MPF), APP13 (IPTC), COM, or anything else.
    allowed = {0xE0, 0xDB, 0xC0, 0xC1, 0xC2, 0xC4, 0xDD, 0xDA}
    assert set(jpeg_markers(data)) <= allowed, [hex(m) for m in jpeg_markers(data)]
    im.load()
    return im


def colour_at(im: Image.Image, fx: float, fy: float) -> tuple[int, int, int]:
    return im.convert("RGB").getpixel((int(im.width * fx), int(im.height * fy)))


def close(c1, c2, tol=40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(c1, c2))


RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


# ------------------------------------------------------------------ sniffing

def test_sniff_type_from_magic_bytes_only():
    assert sniff_type(make_jpeg(8, 8)) == "jpeg"
    assert sniff_type(make_png(8, 8)) == "png"
    assert sniff_type(make_webp(8, 8)) == "webp"
    assert sniff_type(make_heic(8, 8)) == "heic"
    assert sniff_type(fixture_bytes("iphone13pro_pug.heic")) == "heic"
    assert sniff_type(make_gif()) is None
    assert sniff_type(b"") is None
    assert sniff_type(b"<html>not an image</html>") is None
    assert sniff_type(b"\xff\xd8") is None


def test_sniff_type_heif_brands():
    def ftyp(major: bytes, *compat: bytes) -> bytes:
        body = major + b"\x00\x00\x00\x00" + b"".join(compat)
        return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00" * 16

    assert sniff_type(ftyp(b"heic", b"mif1", b"heic")) == "heic"
    assert sniff_type(ftyp(b"mif1", b"mif1", b"heic")) == "heic"
    assert sniff_type(ftyp(b"heix")) == "heic"
    assert sniff_type(ftyp(b"avif", b"mif1", b"avif")) is None
    assert sniff_type(ftyp(b"mif1", b"mif1", b"avif")) is None
    assert sniff_type(ftyp(b"isom", b"mp41")) is None  # an MP4 video


# ------------------------------------------------------------------ formats in/out

@pytest.mark.parametrize("kind", ["jpeg", "png", "webp", "heic"])
def test_each_format_in_jpeg_out(kind, backend):
    data = MAKERS[kind](800, 600, content="scene")
    photo = process_photo(data)
    assert isinstance(photo, ProcessedPhoto)
    assert photo.source_type == kind
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert (photo.width, photo.height) == (800, 600)  # never upscaled
    display = assert_clean_jpeg(photo.display)
    thumb = assert_clean_jpeg(photo.thumb)
    assert display.size == (800, 600)
    assert thumb.size == (320, 240)


def test_downscale_to_max_side_and_thumb(backend):
    photo = process_photo(make_jpeg(3000, 1000, content="scene"))
    assert (photo.width, photo.height) == (2048, 683)
    assert Image.open(io.BytesIO(photo.display)).size == (2048, 683)
    assert Image.open(io.BytesIO(photo.thumb)).size == (320, 107)


def test_custom_sides(backend):
    photo = process_photo(make_png(1000, 500, mode="RGB"), max_side=400, thumb_side=100)
    assert (photo.width, photo.height) == (400, 200)
    assert Image.open(io.BytesIO(photo.thumb)).size == (100, 50)


def test_small_image_thumb_not_upscaled(backend):
    photo = process_photo(make_jpeg(200, 100))
    assert Image.open(io.BytesIO(photo.display)).size == (200, 100)
    assert Image.open(io.BytesIO(photo.thumb)).size == (200, 100)


def test_display_quality_is_82(backend):
    photo = process_photo(make_jpeg(640, 480, content="scene"))
    ref = io.BytesIO()
    Image.new("RGB", (16, 16)).save(ref, "JPEG", quality=82)
    ours = Image.open(io.BytesIO(photo.display)).quantization
    assert [list(t) for t in ours.values()] == [list(t) for t in Image.open(ref).quantization.values()]


def test_processed_photo_is_frozen():
    photo = process_photo(make_jpeg(64, 64))
    with pytest.raises(Exception):
        photo.width = 1  # type: ignore[misc]


# ------------------------------------------------------------------ EXIF: GPS

@pytest.mark.parametrize("kind", ["jpeg", "png", "webp", "heic"])
def test_gps_read_from_every_format(kind):
    photo = process_photo(MAKERS[kind](64, 48, lat=16.4637, lon=107.5909))
    assert photo.lat == pytest.approx(16.4637, abs=1e-5)
    assert photo.lon == pytest.approx(107.5909, abs=1e-5)


@pytest.mark.parametrize("lat,lon", [
    (21.0285, 105.8542),     # N/E (Hà Nội)
    (-33.8688, 151.2093),    # S/E
    (40.7128, -74.0060),     # N/W
    (-22.9068, -43.1729),    # S/W
])
def test_gps_hemisphere_signs(lat, lon):
    photo = process_photo(make_jpeg(32, 32, lat=lat, lon=lon))
    assert photo.lat == pytest.approx(lat, abs=1e-5)
    assert photo.lon == pytest.approx(lon, abs=1e-5)


def test_gps_rationals_with_odd_denominators():
    gps = {1: "N", 2: (R(16, 1), R(2783, 100), R(4512, 1000)),
           3: "E", 4: (R(1075909, 10000), R(0, 1), R(0, 1))}
    meta = read_metadata(exif_bytes(gps_raw=gps))
    assert meta.lat == pytest.approx(16 + 27.83 / 60 + 4.512 / 3600, abs=1e-7)
    assert meta.lon == pytest.approx(107.5909, abs=1e-7)


def test_gps_decimal_degrees_in_one_rational():
    gps = {1: "S", 2: (R(108234, 10000),), 3: "W", 4: (R(1066297, 10000),)}
    meta = read_metadata(exif_bytes(gps_raw=gps))
    assert meta.lat == pytest.approx(-10.8234)
    assert meta.lon == pytest.approx(-106.6297)


@pytest.mark.parametrize("gps", [
    {1: "N", 2: (R(0, 1), R(0, 1), R(0, 1)), 3: "E", 4: (R(0, 1), R(0, 1), R(0, 1))},  # 0,0
    {1: "N", 2: (R(95, 1), R(0, 1), R(0, 1)), 3: "E", 4: (R(10, 1), R(0, 1), R(0, 1))},  # lat > 90
    {1: "N", 2: (R(10, 1), R(0, 1), R(0, 1)), 3: "E", 4: (R(181, 1), R(0, 1), R(0, 1))},  # lon > 180
    {1: "N", 2: (R(10, 0), R(0, 1), R(0, 1)), 3: "E", 4: (R(10, 1), R(0, 1), R(0, 1))},  # x/0
    {1: "X", 2: (R(10, 1), R(0, 1), R(0, 1)), 3: "E", 4: (R(10, 1), R(0, 1), R(0, 1))},  # bad ref
    {1: "N", 2: (R(10, 1), R(0, 1), R(0, 1))},                                         # no lon
    {1: "N", 2: (R(10, 1), R(0, 1), R(0, 1), R(1, 1)), 3: "E", 4: (R(10, 1),)},        # 4 parts
])
def test_gps_invalid_is_none(gps):
    meta = read_metadata(exif_bytes(gps_raw=gps))
    assert (meta.lat, meta.lon) == (None, None)


@pytest.mark.parametrize("value", ["garbage", None, b"\x01\x02", (), ("a", "b", "c")])
def test_gps_coordinate_of_wrong_type_is_none(value):
    assert pipeline._coordinate(value, "N", "N", "S", 90.0) is None


def test_no_exif_at_all():
    photo = process_photo(make_jpeg(32, 32))
    assert (photo.lat, photo.lon, photo.taken_at) == (None, None, None)


def test_garbage_exif_is_ignored():
    data = make_jpeg(32, 32, exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f garbage")
    photo = process_photo(data)
    assert (photo.lat, photo.lon, photo.taken_at) == (None, None, None)


# ------------------------------------------------------------------ EXIF: time

def test_time_prefers_gps_stamp_in_utc():
    data = make_jpeg(32, 32, taken_at=datetime(2024, 5, 1, 9, 0, 0), offset="+07:00",
                     gps_time=datetime(2024, 5, 1, 2, 0, 5, tzinfo=timezone.utc))
    photo = process_photo(data)
    assert photo.taken_at == datetime(2024, 5, 1, 2, 0, 5, tzinfo=timezone.utc)
    assert photo.taken_at.tzinfo is not None


def test_time_original_with_offset():
    tz = timezone(timedelta(hours=-5))
    photo = process_photo(make_jpeg(32, 32, taken_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=tz)))
    assert photo.taken_at == datetime(2024, 1, 2, 8, 4, 5, tzinfo=timezone.utc)


def test_time_original_without_offset_is_vietnam_time():
    photo = process_photo(make_jpeg(32, 32, taken_at=datetime(2024, 5, 1, 8, 0, 0)))
    assert photo.taken_at == datetime(2024, 5, 1, 1, 0, 0, tzinfo=timezone.utc)
    assert photo.taken_at.utcoffset() == timedelta(0)


def test_time_bad_gps_date_falls_back_to_original():
    gps = {7: (R(1, 1), R(2, 1), R(3, 1)), 29: "0000:00:00"}
    meta = read_metadata(exif_bytes(taken_at=datetime(2024, 5, 1, 8, 0, 0), offset="+07:00",
                                    gps_raw=gps))
    assert meta.taken_at == datetime(2024, 5, 1, 1, 0, 0, tzinfo=timezone.utc)


def test_time_blank_original_is_none():
    exif = Image.Exif()
    exif[0x8769] = {0x9003: "    :  :     :  :  "}
    assert read_metadata(exif.tobytes()).taken_at is None


def test_time_fractional_gps_seconds():
    gps = {7: (R(23, 1), R(59, 1), R(5950, 100)), 29: "2023:12:31"}
    meta = read_metadata(exif_bytes(gps_raw=gps))
    assert meta.taken_at == datetime(2023, 12, 31, 23, 59, 59, tzinfo=timezone.utc)


# ------------------------------------------------------------------ orientation

# Source pattern (landscape): red top-left, green top-right, blue bottom-left, white
# bottom-right. Orientation 6 = "rotate 90 clockwise to view", 8 = "90 counter-clockwise".
EXPECTED_CORNERS = {
    6: {"tl": BLUE, "tr": RED, "bl": WHITE, "br": GREEN},
    8: {"tl": GREEN, "tr": WHITE, "bl": RED, "br": BLUE},
}
CORNERS = {"tl": (0.25, 0.25), "tr": (0.75, 0.25), "bl": (0.25, 0.75), "br": (0.75, 0.75)}


@pytest.mark.parametrize("orientation", [6, 8])
@pytest.mark.parametrize("kind", ["jpeg", "png", "webp"])
def test_orientation_applied(kind, orientation, backend):
    data = MAKERS[kind](400, 200, orientation=orientation, content="pattern")
    photo = process_photo(data, thumb_side=100)
    assert (photo.width, photo.height) == (200, 400)
    for im in (assert_clean_jpeg(photo.display), assert_clean_jpeg(photo.thumb)):
        assert im.height > im.width
        for corner, colour in EXPECTED_CORNERS[orientation].items():
            got = colour_at(im, *CORNERS[corner])
            assert close(got, colour), (corner, got, colour)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_all_orientations_match_pillow_exif_transpose(orientation, backend):
    data = make_jpeg(300, 200, orientation=orientation, quality=95)
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    photo = process_photo(data)
    got = Image.open(io.BytesIO(photo.display))
    assert got.size == expected.size
    for fx, fy in CORNERS.values():
        assert close(colour_at(got, fx, fy), colour_at(expected, fx, fy))


def test_heic_rotation_from_container():
    # pillow-heif stores EXIF orientation 6 as an irot box; libheif applies it on decode.
    photo = process_photo(make_heic(400, 200, orientation=6, quality=90), thumb_side=100)
    assert (photo.width, photo.height) == (200, 400)
    im = assert_clean_jpeg(photo.display)
    for corner, colour in EXPECTED_CORNERS[6].items():
        assert close(colour_at(im, *CORNERS[corner]), colour)


def test_downscaled_rotated_large_jpeg(backend):
    data = make_jpeg(4000, 3000, orientation=6, content="scene", quality=80)
    photo = process_photo(data)
    assert (photo.width, photo.height) == (1536, 2048)
    assert Image.open(io.BytesIO(photo.thumb)).size == (240, 320)


# ------------------------------------------------------------------ metadata & colour

def test_all_metadata_stripped(backend):
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    img = Image.new("RGB", (300, 200), (10, 120, 200))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, icc_profile=srgb,
             exif=exif_bytes(lat=10.77, lon=106.70, taken_at=datetime(2024, 1, 1), orientation=1),
             comment=b"secret comment", xmp=b"<x:xmpmeta>secret</x:xmpmeta>")
    data = out.getvalue()
    assert b"secret" in data
    photo = process_photo(data)
    for blob in (photo.display, photo.thumb):
        assert_clean_jpeg(blob)
        assert b"secret" not in blob
        assert b"Exif" not in blob
    assert photo.lat == pytest.approx(10.77, abs=1e-5)


def test_display_p3_is_converted_to_srgb(backend):
    p3 = Image.open(io.BytesIO(fixture_bytes("iphone13pro_pug.jpg"))).info["icc_profile"]
    img = Image.new("RGB", (64, 64), (200, 100, 50))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=100, icc_profile=p3, subsampling=0)
    data = out.getvalue()
    im = assert_clean_jpeg(process_photo(data).display)
    assert close(im.getpixel((32, 32)), (215, 93, 31), tol=4)


@pytest.mark.parametrize("make,kwargs", [
    (make_jpeg, {"mode": "CMYK"}),
    (make_jpeg, {"mode": "L"}),
    (make_png, {"mode": "RGBA"}),
    (make_png, {"mode": "LA"}),
    (make_png, {"mode": "P"}),
    (make_png, {"mode": "PA"}),
    (make_png, {"mode": "L"}),
    (make_png, {"mode": "I;16"}),
    (make_webp, {"mode": "RGBA"}),
    (make_webp, {"mode": "RGBA", "lossless": True}),
    (make_heic, {"mode": "RGBA"}),
])
def test_odd_modes_become_rgb_jpeg(make, kwargs, backend):
    photo = process_photo(make(120, 80, **kwargs))
    assert assert_clean_jpeg(photo.display).size == (120, 80)
    assert_clean_jpeg(photo.thumb)


def test_16bit_rgb_png(backend):
    im = assert_clean_jpeg(process_photo(make_png_rgb16(120, 80)).display)
    assert close(colour_at(im, 0.25, 0.25), RED, tol=12)
    assert close(colour_at(im, 0.75, 0.75), WHITE, tol=12)


def test_16bit_grey_png_is_scaled_not_clipped(backend):
    im = assert_clean_jpeg(process_photo(make_png(120, 80, mode="I;16")).display)
    # pattern -> grey: red 76, green 150, blue 29, white 255
    for (fx, fy), grey in zip(CORNERS.values(), (76, 150, 29, 255)):
        assert close(colour_at(im, fx, fy), (grey,) * 3, tol=6)


def test_alpha_flattened_on_white(backend):
    img = Image.new("RGBA", (100, 100), (255, 0, 0, 255))
    img.paste((0, 0, 255, 0), (0, 0, 50, 100))  # left half fully transparent blue
    for fmt in ("PNG", "WEBP"):
        out = io.BytesIO()
        img.save(out, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
        im = assert_clean_jpeg(process_photo(out.getvalue()).display)
        assert close(im.getpixel((20, 50)), WHITE, tol=6), fmt
        assert close(im.getpixel((80, 50)), RED, tol=12), fmt


# ------------------------------------------------------------------ rejections

def rejected(data: bytes, **kwargs) -> str:
    with pytest.raises(PhotoRejected) as info:
        process_photo(data, **kwargs)
    assert info.value.message
    return info.value.code


def test_reject_not_an_image():
    assert rejected(b"hello, this is plain text, not a photo" * 10) == "PHOTO_UNSUPPORTED_TYPE"


def test_reject_zero_bytes():
    assert rejected(b"") == "PHOTO_UNSUPPORTED_TYPE"


def test_reject_gif():
    assert rejected(make_gif()) == "PHOTO_UNSUPPORTED_TYPE"


def test_reject_filename_does_not_matter():
    # A PDF renamed photo.jpg is still a PDF.
    assert rejected(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n") == "PHOTO_UNSUPPORTED_TYPE"


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp", "heic"])
@pytest.mark.parametrize("keep", [0.05, 0.5, 0.95])
def test_reject_truncated(kind, keep, backend):
    data = MAKERS[kind](300, 200, content="scene")
    assert rejected(truncate(data, keep)) == "PHOTO_CORRUPT"


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp", "heic"])
def test_truncated_rejected_even_if_pillow_told_to_load_truncated(kind, backend, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = MAKERS[kind](300, 200, content="scene")
    assert rejected(truncate(data, 0.7)) == "PHOTO_CORRUPT"


def test_reject_magic_then_garbage(backend):
    assert rejected(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4) == "PHOTO_CORRUPT"
    assert rejected(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100) == "PHOTO_CORRUPT"
    assert rejected(b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8) == "PHOTO_CORRUPT"
    assert rejected(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64) == "PHOTO_CORRUPT"


def test_reject_png_bomb_before_decoding(backend, monkeypatch):
    bomb = make_png_bomb(30000, 30000)
    assert len(bomb) < 300_000

    def no_decode(*args, **kwargs):
        raise AssertionError("decoder must not run on a bomb")

    monkeypatch.setattr(pipeline, "_vips_derivatives", no_decode)
    monkeypatch.setattr(pipeline, "_pil_derivatives", no_decode)
    t0 = time.perf_counter()
    assert rejected(bomb) == "PHOTO_TOO_MANY_PIXELS"
    assert time.perf_counter() - t0 < 2.0


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp", "heic"])
def test_reject_over_max_pixels_each_format(kind, backend, monkeypatch):
    def no_decode(*args, **kwargs):
        raise AssertionError("decoder must not run")

    for name in ("_vips_derivatives", "_pil_derivatives", "_heif_derivatives"):
        monkeypatch.setattr(pipeline, name, no_decode)
    assert rejected(MAKERS[kind](200, 100), max_pixels=19_999) == "PHOTO_TOO_MANY_PIXELS"


def test_pillow_bomb_limit_also_applies(backend, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert rejected(make_jpeg(100, 100)) == "PHOTO_TOO_MANY_PIXELS"


@pytest.mark.parametrize("kind", ["jpeg", "png", "webp", "heic"])
def test_random_corruption_never_raises_anything_else(kind, backend):
    rng = random.Random(1234)
    base = MAKERS[kind](160, 120, lat=10.0, lon=106.0, content="scene")
    for _ in range(25):
        data = bytearray(base)
        for _ in range(rng.randrange(1, 12)):
            pos = rng.randrange(len(data))
            data[pos] = rng.randrange(256)
        try:
            photo = process_photo(bytes(data))
        except PhotoRejected as exc:
            assert exc.code in ("PHOTO_UNSUPPORTED_TYPE", "PHOTO_CORRUPT", "PHOTO_TOO_MANY_PIXELS")
        else:
            assert_clean_jpeg(photo.display)


# ------------------------------------------------------------------ real phone fixtures

PUG = {"lat": 44.8504778, "lon": 34.9766472,
       "taken_at": datetime(2023, 2, 21, 11, 33, 8, tzinfo=timezone.utc)}


@pytest.mark.parametrize("name,kind", [("iphone13pro_pug.heic", "heic"),
                                       ("iphone13pro_pug.jpg", "jpeg")])
def test_real_iphone_photo(name, kind, backend):
    photo = process_photo(fixture_bytes(name))
    assert photo.source_type == kind
    assert photo.lat == pytest.approx(PUG["lat"], abs=1e-6)
    assert photo.lon == pytest.approx(PUG["lon"], abs=1e-6)
    assert photo.taken_at == PUG["taken_at"]
    assert (photo.width, photo.height) == (1008, 756)
    assert assert_clean_jpeg(photo.thumb).size == (320, 240)
    assert_clean_jpeg(photo.display)


def test_real_xiaomi_photo_gps_time_wins():
    photo = process_photo(fixture_bytes("xiaomi_m2012k11ag.heic"))
    assert photo.lat == pytest.approx(47.2272889, abs=1e-6)
    assert photo.lon == pytest.approx(39.6999922, abs=1e-6)
    assert photo.taken_at == datetime(2023, 4, 27, 16, 43, 45, tzinfo=timezone.utc)
    assert_clean_jpeg(photo.display)


def test_backends_agree_on_real_photo(monkeypatch):
    if pipeline._pyvips is None:
        pytest.skip("pyvips is not installed")
    data = fixture_bytes("iphone13pro_pug.jpg")
    a = Image.open(io.BytesIO(process_photo(data).display))
    monkeypatch.setattr(pipeline, "_pyvips", None)
    b = Image.open(io.BytesIO(process_photo(data).display))
    assert a.size == b.size
    from PIL import ImageChops, ImageStat

    rms = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).rms
    assert max(rms) < 6, rms


# ------------------------------------------------------------------ libjpeg-turbo JPEG path

needs_turbo = pytest.mark.skipif(pipeline._pyvips is None or pipeline._simplejpeg is None,
                                 reason="pyvips or simplejpeg is not installed")


@functools.lru_cache(maxsize=None)
def _scene(width: int, height: int) -> Image.Image:
    return scene(width, height, noise=4.0)


def scene_jpeg(width: int, height: int, orientation: int | None = None, quality: int = 90) -> bytes:
    """make_jpeg(content="scene") with the picture drawn once per size."""
    out = io.BytesIO()
    params = {"exif": exif_bytes(orientation=orientation)} if orientation else {}
    _scene(width, height).save(out, "JPEG", quality=quality, **params)
    return out.getvalue()


def pixels(data: bytes):
    import numpy as np

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def libvips_only(data: bytes, monkeypatch, **kwargs) -> ProcessedPhoto:
    with monkeypatch.context() as m:
        m.setattr(pipeline, "_simplejpeg", None)
        return process_photo(data, **kwargs)


@pytest.fixture
def turbo_calls(monkeypatch):
    """Records whether each call of the fast path produced the derivatives (True) or
    handed the file on to plain libvips (False)."""
    calls = []
    real = pipeline._turbo_derivatives

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(pipeline, "_turbo_derivatives", spy)
    return calls


@needs_turbo
@pytest.mark.parametrize("size", [(2600, 1700), (4400, 1000), (900, 600)],
                         ids=["shrink-1.3", "shrink-2.1", "no-shrink"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_turbo_display_is_libvips_display(size, orientation, monkeypatch, turbo_calls):
    data = scene_jpeg(*size, orientation=orientation)
    fast = process_photo(data)
    assert turbo_calls == [True]
    ref = libvips_only(data, monkeypatch)
    assert (fast.width, fast.height) == (ref.width, ref.height)
    # Same decoder maths, same resampling: byte-identical with the pinned wheels; a
    # level of slack keeps the test about behaviour, not library patch releases.
    assert abs(pixels(fast.display) - pixels(ref.display)).max() <= 2
    assert Image.open(io.BytesIO(fast.thumb)).size == Image.open(io.BytesIO(ref.thumb)).size


@needs_turbo
@pytest.mark.parametrize("orientation", range(1, 9))
def test_turbo_thumbnail_orientation_and_content(orientation, turbo_calls):
    # The thumbnail of a shrunk JPEG comes from its own DCT-scaled decode: it must turn
    # exactly like the display and show the same picture.
    data = make_jpeg(3000, 2000, orientation=orientation, content="pattern", quality=95)
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    photo = process_photo(data)
    assert turbo_calls == [True]
    display, thumb = assert_clean_jpeg(photo.display), assert_clean_jpeg(photo.thumb)
    assert display.size == pipeline._fit(*expected.size, 2048)
    assert thumb.size == pipeline._fit(*display.size, 320)
    for fx, fy in CORNERS.values():
        want = colour_at(expected, fx, fy)
        assert close(colour_at(display, fx, fy), want)
        assert close(colour_at(thumb, fx, fy), want)


@needs_turbo
def test_turbo_thumbnail_close_to_one_made_from_display(monkeypatch):
    data = scene_jpeg(4032, 3024, orientation=6)
    fast = pixels(process_photo(data).thumb)
    ref = pixels(libvips_only(data, monkeypatch).thumb)
    assert fast.shape == ref.shape
    assert abs(fast - ref).mean() < 4


@needs_turbo
@pytest.mark.parametrize("width,height,side", [
    (1616, 2048, 1600),  # 1262.5: vips_resize rounds the half up
    (3000, 1000, 2048), (4000, 3001, 2048), (2049, 2047, 2048), (4095, 17, 2048),
    (1201, 3001, 1000), (333, 1999, 1024),
])
def test_turbo_predicts_libvips_sizes(width, height, side, monkeypatch, turbo_calls):
    def no_fallback(*args, **kwargs):
        raise AssertionError("display size was mispredicted")

    data = make_jpeg(width, height, quality=80)
    ref = libvips_only(data, monkeypatch, max_side=side)
    monkeypatch.setattr(pipeline, "_vips_thumb_from_jpeg", no_fallback)
    fast = process_photo(data, max_side=side)
    assert turbo_calls == [True]
    assert (fast.width, fast.height) == (ref.width, ref.height)
    assert Image.open(io.BytesIO(fast.display)).size == (ref.width, ref.height)
    assert Image.open(io.BytesIO(fast.thumb)).size == Image.open(io.BytesIO(ref.thumb)).size


def display_p3() -> bytes:
    return Image.open(io.BytesIO(fixture_bytes("iphone13pro_pug.jpg"))).info["icc_profile"]


@needs_turbo
@pytest.mark.parametrize("width,height,orientation", [
    (2600, 1700, 6), (2600, 1700, 1), (2600, 1700, 3), (4400, 1000, 1), (900, 600, 1),
    (900, 600, 8),
])
def test_turbo_converts_display_p3(width, height, orientation, turbo_calls):
    # Some of these build the ICC transform over the decode buffer before libjpeg-turbo
    # has filled it: unfilled pixels would come out black, not orange.
    img = Image.new("RGB", (width, height), (200, 100, 50))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=100, icc_profile=display_p3(), subsampling=0,
             exif=exif_bytes(orientation=orientation))
    photo = process_photo(out.getvalue())
    assert turbo_calls == [True]
    for blob in (photo.display, photo.thumb):
        im = assert_clean_jpeg(blob)
        for fx, fy in [(0.5, 0.5), *CORNERS.values(), (0.01, 0.01), (0.99, 0.99)]:
            assert close(colour_at(im, fx, fy), (215, 93, 31), tol=4)


@needs_turbo
@pytest.mark.parametrize("size,orientation", [
    ((2600, 1700), 1), ((2600, 1700), 6), ((4400, 1000), 1), ((900, 600), 1), ((900, 600), 3),
])
def test_turbo_p3_display_is_libvips_display(size, orientation, monkeypatch, turbo_calls):
    out = io.BytesIO()
    _scene(*size).save(out, "JPEG", quality=90, icc_profile=display_p3(),
                       exif=exif_bytes(orientation=orientation))
    data = out.getvalue()
    fast = process_photo(data)
    assert turbo_calls == [True]
    ref = libvips_only(data, monkeypatch)
    assert abs(pixels(fast.display) - pixels(ref.display)).max() <= 2


@needs_turbo
def test_turbo_hands_corrupt_data_to_libvips(monkeypatch, turbo_calls):
    # libjpeg-turbo warns about most damage to entropy data; the fast path then steps
    # aside and libvips decides exactly as it did before the fast path existed. Damage
    # that decodes without a warning gives the same pixels on both paths.
    base = scene_jpeg(2600, 1700)
    rng = random.Random(99)
    for _ in range(6):
        data = bytearray(base)
        for _ in range(4):
            data[rng.randrange(len(data) // 2, len(data) - 2)] = rng.randrange(256)
        data = bytes(data)
        try:
            want = libvips_only(data, monkeypatch)
        except PhotoRejected as exc:
            assert rejected(data) == exc.code
        else:
            got = process_photo(data)
            assert (got.width, got.height, got.display) == (want.width, want.height, want.display)
    assert False in turbo_calls


@needs_turbo
@pytest.mark.parametrize("make,kwargs", [
    (make_jpeg, {"width": 2600, "height": 1700, "mode": "L"}),
    (make_jpeg, {"width": 2600, "height": 1700, "mode": "CMYK"}),
    (make_jpeg, {"width": 9000, "height": 2000}),  # 4.4x: libvips shrinks on load
])
def test_turbo_leaves_other_jpegs_to_libvips(make, kwargs, turbo_calls):
    photo = process_photo(make(**kwargs))
    assert turbo_calls == [False]
    assert_clean_jpeg(photo.display)
    assert_clean_jpeg(photo.thumb)


@needs_turbo
def test_turbo_truncated_still_corrupt(turbo_calls):
    # The structural check rejects before any decoder runs...
    assert rejected(truncate(scene_jpeg(2600, 1700), 0.8)) == "PHOTO_CORRUPT"
    assert turbo_calls == []
    # ...and a cut-off file given a fresh EOI is not taken by the fast path either.
    data = truncate(scene_jpeg(2600, 1700), 0.8) + b"\xff\xd9"
    try:
        process_photo(data)
    except PhotoRejected as exc:
        assert exc.code == "PHOTO_CORRUPT"
    assert turbo_calls == [False]
