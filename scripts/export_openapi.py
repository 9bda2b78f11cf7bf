"""Write the OpenAPI document the mobile app relies on: mobile_contracts/openapi.json.

Generated from the running app's declarations, so it cannot disagree with the
code; tests/test_contract.py fails when the committed copy drifts.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "mobile_contracts" / "openapi.json"


def render(app) -> str:
    with app.app_context():
        spec = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return json.dumps(spec, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main() -> int:
    from api import create_app
    text = render(create_app())
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(text):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
