"""The mobile contract: the committed OpenAPI document matches the code, and is valid."""
import json
from pathlib import Path

from openapi_spec_validator import validate

from scripts.export_openapi import TARGET, render

ROOT = Path(__file__).resolve().parent.parent


def test_openapi_document_has_not_drifted(app):
    current = render(app)
    committed = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
    assert committed == current, "mobile_contracts/openapi.json is stale: run `make openapi`"


def test_openapi_document_is_valid(app):
    validate(json.loads(render(app)))


def test_every_error_code_is_documented():
    """Each machine code raised in api/ appears in mobile_contracts/errors.md."""
    import re
    documented = (ROOT / "mobile_contracts" / "errors.md").read_text(encoding="utf-8")
    raised = set()
    for path in (ROOT / "api").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        raised |= set(re.findall(r'ApiError\(\s*\d{3},\s*"([A-Z_]+)"', source))
        raised |= set(re.findall(r'problems\.add\([^)]*?"([A-Z][A-Z_]+)"', source, re.S))
        raised |= set(re.findall(r'render_error\(\s*\d{3},\s*"([A-Z_]+)"', source))
        raised |= set(re.findall(r'PhotoRejected\(\s*"([A-Z_]+)"', source))
    from api.errors import HTTP_CODES
    raised |= set(HTTP_CODES.values())
    missing = sorted(c for c in raised if f"`{c}`" not in documented)
    assert not missing, f"undocumented error codes: {missing}"
