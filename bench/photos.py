"""Benchmark of the photo intake pipeline against simpler alternatives.

Run from the repo root:

    .venv/bin/python bench/photos.py [--runs N] [--image PATH ...]

Without --image a realistic 12-megapixel phone JPEG (4032x3024, EXIF orientation 6 and
GPS) is generated. For every image it reports, per pipeline, the median wall time over N
runs (after one warm-up) and the peak memory, measured in a fresh subprocess per pipeline
as the growth of peak RSS (VmHWM) over a baseline taken after imports and file read
(libvips, libjpeg and friends allocate with malloc outside Python, which tracemalloc
cannot see). ImageMagick runs as its own process, so its figure is that process's whole
ru_maxrss.

Pipelines:
  ours          api.photos.pipeline.process_photo (display 2048 + thumb 320, metadata read;
                JPEGs decoded by libjpeg-turbo via simplejpeg if installed, else libvips)
  naive_pillow  Image.open, exif_transpose, full decode, LANCZOS resize to 2048, save q82,
                then thumbnail 320 from the display image and save q82
  pillow_draft  as naive_pillow but with JPEG draft mode to half size first (output is then
                only half the source, e.g. 2016 px: listed for the record, not comparable)
  imagemagick   convert IN -auto-orient -strip -resize 2048x2048 -quality 82 OUT
                (display only; Debian's imagemagick, skipped if no working convert)

The last line of output is one JSON object with every figure.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PIL import Image, ImageChops, ImageOps, ImageStat  # noqa: E402

MAX_SIDE = 2048
THUMB_SIDE = 320
QUALITY = 82
PIPELINES = ("ours", "naive_pillow", "pillow_draft", "imagemagick")


# ---------------------------------------------------------------- pipelines

def _fit(size, side):
    w, h = size
    s = min(1.0, side / max(w, h))
    return max(1, round(w * s)), max(1, round(h * s))


def _save(im):
    out = io.BytesIO()
    im.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


def run_ours(data: bytes) -> tuple[bytes, bytes]:
    from api.photos.pipeline import process_photo

    p = process_photo(data, max_side=MAX_SIDE, thumb_side=THUMB_SIDE)
    return p.display, p.thumb


def run_naive(data: bytes) -> tuple[bytes, bytes]:
    im = Image.open(io.BytesIO(data))
    im = ImageOps.exif_transpose(im)
    im.load()
    if im.mode != "RGB":
        im = im.convert("RGB")
    disp = im.resize(_fit(im.size, MAX_SIDE), Image.Resampling.LANCZOS)
    display = _save(disp)
    thumb = disp.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return display, _save(thumb)


def run_draft(data: bytes) -> tuple[bytes, bytes]:
    im = Image.open(io.BytesIO(data))
    if im.format == "JPEG":
        im.draft("RGB", (im.width // 2, im.height // 2))
    im = ImageOps.exif_transpose(im)
    im.load()
    if im.mode != "RGB":
        im = im.convert("RGB")
    target = _fit(im.size, MAX_SIDE)
    disp = im if target == im.size else im.resize(target, Image.Resampling.LANCZOS)
    display = _save(disp)
    thumb = disp.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return display, _save(thumb)


def find_convert() -> tuple[str | None, str]:
    """A convert binary that really is ImageMagick (the one on PATH may be a stand-in)."""
    candidates = []
    for c in ("/usr/bin/convert", shutil.which("convert"), shutil.which("magick")):
        if c and c not in candidates:
            candidates.append(c)
    notes = []
    for c in candidates:
        try:
            out = subprocess.run([c, "-version"], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            notes.append(f"{c}: {exc}")
            continue
        first = (out.stdout or "").splitlines()[:1]
        if out.returncode == 0 and first and "ImageMagick" in first[0]:
            return c, first[0].strip()
        notes.append(f"{c}: not ImageMagick")
    return None, "; ".join(notes) or "no convert on PATH"


def convert_args(convert: str, src: str, dst: str) -> list[str]:
    return [convert, src, "-auto-orient", "-strip", "-resize", f"{MAX_SIDE}x{MAX_SIDE}",
            "-quality", str(QUALITY), dst]


def run_convert(convert: str, src: str, dst: str) -> float:
    """Run ImageMagick once; returns wall ms (process start included)."""
    t0 = time.perf_counter()
    proc = subprocess.run(convert_args(convert, src, dst), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=600)
    ms = (time.perf_counter() - t0) * 1000
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()[:300]
        raise RuntimeError(f"convert failed ({proc.returncode}): {err}")
    return ms


FUNCS = {"ours": run_ours, "naive_pillow": run_naive, "pillow_draft": run_draft}


# ---------------------------------------------------------------- memory child

def _hwm_kb() -> int:
    """Peak RSS of this process image in KB.

    /proc VmHWM belongs to the address space created by exec, whereas ru_maxrss survives
    exec on Linux: a child spawned (vfork+exec) by this big bench process would start with
    the parent's RSS as its "peak" and every delta would read 0."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def mem_child(pipeline: str, path: str) -> None:
    # Import and warm the module-level state first so the baseline includes libraries.
    import api.photos.pipeline  # noqa: F401

    data = Path(path).read_bytes()
    base = _hwm_kb()
    FUNCS[pipeline](data)
    peak = _hwm_kb()
    print(json.dumps({"delta_mb": (peak - base) / 1024, "peak_mb": peak / 1024,
                      "baseline_mb": base / 1024}))


def measure_memory(pipeline: str, path: str) -> dict | None:
    out = subprocess.run([sys.executable, __file__, "--_mem-child", pipeline, path],
                         capture_output=True, text=True, cwd=str(ROOT), timeout=600)
    if out.returncode != 0:
        print(f"  memory child for {pipeline} failed: {out.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


# A tiny launcher (python -S, no imports) forks convert so the child's ru_maxrss starts
# from the launcher's few MB instead of this process's RSS.
_CONVERT_LAUNCHER = (
    "import os,sys\n"
    "pid=os.fork()\n"
    "if pid==0:\n"
    " fd=os.open(os.devnull,os.O_WRONLY);os.dup2(fd,1);os.dup2(fd,2)\n"
    " os.execv(sys.argv[1],sys.argv[1:])\n"
    "_,st,ru=os.wait4(pid,0)\n"
    "print(os.waitstatus_to_exitcode(st),ru.ru_maxrss)\n"
)


def measure_convert_memory(args: list[str]) -> float | None:
    out = subprocess.run([sys.executable, "-S", "-c", _CONVERT_LAUNCHER, *args],
                         capture_output=True, text=True, timeout=600)
    try:
        code, maxrss = out.stdout.split()
    except ValueError:
        return None
    return int(maxrss) / 1024 if code == "0" else None


# ---------------------------------------------------------------- measurement

def psnr(a: bytes, b: bytes) -> float | None:
    ia, ib = Image.open(io.BytesIO(a)).convert("RGB"), Image.open(io.BytesIO(b)).convert("RGB")
    if ia.size != ib.size:
        return None
    diff = ImageChops.difference(ia, ib)
    sq = ImageStat.Stat(diff).rms
    mse = sum(r * r for r in sq) / len(sq)
    if mse == 0:
        return float("inf")
    import math

    return round(10 * math.log10(255 * 255 / mse), 2)


def time_fn(fn, data: bytes, runs: int) -> tuple[list[float], tuple[bytes, bytes]]:
    out = fn(data)  # warm-up: imports, libvips thread pool, lazy tables
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn(data)
        times.append((time.perf_counter() - t0) * 1000)
    return times, out


def describe(data: bytes) -> dict:
    im = Image.open(io.BytesIO(data))
    orientation = im.getexif().get(0x0112, 1)
    return {"width": im.width, "height": im.height, "format": im.format, "bytes": len(data),
            "orientation": orientation}


def bench_image(path: str, runs: int, convert: str | None, tmpdir: str) -> dict:
    data = Path(path).read_bytes()
    info = {"path": path, **describe(data), "results": {}}
    outputs = {}
    for name in ("ours", "naive_pillow", "pillow_draft"):
        times, (display, thumb) = time_fn(FUNCS[name], data, runs)
        outputs[name] = display
        d_im, t_im = Image.open(io.BytesIO(display)), Image.open(io.BytesIO(thumb))
        mem = measure_memory(name, path)
        info["results"][name] = {
            "ms": round(statistics.median(times), 1),
            "ms_min": round(min(times), 1),
            "ms_max": round(max(times), 1),
            "peak_mb": round(mem["delta_mb"], 1) if mem else None,
            "display_size": list(d_im.size),
            "display_bytes": len(display),
            "thumb_size": list(t_im.size),
            "thumb_bytes": len(thumb),
        }
    if convert:
        dst = os.path.join(tmpdir, "im_out.jpg")
        try:
            run_convert(convert, path, dst)  # warm-up (page cache, shared libs)
            rs = [run_convert(convert, path, dst) for _ in range(runs)]
            peak = measure_convert_memory(convert_args(convert, path, dst))
            out_bytes = Path(dst).read_bytes()
            outputs["imagemagick"] = out_bytes
            info["results"]["imagemagick"] = {
                "ms": round(statistics.median(rs), 1),
                "ms_min": round(min(rs), 1),
                "ms_max": round(max(rs), 1),
                "peak_mb": round(peak, 1) if peak is not None else None,
                "display_size": list(Image.open(io.BytesIO(out_bytes)).size),
                "display_bytes": len(out_bytes),
                "thumb_size": None,
                "thumb_bytes": None,
            }
        except Exception as exc:  # a broken convert must not sink the other figures
            info["results"]["imagemagick"] = {"skipped": str(exc)[:300]}
    else:
        info["results"]["imagemagick"] = {"skipped": "no working ImageMagick convert"}
    ours, naive = info["results"]["ours"], info["results"]["naive_pillow"]
    info["speedup_vs_naive"] = round(naive["ms"] / ours["ms"], 2)
    info["same_output_size"] = ours["display_size"] == naive["display_size"]
    info["psnr_ours_vs_naive_db"] = psnr(outputs["ours"], outputs["naive_pillow"])
    if "imagemagick" in outputs:
        info["psnr_imagemagick_vs_naive_db"] = psnr(outputs["imagemagick"], outputs["naive_pillow"])
    return info


def versions(convert_version: str) -> dict:
    v = {"python": platform.python_version(), "pillow": Image.__version__,
         "cpus": os.cpu_count(), "machine": platform.machine()}
    try:
        import pyvips

        v["pyvips"] = pyvips.__version__
        v["libvips"] = ".".join(str(pyvips.version(i)) for i in range(3))
    except Exception:
        v["pyvips"] = None
    try:
        import pillow_heif

        v["pillow_heif"] = pillow_heif.__version__
    except Exception:
        v["pillow_heif"] = None
    try:  # ours decodes ordinary JPEGs with it when installed, with libvips otherwise
        import simplejpeg

        v["simplejpeg"] = simplejpeg.__version__
    except Exception:
        v["simplejpeg"] = None
    v["imagemagick"] = convert_version
    return v


def print_table(all_info: list[dict], mem_note: str) -> None:
    for info in all_info:
        print(f"\n{info['name']}: {info['width']}x{info['height']} {info['format']}, "
              f"{info['bytes'] / 1e6:.2f} MB, EXIF orientation {info['orientation']}")
        print(f"  {'pipeline':<14}{'median ms':>10}{'min':>8}{'max':>8}{'peak MB':>9}"
              f"{'display':>12}{'disp KB':>9}{'thumb':>10}")
        for name in PIPELINES:
            r = info["results"].get(name)
            if r is None:
                continue
            if "skipped" in r:
                print(f"  {name:<14}skipped: {r['skipped']}")
                continue
            disp = "x".join(map(str, r["display_size"]))
            thumb = "x".join(map(str, r["thumb_size"])) if r["thumb_size"] else "-"
            peak = f"{r['peak_mb']:.1f}" if r["peak_mb"] is not None else "n/a"
            print(f"  {name:<14}{r['ms']:>10.1f}{r['ms_min']:>8.1f}{r['ms_max']:>8.1f}{peak:>9}"
                  f"{disp:>12}{r['display_bytes'] / 1024:>9.0f}{thumb:>10}")
        print(f"  speed-up of ours vs naive Pillow: {info['speedup_vs_naive']}x "
              f"(same output size: {info['same_output_size']}; "
              f"PSNR ours vs naive {info['psnr_ours_vs_naive_db']} dB)")
    print(f"\nmemory: {mem_note}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10, help="timed runs per pipeline (median reported)")
    ap.add_argument("--image", action="append", default=[],
                    help="image to benchmark (repeatable; a HEIC is first converted to a full-size "
                         "JPEG q90 with its EXIF/ICC); default: a generated 12 MP phone JPEG")
    ap.add_argument("--_mem-child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._mem_child:
        mem_child(*args._mem_child)
        return 0

    convert, convert_version = find_convert()
    with tempfile.TemporaryDirectory(prefix="photobench-") as tmpdir:
        images, names = [], []
        for src in args.image:
            head = Path(src).read_bytes()[:32]
            if head[4:8] == b"ftyp":  # HEIC: benchmark the JPEG a phone would have written
                from tests.fixtures.make_images import heic_to_jpeg

                path = os.path.join(tmpdir, Path(src).stem + "_q90.jpg")
                Path(path).write_bytes(heic_to_jpeg(Path(src).read_bytes()))
                images.append(path)
                names.append(f"{Path(src).name} as JPEG q90")
            else:
                images.append(src)
                names.append(Path(src).name)
        if not images:
            from tests.fixtures.make_images import make_phone_jpeg_12mp

            path = os.path.join(tmpdir, "generated_12mp.jpg")
            Path(path).write_bytes(make_phone_jpeg_12mp())
            images, names = [path], ["generated 12 MP phone JPEG"]
        print(f"photo pipeline bench: {args.runs} runs each, median reported; "
              f"ImageMagick: {convert or 'skipped'} ({convert_version})")
        all_info = []
        for path, name in zip(images, names):
            info = bench_image(path, args.runs, convert, tmpdir)
            info["name"] = name
            all_info.append(info)
    mem_note = ("peak MB = growth of peak RSS (/proc VmHWM) in a fresh subprocess per pipeline "
                "over a baseline taken after imports and reading the file, so C allocations "
                "(libvips, libjpeg) count; imagemagick = ru_maxrss of the whole convert process")
    print_table(all_info, mem_note)
    summary = {
        "runs": args.runs,
        "memory_method": "VmHWM (peak RSS) growth in a fresh subprocess per pipeline; "
                         "imagemagick: whole-process ru_maxrss",
        "versions": versions(convert_version),
        "speedup_vs_naive": min(i["speedup_vs_naive"] for i in all_info),
        "images": all_info,
    }
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
