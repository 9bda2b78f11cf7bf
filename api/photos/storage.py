"""Blob storage for photo derivatives: a local directory or an S3-compatible bucket.

Keys are content-hash names such as ``"ab/cd/<sha256>_display.jpg"``; the same key always
holds the same bytes, so ``put`` is idempotent and may be repeated after a crash or by a
retried job. Configure with :func:`storage_from_url`:

* ``file:///var/lib/app/media`` or a plain path -> :class:`LocalStorage`
* ``s3://bucket/optional/prefix?endpoint_url=http://127.0.0.1:9000&region=us-east-1``
  -> :class:`S3Storage` (MinIO, Ceph, R2, AWS...). Credentials are NOT taken from the URL:
  boto3's normal chain supplies them (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` env
  vars, shared config files, instance roles).
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit

# One or more path segments of safe characters; no "", ".", ".." segments, no leading "/".
_KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$")

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

# Content-addressed objects never change, so caches may keep them for good.
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"


def check_key(key: str) -> str:
    """Reject keys that could escape the storage root or collide oddly; returns the key."""
    if not isinstance(key, str) or not _KEY_RE.match(key) or ".." in key.split("/"):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


@runtime_checkable
class PhotoStorage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def exists(self, key: str) -> bool: ...


class LocalStorage:
    """Files under ``root``; each write lands whole or not at all (temp file + rename)."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path_for(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # content_type is implied by the key's extension when files are served.
        target = self.path_for(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # The temp file sits in the target's directory so os.replace is a same-filesystem
        # rename, which POSIX makes atomic: readers see the old file or the new, never half.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; a separate web server must read it
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def get(self, key: str) -> bytes | None:
        try:
            return self.path_for(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()


class S3Storage:
    """Objects in an S3 bucket (any S3-compatible server when ``endpoint_url`` is set)."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None, prefix: str = ""):
        import boto3
        from botocore.config import Config

        if not bucket:
            raise ValueError("S3 bucket name is required")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        config = Config(
            signature_version="s3v4",
            # MinIO and most self-hosted servers only do path-style bucket addressing.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        )
        session = boto3.session.Session()
        self._client = session.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )

    def __repr__(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"S3Storage(s3://{self.bucket}/{self.prefix}{where})"

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    @staticmethod
    def _is_missing(exc) -> bool:
        err = getattr(exc, "response", {}).get("Error", {})
        status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
        return err.get("Code") in ("404", "NoSuchKey", "NotFound") or status == 404

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # A single PUT is atomic on S3: the object appears complete or not at all.
        self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                ContentType=content_type, CacheControl=IMMUTABLE_CACHE_CONTROL)

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            resp = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._is_missing(exc):
                return None
            raise
        with resp["Body"] as body:
            return body.read()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._is_missing(exc):
                return False
            raise
        return True


def storage_from_url(url: str) -> PhotoStorage:
    """Build the storage named by ``url`` (see module docstring for the forms)."""
    if not url or not url.strip():
        raise ValueError("empty storage URL")
    url = url.strip()
    if not _SCHEME_RE.match(url):
        return LocalStorage(url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if not url.lower().startswith("file://") or parts.netloc not in ("", "localhost"):
            raise ValueError(f"file URL must be local: {url!r}")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise ValueError(f"file URL needs an absolute path: {url!r}")
        return LocalStorage(path)
    if scheme == "s3":
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint_url", "region", "region_name"}
        if unknown:
            raise ValueError(f"unknown s3 URL parameters: {sorted(unknown)}")
        return S3Storage(
            parts.netloc,
            endpoint_url=query.get("endpoint_url") or None,
            region=query.get("region") or query.get("region_name") or None,
            prefix=unquote(parts.path),
        )
    raise ValueError(f"unsupported storage URL scheme: {parts.scheme!r}")
