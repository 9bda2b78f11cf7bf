"""Photo intake: validate an uploaded photo, read its GPS/time, make web derivatives.

``process_photo(data)`` takes the raw upload bytes and returns a :class:`ProcessedPhoto`
(display JPEG + thumbnail JPEG, both auto-oriented, sRGB and stripped of every metadata
block) or raises :class:`PhotoRejected` with a stable error code. Nothing else is raised
for bad input: any decoder failure is reported as ``PHOTO_CORRUPT``.

Order of work, and why:

1. The type is sniffed from magic bytes only; file names and Content-Type are client
   controlled and routinely wrong (iOS sends HEIC as ``image/jpeg`` in some paths).
2. The container header is parsed without decoding pixels: declared dimensions are
   checked against ``max_pixels`` first (decompression bombs), structural completeness
   is checked (truncated uploads), and EXIF GPS/time is read -- all before any decode.
3. Pixels: JPEG/PNG/WebP go through libvips (``thumbnail_buffer``: shrink-on-load,
   auto-rotation, streaming decode) when pyvips is importable, which is 3-4x faster than
   a straightforward Pillow pipeline at this output size; HEIC/HEIF is decoded by
   pillow-heif (libheif + libde265) because the libvips wheel has no HEVC decoder.
   Without pyvips, everything falls back to Pillow, with identical results modulo
   resampling details. Ordinary YCbCr JPEGs that are shrunk less than 4x (a 12 MP phone
   photo to 2048 px) are decoded by libjpeg-turbo 3 through simplejpeg, when installed,
   which is ~1.4x faster than the mozjpeg inside the libvips wheel; libvips does the
   rest, and the display comes out as thumbnail_buffer made it (see
   ``_turbo_derivatives``). Anything libjpeg-turbo declines or even warns about takes
   the plain libvips path, which alone decides what is corrupt.
4. The thumbnail is made from the in-memory display derivative, so the original is
   decoded once -- except on that libjpeg-turbo path when the photo is shrunk: there
   the full-size decode is one call on one core, and the thumbnail is made meanwhile on
   the other core from a DCT-domain 1/2..1/8 decode of the original, at no wall time.

Licensing note: the pillow-heif binary wheel bundles libheif, libde265 and x265; x265 is
GPLv2, which makes that wheel GPLv2 as a whole. That is acceptable here because it runs
server-side only and is not distributed. The pyvips-binary wheel bundles LGPL libvips.
The simplejpeg wheel (MIT) bundles libjpeg-turbo (IJG/BSD-style licences).
"""
from __future__ import annotations

import hashlib
import io
import logging
import math
import struct
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from PIL import Image

try:  # pillow-heif is a hard requirement in production, optional for the module import
    import pillow_heif
except ImportError:  # pragma: no cover - exercised only on stripped-down installs
    pillow_heif = None

try:
    import pyvips as _pyvips
except Exception:  # ImportError, or OSError when libvips itself cannot be loaded
    _pyvips = None

try:  # libjpeg-turbo 3.x; the fast JPEG path needs it, everything else works without
    import numpy as _numpy
    import simplejpeg as _simplejpeg
except Exception:
    _simplejpeg = None

log = logging.getLogger(__name__)

JPEG_QUALITY = 82
_WHITE = (255, 255, 255)

try:
    from zoneinfo import ZoneInfo

    LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
except Exception:  # no tz database on the host; Vietnam has had no DST since 1975
    LOCAL_TZ = timezone(timedelta(hours=7), "ICT")

_PIL_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
_VIPS_LOADER = {"jpeg": "jpegload", "png": "pngload", "webp": "webpload"}

# ftyp brands that mean "HEVC-coded HEIF still image or sequence".
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
_HEIF_GENERIC_BRANDS = {b"mif1", b"msf1", b"mif2", b"miaf"}
_AVIF_BRANDS = {b"avif", b"avis"}

_TAG_ORIENTATION = 0x0112
_IFD_EXIF = 0x8769
_IFD_GPS = 0x8825
_TAG_DATETIME_ORIGINAL = 0x9003
_TAG_OFFSET_TIME_ORIGINAL = 0x9011


class PhotoRejected(Exception):
    """The upload is not a photo we accept. ``code`` is stable and meant for API clients."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ProcessedPhoto:
    sha256: str
    source_type: str
    width: int
    height: int
    lat: float | None
    lon: float | None
    taken_at: datetime | None
    display: bytes
    thumb: bytes


def _unsupported(message: str) -> PhotoRejected:
    return PhotoRejected("PHOTO_UNSUPPORTED_TYPE", message)


def _corrupt(message: str = "The photo file is damaged or incomplete.") -> PhotoRejected:
    return PhotoRejected("PHOTO_CORRUPT", message)


def _too_many_pixels(width: int | None = None, height: int | None = None) -> PhotoRejected:
    dims = f" ({width}x{height})" if width and height else ""
    return PhotoRejected("PHOTO_TOO_MANY_PIXELS", f"The photo has too many pixels{dims}.")


# ============================================================== type sniffing

def sniff_type(data: bytes) -> str | None:
    """"jpeg" | "png" | "webp" | "heic" from the leading bytes, or None."""
    head = bytes(data[:64])
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        box_size = struct.unpack(">I", head[:4])[0]
        major = head[8:12]
        end = min(len(head), box_size) if box_size >= 16 else 12
        compatible = {head[i:i + 4] for i in range(16, end - 3, 4)}
        if major in _HEIC_BRANDS:
            return "heic"
        if major in _AVIF_BRANDS:
            return None  # AV1-coded HEIF: not accepted (no decoder shipped)
        if major in _HEIF_GENERIC_BRANDS:
            if compatible & _AVIF_BRANDS and not compatible & _HEIC_BRANDS:
                return None
            return "heic"
        if compatible & _HEIC_BRANDS:
            return "heic"
    return None


# ============================================================== headers (no pixel work)

@dataclass
class _Header:
    width: int
    height: int
    exif: bytes | None
    icc: bytes | None
    pil: Image.Image | None = None  # opened, not yet decoded (Pillow path reuses it)
    heif: object | None = None  # pillow_heif.HeifFile, not yet decoded


def _check_jpeg_complete(data: bytes) -> None:
    # Walk the marker segments up to the first SOS, then require an EOI after it. Entropy
    # coded data byte-stuffs 0xFF, so FF D9 after SOS can only be a real EOI; embedded
    # EXIF thumbnails live inside APP1 and are skipped by the walk.
    n = len(data)
    pos = 2
    while True:
        while pos < n and data[pos] != 0xFF:
            pos += 1  # tolerate junk between segments, as libjpeg does
        while pos < n and data[pos] == 0xFF:
            pos += 1  # fill bytes
        if pos >= n:
            raise _corrupt("The JPEG file ends before its image data.")
        marker = data[pos]
        if marker == 0xD9:
            raise _corrupt("The JPEG file has no image data.")
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 1
            continue
        if pos + 3 > n:
            raise _corrupt("The JPEG file ends inside a header.")
        seg_len = (data[pos + 1] << 8) | data[pos + 2]
        if seg_len < 2 or pos + 1 + seg_len > n:
            raise _corrupt("The JPEG file ends inside a header.")
        if marker == 0xDA:
            if data.rfind(b"\xff\xd9", pos + 1 + seg_len) == -1:
                raise _corrupt("The JPEG file is truncated.")
            return
        pos += 1 + seg_len


def _png_chunks_exif(data: bytes) -> bytes | None:
    # A full chunk walk (headers only, no inflating) both finds eXIf wherever it is --
    # Pillow only sees it at open() when it precedes IDAT -- and proves the file is
    # complete up to IEND.
    n = len(data)
    pos = 8
    exif = None
    while pos + 8 <= n:
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > n:
            break
        if ctype == b"eXIf" and exif is None:
            exif = data[pos + 8:pos + 8 + length]
        elif ctype == b"IEND":
            return exif
        pos = end
    raise _corrupt("The PNG file is truncated.")


def _check_webp_complete(data: bytes) -> None:
    riff_size = struct.unpack("<I", data[4:8])[0]
    if len(data) < 8 + riff_size or riff_size < 4:
        raise _corrupt("The WebP file is truncated.")


def _open_pil(kind: str, data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Our own max_pixels check is the policy, and malformed EXIF in user files is
            # routine: Pillow's bomb and "corrupt EXIF" warnings are noise here.
            warnings.simplefilter("ignore")
            # formats= pins the decoder to the sniffed type so a polyglot cannot steer
            # Pillow to some other plugin.
            return Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[kind]])
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except Exception as exc:
        log.info("photo header unreadable (%s): %s", kind, exc)
        raise _corrupt() from None


def _read_header(kind: str, data: bytes) -> _Header:
    if kind == "heic":
        return _read_heif_header(data)
    if kind == "jpeg":
        _check_jpeg_complete(data)
    elif kind == "webp":
        _check_webp_complete(data)
    png_exif = _png_chunks_exif(data) if kind == "png" else None
    im = _open_pil(kind, data)
    width, height = im.size
    exif = png_exif if kind == "png" else im.info.get("exif")
    return _Header(width, height, exif or None, im.info.get("icc_profile") or None, pil=im)


def _read_heif_header(data: bytes) -> _Header:
    if pillow_heif is None:
        raise _unsupported("HEIC photos are not supported on this server.")
    try:
        # remove_stride gives rows packed back to back, as libvips' new_from_memory needs.
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True, remove_stride=True)
        width, height = heif.size
        info = heif.info
    except Exception as exc:
        log.info("HEIF header unreadable: %s", exc)
        raise _corrupt() from None
    return _Header(width, height, info.get("exif") or None, info.get("icc_profile") or None, heif=heif)


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise _corrupt("The photo has no pixels.")
    limit = max_pixels
    if Image.MAX_IMAGE_PIXELS:
        # Same threshold at which Pillow itself refuses to open, so both paths agree.
        limit = min(limit, 2 * Image.MAX_IMAGE_PIXELS)
    if width * height > limit:
        raise _too_many_pixels(width, height)


# ============================================================== EXIF: GPS and time

def _load_exif(raw: bytes | None) -> Image.Exif | None:
    if not raw:
        return None
    try:
        exif = Image.Exif()
        with warnings.catch_warnings():
            # Malformed EXIF is common and harmless here; Pillow would warn per bad tag.
            warnings.simplefilter("ignore")
            exif.load(bytes(raw))
            # get_ifd parses lazily; force it now, inside the warning filter.
            exif.get_ifd(_IFD_GPS)
            exif.get_ifd(_IFD_EXIF)
        return exif
    except Exception as exc:
        log.info("EXIF unreadable: %s", exc)
        return None


def _sub_ifd(exif: Image.Exif, tag: int) -> dict:
    try:
        return dict(exif.get_ifd(tag))
    except Exception:
        return {}


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 \t\r\n") or None


def _number(value) -> float:
    x = float(value)  # IFDRational with a zero denominator becomes nan here
    if not math.isfinite(x):
        raise ValueError("non-finite rational")
    return x


def _coordinate(value, ref, positive: str, negative: str, limit: float) -> float | None:
    try:
        parts = list(value) if isinstance(value, (tuple, list)) else [value]
        if not 1 <= len(parts) <= 3:
            return None
        nums = [_number(p) for p in parts]
        if any(p < 0 for p in nums[1:]):
            return None
        degrees = nums[0]
        for i, p in enumerate(nums[1:], start=1):
            degrees += math.copysign(p / 60 ** i, degrees) if degrees else p / 60 ** i
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    ref_text = (_text(ref) or "").upper()[:1]
    if ref_text == negative:
        degrees = -abs(degrees)
    elif ref_text == positive:
        degrees = abs(degrees)
    elif ref_text:
        return None  # a ref that is neither of ours: the block is garbage
    if abs(degrees) > limit:
        return None
    return degrees


def _gps_position(gps: dict) -> tuple[float | None, float | None]:
    if 2 not in gps or 4 not in gps:
        return None, None
    lat = _coordinate(gps.get(2), gps.get(1), "N", "S", 90.0)
    lon = _coordinate(gps.get(4), gps.get(3), "E", "W", 180.0)
    if lat is None or lon is None:
        return None, None
    if abs(lat) < 1e-9 and abs(lon) < 1e-9:
        return None, None  # "Null Island": a GPS that had no fix
    return round(lat, 7), round(lon, 7)


def _parse_exif_date(text: str | None) -> tuple[int, int, int] | None:
    if not text:
        return None
    for sep in (":", "-", "/"):
        parts = text.strip().split(sep)
        if len(parts) == 3 and all(p.strip().isdigit() for p in parts):
            y, m, d = (int(p) for p in parts)
            try:
                datetime(y, m, d)
            except ValueError:
                return None
            return y, m, d
    return None


def _gps_timestamp(gps: dict) -> datetime | None:
    date = _parse_exif_date(_text(gps.get(29)))
    stamp = gps.get(7)
    if date is None or not isinstance(stamp, (tuple, list)) or len(stamp) != 3:
        return None
    try:
        h, m, s = (_number(v) for v in stamp)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not (0 <= h < 24 and 0 <= m < 60 and 0 <= s < 61):
        return None
    return datetime(*date, tzinfo=timezone.utc) + timedelta(seconds=math.floor(h * 3600 + m * 60 + s))


def _parse_offset(text: str | None) -> timezone | None:
    # OffsetTimeOriginal is "+HH:MM" / "-HH:MM"; a few writers use "Z" or drop the colon.
    if not text:
        return None
    t = text.strip()
    if t in ("Z", "+00:00", "-00:00"):
        return timezone.utc
    if len(t) in (5, 6) and t[0] in "+-":
        digits = t[1:].replace(":", "")
        if len(digits) == 4 and digits.isdigit():
            hours, minutes = int(digits[:2]), int(digits[2:])
            if hours <= 14 and minutes < 60:
                delta = timedelta(hours=hours, minutes=minutes)
                return timezone(-delta if t[0] == "-" else delta)
    return None


def _original_timestamp(exif_ifd: dict) -> datetime | None:
    text = _text(exif_ifd.get(_TAG_DATETIME_ORIGINAL))
    if not text or len(text) < 19:
        return None
    date = _parse_exif_date(text[:10])
    clock = text[11:19].split(":")
    if date is None or len(clock) != 3 or not all(c.isdigit() for c in clock):
        return None
    try:
        naive = datetime(*date, *(int(c) for c in clock))
    except ValueError:
        return None
    tz = _parse_offset(_text(exif_ifd.get(_TAG_OFFSET_TIME_ORIGINAL)))
    # Without an offset the camera clock is assumed to be on local (Vietnam) time.
    return naive.replace(tzinfo=tz or LOCAL_TZ).astimezone(timezone.utc)


@dataclass(frozen=True)
class PhotoMetadata:
    lat: float | None
    lon: float | None
    taken_at: datetime | None
    orientation: int


def read_metadata(exif_raw: bytes | None) -> PhotoMetadata:
    """GPS position, capture time (UTC) and orientation from a raw EXIF block.

    Never raises: anything unreadable is simply absent."""
    exif = _load_exif(exif_raw)
    if exif is None:
        return PhotoMetadata(None, None, None, 1)
    try:
        orientation = int(exif.get(_TAG_ORIENTATION, 1))
    except (TypeError, ValueError):
        orientation = 1
    if not 1 <= orientation <= 8:
        orientation = 1
    gps = _sub_ifd(exif, _IFD_GPS)
    lat, lon = _gps_position(gps)
    taken_at = _gps_timestamp(gps) or _original_timestamp(_sub_ifd(exif, _IFD_EXIF))
    return PhotoMetadata(lat, lon, taken_at, orientation)


# ============================================================== colour helpers

def _is_srgb_profile(icc: bytes | None) -> bool:
    if not icc:
        return True
    try:
        from PIL import ImageCms

        desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except Exception:
        return False
    return "srgb" in desc.lower().replace(" ", "")


def _fit(width: int, height: int, side: int) -> tuple[int, int]:
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


# ============================================================== libvips path

if _pyvips is not None:
    # Uploads are all different: caching operations only pins their buffers in memory.
    _pyvips.cache_set_max(0)
    # Loaders libvips marks untrusted (ImageMagick, matio, ...) must never see user bytes.
    _pyvips.block_untrusted_set(True)
    _VIPS_SAVE = {"Q": JPEG_QUALITY, "optimize_coding": False, "interlace": False}
    if "keep" in _pyvips.Introspect.get("jpegsave_buffer").optional_input:
        _VIPS_SAVE["keep"] = "none"  # libvips >= 8.15: drops EXIF, XMP, IPTC, ICC, comments
    else:  # pragma: no cover - older libvips
        _VIPS_SAVE["strip"] = True


def _vips_to_srgb8(img):
    """Any band layout/depth -> 3-band 8-bit sRGB, alpha flattened onto white."""
    if img.interpretation not in ("srgb",) or img.format != "uchar":
        img = img.colourspace("srgb")
    if img.hasalpha():
        img = img.flatten(background=list(_WHITE))
    if img.bands > 3:
        img = img.extract_band(0, n=3)
    if img.format != "uchar":
        img = img.cast("uchar")
    return img


def _vips_orient(img, orientation: int):
    if orientation == 1:
        return img
    tagged = img.copy()
    tagged.set_type(_pyvips.GValue.gint_type, "orientation", orientation)
    return tagged.autorot()


def _vips_encode(img, thumb_side: int, orientation: int = 1) -> tuple[bytes, bytes, int, int]:
    img = _vips_to_srgb8(img)
    if orientation == 1:
        # Encoding straight from the lazy pipeline lets libjpeg compress finished strips
        # while the source is still being decoded; materialising first would serialise it.
        display = img.jpegsave_buffer(**_VIPS_SAVE)
        return display, _vips_thumb_from_jpeg(display, thumb_side), img.width, img.height
    # A rotation needs the whole (already shrunk) image in memory anyway. Once it is
    # there, the display encode and the thumbnail are independent: run them on two cores
    # (pyvips releases the GIL inside libvips), rotating each on the fly.
    flat = img.copy_memory()
    # Shrink before rotating: thumbnail_image reading through a lazy rot90 is ~3x slower.
    tw, th = _fit(flat.width, flat.height, thumb_side)
    thumb_job = _thumb_pool().submit(
        lambda: _vips_orient(_vips_resize_to(flat, tw, th), orientation).jpegsave_buffer(**_VIPS_SAVE))
    upright = _vips_orient(flat, orientation)
    display = upright.jpegsave_buffer(**_VIPS_SAVE)
    return display, thumb_job.result(), upright.width, upright.height


_POOL = None
_POOL_LOCK = threading.Lock()


def _thumb_pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="photo-thumb")
    return _POOL


def _vips_resize_to(img, width: int, height: int):
    if (img.width, img.height) == (width, height):
        return img
    # "force" pins the exact size computed by _fit, so both back-ends round alike.
    return img.thumbnail_image(width, height=height, size="force", no_rotate=True)


def _vips_thumb_from_jpeg(display: bytes, thumb_side: int) -> bytes:
    # The display JPEG is small, and libjpeg can decode it at 1/2..1/8 scale for nearly
    # free, so the original is never decoded twice. Keep >= 1.5x for the LANCZOS pass.
    head = _pyvips.Image.new_from_buffer(display, "", access="sequential")
    tw, th = _fit(head.width, head.height, thumb_side)
    longest = max(head.width, head.height)
    shrink = next((s for s in (8, 4, 2) if longest / s >= 1.5 * thumb_side), 1)
    small = _pyvips.Image.jpegload_buffer(display, shrink=shrink, access="sequential")
    return _vips_resize_to(small, tw, th).jpegsave_buffer(**_VIPS_SAVE)


# libvips rotation, then flip, that make a stored image upright, per EXIF orientation.
_ORIENT_OPS = {1: ("d0", None), 2: ("d0", "horizontal"), 3: ("d180", None),
               4: ("d0", "vertical"), 5: ("d90", "horizontal"), 6: ("d90", None),
               7: ("d90", "vertical"), 8: ("d270", None)}
_LANCZOS = "lanczos3"  # vips_resize's default kernel, the one thumbnail_buffer used


def _vips_upright(img, orientation: int):
    rot, flip = _ORIENT_OPS[orientation]
    if rot != "d0":
        img = img.rot(rot)
    return img.flip(flip) if flip else img


def _jpeg_preshrink(shrink: float) -> int:
    # libvips' own shrink-on-load rule: block-shrink in the DCT, but leave at least 2x
    # for the lanczos pass so the result is not sharpened/aliased by the block average.
    return next((k for k in (8, 4, 2) if shrink >= 2 * k), 1)


def _turbo_derivatives(data: bytes, hdr: _Header, orientation: int, max_pixels: int,
                       max_side: int, thumb_side: int) -> tuple[bytes, bytes, int, int] | None:
    """YCbCr JPEGs: libjpeg-turbo decodes, libvips resizes and encodes.

    libjpeg-turbo 3.1 (simplejpeg) decodes a 12 MP photo in ~38 ms where the mozjpeg in
    the libvips wheel takes ~50 ms, with the same accurate IDCT and fancy upsampling, so
    the display is the one thumbnail_buffer made (byte for byte on every photo tried).
    That decode is a single call on one core, though, so two things happen meanwhile on
    the other one: when the photo is shrunk, the thumbnail is made from a DCT-domain
    1/2..1/8 decode of the same file (where shrinking the display afterwards put ~8 ms on
    the critical path); and with a non-sRGB profile, the ICC transform is set up (lcms
    spends ~2.5 ms precomputing it) on an image over the buffer being decoded into. The
    fast DCT and fast upsampling modes would save only another ~2 ms and change the
    display, so they are not used.

    Returns None to hand the file to the plain libvips path: anything libjpeg-turbo so
    much as warns about (that path then decides whether it is corrupt, exactly as
    before), non-YCbCr colour (grey, CMYK, YCCK), and reductions of 4x or more, where
    libvips' shrink-on-load decodes at 1/2..1/8 scale and beats any full-size decode."""
    try:
        height, width, colourspace, _ = _simplejpeg.decode_jpeg_header(data)
    except ValueError:
        return None
    if colourspace != "YCbCr":
        return None
    _check_pixels(width, height, max_pixels)
    # thumbnail_buffer's scale for size="down": one factor for both axes, never < 1.
    shrink = max(1.0, width / max_side, height / max_side)
    if shrink >= 4:
        return None
    icc = hdr.icc if hdr.icc and not _is_srgb_profile(hdr.icc) else None
    rot = _ORIENT_OPS[orientation][0]
    transposed = rot in ("d90", "d270")
    # vips_resize's output size for this scale, rounding halves up as it does (the tests
    # hold this to libvips), so the thumbnail can be sized before the display exists.
    disp_w, disp_h = max(1, int(width / shrink + 0.5)), max(1, int(height / shrink + 0.5))
    if transposed:
        disp_w, disp_h = disp_h, disp_w
    tw, th = _fit(disp_w, disp_h, thumb_side)

    rgb = _numpy.empty((height, width, 3), _numpy.uint8)
    # Nothing reads these pixels before the decode below has filled them: libvips only
    # touches pixels when an image is written out or copied to memory.
    img = _vips_from_rgb(rgb, icc)

    def display_pipeline():
        if shrink == 1:
            disp = img
        elif shrink < 2:
            disp = _reduce_upright(img, shrink, orientation)
        else:
            # Big enough for vips_resize to box-shrink first: the very call that
            # thumbnail_buffer made after its load.
            disp = img.thumbnail_image(max_side, height=max_side, size="down", no_rotate=True)
            if orientation != 1:
                disp = disp.copy_memory()
        if icc:
            # After the shrink, as thumbnail_buffer did: a quarter of the pixels to convert.
            disp = disp.icc_transform("srgb", embedded=True)
        return disp if 1 < shrink < 2 else _vips_upright(disp, orientation)

    def thumb() -> bytes:
        # In the stored (unrotated) axes, from a decode at libvips' shrink-on-load scale.
        ttw, tth = (th, tw) if transposed else (tw, th)
        k = _jpeg_preshrink(min(width / ttw, height / tth))
        # min_* select libjpeg's 1/k scale exactly: the smallest one that is not smaller.
        small = _simplejpeg.decode_jpeg(data, "RGB", strict=True,
                                        min_width=-(-width // k), min_height=-(-height // k))
        small = _vips_resize_to(_vips_from_rgb(small, icc), ttw, tth)
        if icc:
            small = small.icc_transform("srgb", embedded=True)
        return _vips_upright(small, orientation).jpegsave_buffer(**_VIPS_SAVE)

    pool = _thumb_pool()
    thumb_job = pool.submit(thumb) if shrink > 1 else None
    # A pipeline that reads the full-size pixels lazily can be built before they exist;
    # worth a thread when it includes the ICC transform, whose setup is the slow part.
    lazy = shrink == 1 or (shrink < 2 and not transposed and rot != "d180") or orientation == 1
    early = pool.submit(display_pipeline) if icc and lazy else None
    try:
        try:
            # strict: libjpeg's "corrupt data" warnings raise instead of leaving grey blocks.
            _simplejpeg.decode_jpeg(data, "RGB", strict=True, buffer=rgb)
        except ValueError as exc:
            log.info("libjpeg-turbo declined the JPEG (%s); trying libvips", exc)
            return None
        disp = _outcome(early, display_pipeline) if early else display_pipeline()
        if thumb_job is None:
            # Not shrunk: the decode was short, with no window to hide a second one in.
            # Make the thumbnail from the display pixels while libjpeg compresses them.
            if icc or orientation != 1:
                disp = disp.copy_memory()  # computed once, not by both readers
            src = disp

            def make_thumb():
                return _vips_resize_to(src, tw, th).jpegsave_buffer(**_VIPS_SAVE)

            thumb_job = pool.submit(make_thumb)
        else:
            make_thumb = thumb
        display = disp.jpegsave_buffer(**_VIPS_SAVE)
        try:
            thumbnail = _outcome(thumb_job, make_thumb)
        except ValueError:  # libjpeg-turbo warned on its second pass over the file
            return None
        if (disp.width, disp.height) != (disp_w, disp_h):
            # Never seen; if libvips ever rounds differently, size the thumbnail by the
            # display that was actually made, as before.
            log.warning("display %dx%d, predicted %dx%d", disp.width, disp.height, disp_w, disp_h)
            thumbnail = _vips_thumb_from_jpeg(display, thumb_side)
        return display, thumbnail, disp.width, disp.height
    finally:
        for job in (thumb_job, early):
            if job is not None:
                job.cancel()  # a no-op once running; spares a queued one not wanted now


def _outcome(job, fn):
    # A job still queued behind other uploads' work is done here rather than waited for.
    return fn() if job.cancel() else job.result()


def _vips_from_rgb(rgb, icc: bytes | None):
    img = _pyvips.Image.new_from_memory(rgb.data, rgb.shape[1], rgb.shape[0], 3, "uchar")
    img = img.copy(interpretation="srgb")
    if icc:
        img.set_type(_pyvips.GValue.blob_type, "icc-profile-data", icc)
    return img


def _reduce_upright(img, shrink: float, orientation: int):
    # libvips' vertical lanczos pass is ~3x faster than its horizontal one (7 vs 22 ms on
    # 12 MP here), and a portrait photo needs a quarter turn anyway: reduce vertically,
    # turn, and reduce "vertically" again.
    rot, flip = _ORIENT_OPS[orientation]
    # The factor vips_resize passes on for thumbnail's scale of 1/shrink. With it, and the
    # passes in vips_resize's order, the pixels are thumbnail_image's: bit for bit on
    # photos; on synthetic noise reducev and reduceh can round a level or two apart.
    factor = 1.0 / (1.0 / shrink)
    half = img.reducev(factor, kernel=_LANCZOS)
    if rot in ("d90", "d270"):
        # rot90 reads tall column strips: pulled through the lazy vertical pass, those
        # would be recomputed strip by strip.
        half = half.copy_memory()
        # Always a clockwise turn, so the second pass walks the original columns left to
        # right as reduceh does; walking them from the right edge rounds differently. A
        # 270-degree orientation gets the other half turn at the end.
        disp = half.rot90().reducev(factor, kernel=_LANCZOS)
        if rot == "d270":
            disp = disp.rot180()
    else:
        # Turning twice costs more than the slow horizontal pass saves.
        disp = half.reduceh(factor, kernel=_LANCZOS)
        if rot != "d0":
            disp = disp.copy_memory().rot(rot)
    return disp.flip(flip) if flip else disp


def _vips_derivatives(kind: str, data: bytes, hdr: _Header, orientation: int, max_pixels: int,
                      max_side: int, thumb_side: int) -> tuple[bytes, bytes, int, int]:
    pv = _pyvips
    if kind == "jpeg" and _simplejpeg is not None:
        fast = _turbo_derivatives(data, hdr, orientation, max_pixels, max_side, thumb_side)
        if fast is not None:
            return fast
    # libvips reads the header on its own; check its idea of the size too, since the
    # decode below trusts libvips, not Pillow.
    head = pv.Image.new_from_buffer(data, "", access="sequential")
    loader = head.get("vips-loader") if head.get_typeof("vips-loader") else ""
    if not loader.startswith(_VIPS_LOADER[kind]):
        raise _corrupt()
    _check_pixels(head.width, head.height, max_pixels)
    kwargs = {"height": max_side, "size": "down",
              # Orientation is applied by us after the shrink (same EXIF parse as the
              # Pillow path, and cheaper to fuse with the encode).
              "no_rotate": True,
              # fail_on given as a thumbnail argument is not forwarded to the loader in
              # libvips 8.18; the load option string is.
              "option_string": "fail_on=error"}
    if hdr.icc and not _is_srgb_profile(hdr.icc):
        kwargs["export_profile"] = "srgb"
    img = pv.Image.thumbnail_buffer(data, max_side, **kwargs)
    return _vips_encode(img, thumb_side, orientation)


def _vips_from_pil(im: Image.Image):
    bands = len(im.getbands())
    img = _pyvips.Image.new_from_memory(im.tobytes(), im.width, im.height, bands, "uchar")
    return img.copy(interpretation="b-w" if bands <= 2 else "srgb")


# ============================================================== Pillow path

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _pil_prepare_mode(im: Image.Image) -> Image.Image:
    """Bring decoded pixels into a mode that Pillow resamples properly (not P/1/I)."""
    if im.mode in ("P", "PA"):
        has_alpha = im.mode == "PA" or "transparency" in im.info
        return im.convert("RGBA" if has_alpha else "RGB")
    if im.mode == "1":
        return im.convert("L")
    if im.mode.startswith("I;16") or im.mode == "I":
        # convert("L") would clip 16-bit values instead of scaling them.
        return im.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    if im.mode == "F":
        return im.convert("L")
    return im


def _pil_to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    if im.mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        im = flat
    if icc and not _is_srgb_profile(icc):
        try:
            from PIL import ImageCms

            im = ImageCms.profileToProfile(im, ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                           ImageCms.createProfile("sRGB"), outputMode="RGB")
        except Exception as exc:  # profile/mode mismatch: plain conversion is the best effort
            log.info("ICC conversion skipped: %s", exc)
    if im.mode != "RGB":
        im = im.convert("RGB")
    return im


def _pil_resize(im: Image.Image, side: int) -> Image.Image:
    size = _fit(im.width, im.height, side)
    if size == im.size:
        return im
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _pil_jpeg(im: Image.Image) -> bytes:
    im.info = {}  # belt and braces: nothing from the source may ride along
    out = io.BytesIO()
    im.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _pil_encode(im: Image.Image, thumb_side: int) -> tuple[bytes, bytes, int, int]:
    display = _pil_jpeg(im)
    thumb = _pil_jpeg(_pil_resize(im, thumb_side))
    return display, thumb, im.width, im.height


def _pil_derivatives(kind: str, hdr: _Header, orientation: int,
                     max_side: int, thumb_side: int) -> tuple[bytes, bytes, int, int]:
    im = hdr.pil
    if kind == "jpeg":
        # DCT-domain downscale, only when it still leaves >= 2x for the LANCZOS pass.
        im.draft("RGB" if im.mode == "RGB" else None, (2 * max_side, 2 * max_side))
    im.load()
    im = _pil_prepare_mode(im)
    im = _pil_resize(im, max_side)
    im = _pil_to_srgb(im, hdr.icc)
    if orientation in _TRANSPOSE:
        im = im.transpose(_TRANSPOSE[orientation])
    return _pil_encode(im, thumb_side)


# ============================================================== HEIC

def _heif_derivatives(hdr: _Header, max_side: int, thumb_side: int) -> tuple[bytes, bytes, int, int]:
    heif = hdr.heif
    # libheif applies the container's irot/imir transforms while decoding and pillow-heif
    # resets EXIF Orientation to 1, so no further rotation is wanted here.
    raw = heif.data
    mode = heif.mode
    if mode not in ("RGB", "RGBA", "L", "LA"):
        raise _corrupt("Unsupported HEIF pixel layout.")
    im = Image.frombuffer(mode, heif.size, raw, "raw", mode, heif.stride, 1)
    if _pyvips is not None:
        img = _vips_from_pil(im)
        if hdr.icc and not _is_srgb_profile(hdr.icc):
            img = img.copy()
            img.set_type(_pyvips.GValue.blob_type, "icc-profile-data", hdr.icc)
            img = img.thumbnail_image(max_side, height=max_side, size="down", export_profile="srgb")
        else:
            img = img.thumbnail_image(max_side, height=max_side, size="down")
        return _vips_encode(img, thumb_side)
    im = _pil_resize(im, max_side)
    im = _pil_to_srgb(im, hdr.icc)
    return _pil_encode(im, thumb_side)


# ============================================================== entry point

def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def process_photo(data: bytes, *, max_pixels: int = 40_000_000, max_side: int = 2048,
                  thumb_side: int = 320) -> ProcessedPhoto:
    """Validate ``data`` and build the display and thumbnail JPEGs (see module doc)."""
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    # hashlib drops the GIL on large inputs: the ~1 ms a 2 MB upload takes overlaps the
    # header work and the decode instead of preceding them.
    digest_job = _thumb_pool().submit(_sha256_hex, data)
    kind = sniff_type(data)
    if kind is None:
        if not data:
            raise _unsupported("The file is empty.")
        raise _unsupported("Only JPEG, PNG, WebP and HEIC/HEIF photos are accepted.")

    hdr = _read_header(kind, data)
    _check_pixels(hdr.width, hdr.height, max_pixels)
    meta = read_metadata(hdr.exif)

    try:
        if kind == "heic":
            display, thumb, width, height = _heif_derivatives(hdr, max_side, thumb_side)
        elif _pyvips is not None:
            display, thumb, width, height = _vips_derivatives(
                kind, data, hdr, meta.orientation, max_pixels, max_side, thumb_side)
        else:
            display, thumb, width, height = _pil_derivatives(
                kind, hdr, meta.orientation, max_side, thumb_side)
    except PhotoRejected:
        raise
    except Image.DecompressionBombError:
        raise _too_many_pixels(hdr.width, hdr.height) from None
    except Exception as exc:  # every decoder failure of user bytes is "corrupt"
        log.info("photo decode failed (%s): %s: %s", kind, type(exc).__name__, exc)
        raise _corrupt() from None
    finally:
        if hdr.pil is not None:
            hdr.pil.close()

    return ProcessedPhoto(
        sha256=_outcome(digest_job, lambda: _sha256_hex(data)),
        source_type=kind,
        width=width,
        height=height,
        lat=meta.lat,
        lon=meta.lon,
        taken_at=meta.taken_at,
        display=display,
        thumb=thumb,
    )
