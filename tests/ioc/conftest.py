"""Fixtures for the IOC feed tests: a live server on loopback for browsers and SSE clients."""
from __future__ import annotations

import threading

import pytest


@pytest.fixture()
def live_url(app):
    """The app on a loopback port (threaded), for clients that need a real socket."""
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
