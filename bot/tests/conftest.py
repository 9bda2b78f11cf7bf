"""Action tests: the real actions, a real loopback HTTP server standing in for the API.

Run in the bot's environment with cwd bot/: ``.venv/bin/python -m pytest tests -q``.
"""
from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1]
if str(BOT) not in sys.path:
    sys.path.insert(0, str(BOT))

from actions import categories  # noqa: E402
from stub_api import StubApi  # noqa: E402
from support import CATEGORY_TREE  # noqa: E402


@pytest.fixture()
def api(monkeypatch):
    stub = StubApi(categories=CATEGORY_TREE)
    monkeypatch.setenv("IOC_API_URL", stub.url)
    monkeypatch.setenv("IOC_PUBLIC_URL", "https://ioc.example")
    monkeypatch.setenv("IOC_API_TIMEOUT_SECONDS", "2")
    monkeypatch.delenv("PROVINCE_HOTLINE", raising=False)
    categories.forget()
    yield stub
    categories.forget()
    stub.stop()


@pytest.fixture()
def api_down(monkeypatch):
    """An address where nothing listens: every call fails to connect."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("IOC_API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("IOC_API_TIMEOUT_SECONDS", "2")
    categories.forget()
    yield
    categories.forget()
