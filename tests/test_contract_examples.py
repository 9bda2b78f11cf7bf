"""Replay mobile_contracts/examples/*.json: the examples the app is built from stay true."""
import io
import json
import re
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from tests.fixtures.make_images import make_jpeg

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "mobile_contracts" / "examples").glob("*.json"))
_VAR = re.compile(r"\{\{(\w+)\}\}")


def _fill(value, saved):
    if isinstance(value, str):
        return _VAR.sub(lambda m: str(saved[m.group(1)]), value)
    if isinstance(value, list):
        return [_fill(v, saved) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, saved) for k, v in value.items()}
    return value


def _match(expected, actual, saved, where="$"):
    if isinstance(expected, dict) and "$save" in expected:
        saved[expected["$save"]] = actual
        return
    if expected == "$any":
        return
    if expected == "$string":
        assert isinstance(actual, str), where
        return
    if expected == "$number":
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), where
        return
    if expected == "$uuid":
        uuid.UUID(actual)
        return
    if expected == "$datetime":
        assert isinstance(actual, str) and actual.endswith("+07:00"), where
        datetime.fromisoformat(actual)
        return
    if isinstance(expected, str):
        expected = _fill(expected, saved)
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing"
            _match(value, actual[key], saved, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) >= len(expected), where
        for i, value in enumerate(expected):
            _match(value, actual[i], saved, f"{where}[{i}]")
    elif isinstance(expected, float) and isinstance(actual, float):
        assert actual == pytest.approx(expected, abs=1e-4), where
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def _file(spec):
    if "$jpeg" in spec:
        return io.BytesIO(make_jpeg(content="scene", **spec["$jpeg"])), "photo.jpg"
    return io.BytesIO(spec["$bytes"].encode()), "file.bin"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_replays(client, path):
    scenario = json.loads(path.read_text(encoding="utf-8"))
    # Each run gets its own device ids and keys, so replays never collide.
    suffix = uuid.uuid4().hex[:8]
    saved: dict = {}
    for step in scenario["steps"]:
        req = _fill(step["request"], saved)
        headers = {k: (f"{v}-{suffix}" if k in ("X-Device-Id", "Idempotency-Key") else v)
                   for k, v in req.get("headers", {}).items()}
        kwargs = {"headers": headers}
        if "json" in req:
            kwargs["json"] = req["json"]
        if "multipart" in req:
            kwargs["data"] = {k: _file(v) for k, v in req["multipart"].items()}
            kwargs["content_type"] = "multipart/form-data"
        response = client.open(req["path"], method=req["method"], **kwargs)
        expected = step["response"]
        assert response.status_code == expected["status"], (step["name"], response.json)
        for name, value in expected.get("headers", {}).items():
            _match(value, response.headers.get(name), saved, f"{step['name']} header {name}")
        if "json" in expected:
            _match(expected["json"], response.json, saved, step["name"])
