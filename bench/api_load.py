"""Requests/s and latency of the API on loopback, against a bare Flask ceiling.

    .venv/bin/python bench/api_load.py [--duration 10] [--connections 16] [--creations 300]

Both servers run under gunicorn with the same workers and threads on this
machine. Status reads are driven by wrk (Debian package ``wrk``); report
creation (with a pre-uploaded photo each, and an Idempotency-Key) by a Python
client with keep-alive connections, timing each request. The database is an
embedded PostgreSQL in a scratch directory unless DATABASE_URL is set.
Last line: one JSON object of the figures.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import services  # noqa: E402
from tests.fixtures.make_images import make_jpeg  # noqa: E402

WORKERS, THREADS = "2", "4"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn(target: str, port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", WORKERS,
         "--threads", THREADS, "--log-level", "warning", target],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{target} did not start")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(20)


def wrk(url: str, duration: int, connections: int) -> dict:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": round(rps, 1), "p50_ms": pct(50), "p99_ms": pct(99),
            "non_2xx": int(errors.group(1)) if errors else 0}


class Client:
    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        resp = self.conn.getresponse()
        return resp.status, resp.read()


def upload_photo(client: Client, device: str, seed: int) -> str:
    boundary = uuid.uuid4().hex
    data = make_jpeg(96, 72, lat=21.1861 + seed * 1e-5, lon=106.0763, content="scene",
                     quality=80 + seed % 15)
    data += seed.to_bytes(4, "big")  # distinct bytes → distinct photos
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    status, raw = client.request("POST", "/api/v1/photos", body, {
        "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Device-Id": device})
    assert status == 201, raw
    return json.loads(raw)["id"]


def create_reports(port: int, count: int, concurrency: int) -> dict:
    devices = [f"bench-device-{uuid.uuid4().hex[:8]}" for _ in range(concurrency)]
    per = count // concurrency
    photo_ids: list[list[str]] = []
    for i, device in enumerate(devices):
        c = Client(port)
        photo_ids.append([upload_photo(c, device, i * 10_000 + n) for n in range(per)])
    latencies: list[float] = []
    failures = []
    lock = threading.Lock()

    def worker(i: int):
        c = Client(port)
        for n, pid in enumerate(photo_ids[i]):
            body = json.dumps({"category": "streetlight_out", "description": f"Bench {i}-{n}",
                               "lat": 21.1861 + n * 1e-5, "lon": 106.0763, "photo_ids": [pid]})
            t = time.perf_counter()
            status, raw = c.request("POST", "/api/v1/reports", body, {
                "Content-Type": "application/json", "X-Device-Id": devices[i],
                "Idempotency-Key": uuid.uuid4().hex})
            elapsed = (time.perf_counter() - t) * 1000
            with lock:
                (latencies if status == 201 else failures).append(elapsed if status == 201 else raw)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {"created": len(latencies), "failed": len(failures), "concurrency": concurrency,
            "rps": round(len(latencies) / wall, 1),
            "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
            "max_ms": round(latencies[-1], 2)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--creations", type=int, default=400)
    parser.add_argument("--creation-concurrency", type=int, default=4)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")

    scratch = Path(tempfile.mkdtemp(prefix="ioc-bench-"))
    env = dict(os.environ, DATA_DIR=str(scratch), LOG_LEVEL="WARNING", APP_ENV="demo",
               PYTHONPATH=str(ROOT), PUBLIC_BASE_URL="http://127.0.0.1")
    os.environ["DATA_DIR"] = str(scratch)
    env["DATABASE_URL"] = services.database_url(scratch / "pg", "bench")
    redis, redis_server = services.redis_url(scratch / "redis")
    env.update(CELERY_BROKER_URL=redis, REDIS_URL=redis)
    print("==> migrating and loading reference data", flush=True)
    subprocess.run([sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade",
                    "head"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "api", "ref", "load", "--no-demo"],
                   cwd=ROOT, env=env, check=True, capture_output=True)

    results: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                     "server": {"workers": int(WORKERS), "threads": int(THREADS)}}
    port = free_port()
    ours = gunicorn("api.wsgi:app", port, env)
    try:
        print("==> creating reports (pre-uploaded photo each)", flush=True)
        results["create"] = create_reports(port, args.creations, args.creation_concurrency)
        status, raw = Client(port).request("GET", "/api/v1/reports?limit=1")
        code = json.loads(raw)["items"][0]["code"]
        print(f"==> wrk GET /api/v1/reports/{code} ({args.duration}s, {args.connections} conns)",
              flush=True)
        results["status_read"] = wrk(f"http://127.0.0.1:{port}/api/v1/reports/{code}",
                                     args.duration, args.connections)
    finally:
        stop(ours)
    bare_port = free_port()
    bare = gunicorn("bench.bare_app:app", bare_port, env)
    try:
        print("==> wrk bare Flask ceiling", flush=True)
        results["ceiling"] = wrk(f"http://127.0.0.1:{bare_port}/api/v1/reports/PA-2026-000001",
                                 args.duration, args.connections)
    finally:
        stop(bare)
    if redis_server:
        redis_server.stop()
    results["status_read_pct_of_ceiling"] = round(
        100 * results["status_read"]["rps"] / results["ceiling"]["rps"], 1)

    print()
    print(f"{'':28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, key in (("GET report (ours)", "status_read"), ("GET bare Flask (ceiling)", "ceiling"),
                      ("POST report (ours)", "create")):
        r = results[key]
        print(f"{name:28}{r['rps']:>10}{r['p50_ms']:>10}{r['p99_ms']:>10}")
    print(f"status reads at {results['status_read_pct_of_ceiling']} % of the ceiling (target ≥ 50 %);"
          f" creation p99 {results['create']['p99_ms']} ms (target < 50 ms)")
    print(json.dumps(results))
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
