"""``make test``: every test, on real services.

Without TEST_DATABASE_URL/DATABASE_URL and REDIS_URL the tests start embedded
PostgreSQL and Redis themselves. Extra arguments go to pytest.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    import pytest
    os.chdir(ROOT)
    target = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or "embedded"
    redis = os.environ.get("REDIS_URL") or "embedded"
    print(f"==> tests: PostgreSQL={_safe(target)} Redis={_safe(redis)}", flush=True)
    code = pytest.main(["-p", "no:cacheprovider", *argv])
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("!! no tests were collected", flush=True)
        return 1
    return int(code)


def _safe(url: str) -> str:
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    return url if not parts.password else url.replace(parts.password, "***")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
