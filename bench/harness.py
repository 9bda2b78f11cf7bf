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
    migrated and loaded with reference data.

    ``embedded=True`` ignores the URLs in the environment and always runs private servers,
    which can then be stopped and started again (``stop_postgres``/``start_postgres``,
    ``stop_redis``/``start_redis``): the fault suite (scripts/chaos.py) needs that."""

    def __init__(self, *, embedded: bool = False, prefix: str = "ioc-bench-") -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix=prefix))
        os.environ["DATA_DIR"] = str(self.scratch)
        if embedded:
            for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
                os.environ.pop(name, None)
        self.env = dict(os.environ, DATA_DIR=str(self.scratch), LOG_LEVEL="WARNING",
                        APP_ENV="demo", PYTHONPATH=str(ROOT), PUBLIC_BASE_URL="http://127.0.0.1",
                        RATE_LIMITS_ENABLED="false")  # load from one IP is the point here
        self.env["DATABASE_URL"] = services.database_url(self.scratch / "pg", "bench")
        self.pg_server = None if os.environ.get("DATABASE_URL") else services.embedded_postgres(
            self.scratch / "pg")
        redis, self.redis_server = services.redis_url(self.scratch / "redis")
        self.env.update(CELERY_BROKER_URL=redis, REDIS_URL=redis)
        self.children: list[subprocess.Popen] = []
        print("==> migrating and loading reference data", flush=True)
        for cmd in (["-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"],
                    ["-m", "flask", "--app", "api", "ref", "load", "--no-demo"]):
            subprocess.run([sys.executable, *cmd], cwd=ROOT, env=self.env, check=True,
                           capture_output=True)

    def spawn(self, *args: str, log: str | None = None, **env: str) -> subprocess.Popen:
        out = open(self.scratch / log, "w") if log else subprocess.DEVNULL
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=self.env | env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.children.append(proc)
        return proc

    def gunicorn(self, target: str = "api.wsgi:app", *, workers: str = WORKERS,
                 threads: str = THREADS, log: str | None = None) -> int:
        port = free_port()
        self.spawn("-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", workers,
                   "--threads", threads, "--log-level", "warning", target, log=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return port
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{target} did not start")

    def celery_worker(self, concurrency: int = 2, name: str = "worker") -> subprocess.Popen:
        """A Celery worker (node ``name@host``, log ``name.log``), once it is consuming."""
        proc = self.spawn("-m", "celery", "-A", "workers.celery_app", "worker", "-l", "info",
                          "-c", str(concurrency), "--without-gossip", "--without-mingle",
                          "-n", f"{name}@%h", log=f"{name}.log",
                          LOG_LEVEL="INFO")  # the worker logs "ready." at INFO
        deadline = time.monotonic() + 90
        while "ready." not in (self.scratch / f"{name}.log").read_text(errors="replace"):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"worker {name} did not start; see {self.scratch / name}.log")
            time.sleep(0.2)
        return proc

    def beat(self) -> subprocess.Popen:
        return self.spawn("-m", "celery", "-A", "workers.celery_app", "beat", "-l", "info",
                          "-s", str(self.scratch / "celerybeat-schedule"), log="beat.log",
                          LOG_LEVEL="INFO")

    @staticmethod
    def kill(proc: subprocess.Popen) -> None:
        """kill -9 the process and everything in its session (a worker's pool children too)."""
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    # --- stopping and starting the embedded servers (embedded=True) ----------------------

    def stop_postgres(self) -> None:
        """A fast shutdown: sessions are terminated, the server is gone until started."""
        from embedded_postgres._commands import pg_ctl
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pg_server.pgdata,
               user=self.pg_server.system_user, timeout=60)

    def start_postgres(self) -> None:
        with self.pg_server._lock:
            self.pg_server.ensure_postgres_running()

    def stop_redis(self) -> None:
        self.redis_server.stop()
        self.redis_server.process = None

    def start_redis(self) -> None:
        self.redis_server.start()

    @staticmethod
    def stop(proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(20)

    def close(self, keep: bool = False) -> None:
        for proc in self.children:
            self.stop(proc)
        if self.redis_server:
            self.redis_server.stop()
        if not keep:
            shutil.rmtree(self.scratch, ignore_errors=True)


class Client:
    def __init__(self, port: int, timeout: float = 30):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.headers: http.client.HTTPMessage | None = None  # of the last response

    def request(self, method, path, body=None, headers=None):
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # The server closed an idle keep-alive connection: open a new one, send again.
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
        self.headers = resp.headers
        return resp.status, resp.read()


def photo_upload_body(seed: int) -> tuple[bytes, dict]:
    """A distinct small JPEG as a multipart body, and its headers (without X-Device-Id)."""
    boundary = uuid.uuid4().hex
    data = make_jpeg(96, 72, lat=21.1861 + seed * 1e-5, lon=106.0763, content="scene",
                     quality=80 + seed % 15)
    data += seed.to_bytes(4, "big")  # distinct bytes → distinct photos
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def upload_photo(client: Client, device: str, seed: int) -> str:
    body, headers = photo_upload_body(seed)
    status, raw = client.request("POST", "/api/v1/photos", body, headers | {"X-Device-Id": device})
    assert status == 201, raw
    return json.loads(raw)["id"]


def report_json(photo_id: str, n: int, category: str = "streetlight_out") -> str:
    return json.dumps({"category": category, "description": f"Bench {n}",
                       "lat": 21.1861 + (n % 500) * 1e-5, "lon": 106.0763, "photo_ids": [photo_id]})


def percentile(sorted_values: list[float], pct: float) -> float:
    index = max(0, min(len(sorted_values) - 1, round(pct / 100 * len(sorted_values)) - 1))
    return round(sorted_values[index], 2)
