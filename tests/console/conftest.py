"""Fixtures for the staff console tests: the app on a loopback port for a real browser."""
from __future__ import annotations

import threading

import pytest


@pytest.fixture(scope="module")
def live_url(app):
    """The app served on 127.0.0.1 (threaded), shared by the browser tests of a module."""
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
