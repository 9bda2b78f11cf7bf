"""Photo blob storage: local directory (atomic writes) and S3 against a loopback moto server."""
from __future__ import annotations

import os
import socket
import threading
import uuid

import pytest

from api.photos import storage as storage_mod
from api.photos.storage import LocalStorage, PhotoStorage, S3Storage, check_key, storage_from_url

KEY = "ab/cd/" + "ab" * 32 + "_display.jpg"
THUMB_KEY = "ab/cd/" + "ab" * 32 + "_thumb.jpg"


# ------------------------------------------------------------------ keys

@pytest.mark.parametrize("key", ["", "/abs/x.jpg", "../x.jpg", "a/../b.jpg", "a//b.jpg",
                                 "a/./b.jpg", "a\\b.jpg", "a/b.jpg\x00", ".hidden", "a/b/"])
def test_bad_keys_rejected(key, tmp_path):
    with pytest.raises(ValueError):
        check_key(key)
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).put(key, b"x", "image/jpeg")


def test_good_keys_accepted():
    assert check_key(KEY) == KEY
    assert check_key("x.jpg") == "x.jpg"


# ------------------------------------------------------------------ local

def test_local_put_get_exists(tmp_path):
    store = LocalStorage(tmp_path / "media")
    assert isinstance(store, PhotoStorage)
    assert not store.exists(KEY)
    assert store.get(KEY) is None
    store.put(KEY, b"jpeg bytes", "image/jpeg")
    assert store.exists(KEY)
    assert store.get(KEY) == b"jpeg bytes"
    path = tmp_path / "media" / "ab" / "cd" / ("ab" * 32 + "_display.jpg")
    assert path.read_bytes() == b"jpeg bytes"
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_local_put_is_idempotent_and_leaves_no_temp_files(tmp_path):
    store = LocalStorage(tmp_path)
    for _ in range(3):
        store.put(KEY, b"same", "image/jpeg")
    store.put(THUMB_KEY, b"thumb", "image/jpeg")
    files = sorted(p.name for p in (tmp_path / "ab" / "cd").iterdir())
    assert files == ["ab" * 32 + "_display.jpg", "ab" * 32 + "_thumb.jpg"]
    assert store.get(KEY) == b"same"


def test_local_failed_write_keeps_old_file_and_cleans_up(tmp_path, monkeypatch):
    store = LocalStorage(tmp_path)
    store.put(KEY, b"old complete file", "image/jpeg")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(storage_mod.os, "replace", boom)
    with pytest.raises(OSError):
        store.put(KEY, b"new file", "image/jpeg")
    monkeypatch.undo()
    assert store.get(KEY) == b"old complete file"
    assert [p.name for p in (tmp_path / "ab" / "cd").iterdir()] == ["ab" * 32 + "_display.jpg"]


def test_local_readers_never_see_partial_files(tmp_path):
    store = LocalStorage(tmp_path)
    payloads = [bytes([i]) * 300_000 for i in range(1, 6)]
    store.put(KEY, payloads[0], "image/jpeg")
    stop = threading.Event()
    seen_bad = []

    def reader():
        while not stop.is_set():
            data = store.get(KEY)
            if data not in payloads:
                seen_bad.append(len(data or b""))

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for _ in range(10):
        for p in payloads:
            store.put(KEY, p, "image/jpeg")
    stop.set()
    for t in threads:
        t.join()
    assert not seen_bad


def test_local_concurrent_writers(tmp_path):
    store = LocalStorage(tmp_path)
    data = os.urandom(100_000)
    threads = [threading.Thread(target=store.put, args=(KEY, data, "image/jpeg")) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get(KEY) == data
    assert len(list((tmp_path / "ab" / "cd").iterdir())) == 1


# ------------------------------------------------------------------ URLs

def test_storage_from_url_local_forms(tmp_path):
    a = storage_from_url(f"file://{tmp_path}/a")
    b = storage_from_url(str(tmp_path / "b"))
    c = storage_from_url(f"file://localhost{tmp_path}/c%20d")
    assert isinstance(a, LocalStorage) and a.root == (tmp_path / "a").resolve()
    assert isinstance(b, LocalStorage) and b.root == (tmp_path / "b").resolve()
    assert isinstance(c, LocalStorage) and c.root == (tmp_path / "c d").resolve()


@pytest.mark.parametrize("url", ["", "   ", "ftp://host/x", "file://otherhost/x", "file:relative",
                                 "s3://bucket/p?secret_key=x"])
def test_storage_from_url_rejects(url):
    with pytest.raises(ValueError):
        storage_from_url(url)


def test_storage_from_url_s3_parses_without_network(monkeypatch):
    pytest.importorskip("boto3")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    store = storage_from_url("s3://photos/media/prod/?endpoint_url=http://127.0.0.1:9000&region=ap-southeast-1")
    assert isinstance(store, S3Storage)
    assert store.bucket == "photos"
    assert store.prefix == "media/prod/"
    assert store.endpoint_url == "http://127.0.0.1:9000"
    assert store._client.meta.region_name == "ap-southeast-1"
    assert storage_from_url("s3://photos").prefix == ""


# ------------------------------------------------------------------ S3 (moto server on loopback)

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint():
    server_mod = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    port = _free_port()
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_env(monkeypatch, moto_endpoint):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    import boto3

    bucket = f"photos-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return moto_endpoint, bucket, client


def test_s3_put_get_exists(s3_env):
    endpoint, bucket, client = s3_env
    store = S3Storage(bucket, endpoint_url=endpoint, region="us-east-1",
                      access_key="testing", secret_key="testing", prefix="/media/")
    assert isinstance(store, PhotoStorage)
    assert not store.exists(KEY)
    assert store.get(KEY) is None
    store.put(KEY, b"\xff\xd8jpeg", "image/jpeg")
    store.put(KEY, b"\xff\xd8jpeg", "image/jpeg")  # idempotent
    assert store.exists(KEY)
    assert store.get(KEY) == b"\xff\xd8jpeg"
    head = client.head_object(Bucket=bucket, Key="media/" + KEY)
    assert head["ContentType"] == "image/jpeg"
    assert "immutable" in head["CacheControl"]
    with pytest.raises(ValueError):
        store.put("../escape.jpg", b"x", "image/jpeg")


def test_s3_from_url_uses_env_credentials(s3_env):
    endpoint, bucket, client = s3_env
    store = storage_from_url(f"s3://{bucket}?endpoint_url={endpoint}&region=us-east-1")
    store.put(THUMB_KEY, b"thumb", "image/jpeg")
    assert store.exists(THUMB_KEY)
    assert client.get_object(Bucket=bucket, Key=THUMB_KEY)["Body"].read() == b"thumb"


def test_s3_missing_bucket_is_an_error_not_a_miss(s3_env):
    endpoint, _, _ = s3_env
    store = S3Storage("no-such-bucket-xyz", endpoint_url=endpoint, region="us-east-1",
                      access_key="testing", secret_key="testing")
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        store.put(KEY, b"x", "image/jpeg")
