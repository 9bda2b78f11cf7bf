"""What the benchmarks share: scratch services, the app under gunicorn, a keep-alive client."""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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


class Stack:
    """Embedded PostgreSQL and Redis in a scratch directory (or DATABASE_URL/REDIS_URL),
    migrated and loaded with reference data."""

    def __init__(self) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="ioc-bench-"))
        os.environ["DATA_DIR"] = str(self.scratch)
        self.env = dict(os.environ, DATA_DIR=str(self.scratch), LOG_LEVEL="WARNING",
                        APP_ENV="demo", PYTHONPATH=str(ROOT), PUBLIC_BASE_URL="http://127.0.0.1",
                        RATE_LIMITS_ENABLED="false")  # load from one IP is the point here
        self.env["DATABASE_URL"] = services.database_url(self.scratch / "pg", "bench")
        redis, self.redis_server = services.redis_url(self.scratch / "redis")
        self.env.update(CELERY_BROKER_URL=redis, REDIS_URL=redis)
        self.children: list[subprocess.Popen] = []
        print("==> migrating and loading reference data", flush=True)
        for cmd in (["-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"],
                    ["-m", "flask", "--app", "api", "ref", "load", "--no-demo"]):
            subprocess.run([sys.executable, *cmd], cwd=ROOT, env=self.env, check=True,
                           capture_output=True)

    def spawn(self, *args: str, log: str | None = None) -> subprocess.Popen:
        out = open(self.scratch / log, "w") if log else subprocess.DEVNULL
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.children.append(proc)
        return proc

    def gunicorn(self, target: str = "api.wsgi:app") -> int:
        port = free_port()
        self.spawn("-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", WORKERS,
                   "--threads", THREADS, "--log-level", "warning", target)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return port
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{target} did not start")

    def celery_worker(self, concurrency: int = 2) -> None:
        self.spawn("-m", "celery", "-A", "workers.celery_app", "worker", "-l", "info", "-c",
                   str(concurrency), "--without-gossip", "--without-mingle", log="worker.log")
        deadline = time.monotonic() + 60
        while "ready." not in (self.scratch / "worker.log").read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise RuntimeError("worker did not start")
            time.sleep(0.2)

    @staticmethod
    def stop(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)

    def close(self) -> None:
        for proc in self.children:
            self.stop(proc)
        if self.redis_server:
            self.redis_server.stop()
        shutil.rmtree(self.scratch, ignore_errors=True)


class Client:
    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, body=None, headers=None):
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # The server closed an idle keep-alive connection: open a new one, send again.
            self.conn.close()
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


def report_json(photo_id: str, n: int, category: str = "streetlight_out") -> str:
    return json.dumps({"category": category, "description": f"Bench {n}",
                       "lat": 21.1861 + (n % 500) * 1e-5, "lon": 106.0763, "photo_ids": [photo_id]})


def percentile(sorted_values: list[float], pct: float) -> float:
    index = max(0, min(len(sorted_values) - 1, round(pct / 100 * len(sorted_values)) - 1))
    return round(sorted_values[index], 2)
