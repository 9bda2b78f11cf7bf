"""Security headers on every response (api/security/headers.py)."""
from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from flask import Flask, Response

from api.config import Config
from api.security.headers import HSTS, content_security_policy, install_security_headers

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _base(response):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # test mode: no HSTS


@pytest.mark.parametrize("path,status", [
    ("/healthz", 200), ("/api/v1/categories", 200), ("/api/v1/no-such-route", 404),
    ("/api/v1/staff/reports/queue", 401), ("/openapi.json", 200)])
def test_json_answers_carry_the_headers_and_no_csp(client, path, status):
    r = client.get(path)
    assert r.status_code == status
    _base(r)
    assert "Content-Security-Policy" not in r.headers  # JSON is not rendered by browsers


def test_the_ioc_wall_keeps_its_own_policy(client):
    from api.ioc.wall import CONTENT_SECURITY_POLICY
    r = client.get("/ioc")
    assert r.status_code == 200
    assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_swagger_ui_gets_a_policy_that_allows_exactly_its_inline_script(client):
    r = client.get("/docs")
    assert r.status_code == 200 and r.mimetype == "text/html"
    _base(r)
    csp = r.headers["Content-Security-Policy"]
    html = r.get_data(as_text=True)
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == f"'self' 'sha256-{digest}'"
    assert "unsafe-inline" not in csp
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    # The assets it loads are ours: same origin, no CDN.
    assert "/docs/assets/swagger-ui-bundle.js" in html
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_hsts_in_production_only(app, client, monkeypatch):
    monkeypatch.setattr(app.config["APP"], "APP_ENV", "production")
    r = client.get("/healthz")
    assert r.headers["Strict-Transport-Security"] == HSTS


def _tiny_app() -> Flask:
    app = Flask(__name__)
    app.config["APP"] = Config(APP_ENV="test")
    install_security_headers(app)

    @app.get("/own")
    def own():
        return Response("<p>x</p>", mimetype="text/html", headers={
            "Content-Security-Policy": "default-src 'none'", "X-Frame-Options": "SAMEORIGIN",
            "Referrer-Policy": "same-origin"})

    @app.get("/styled")
    def styled():
        return Response("<style>p{color:red}</style><script src='/a.js'></script><p>x</p>",
                        mimetype="text/html")

    @app.get("/streamed")
    def streamed():
        return Response((s for s in ("<p>", "x", "</p>")), mimetype="text/html")
    return app


def test_headers_a_view_sets_itself_are_kept():
    r = _tiny_app().test_client().get("/own")
    assert r.headers["Content-Security-Policy"] == "default-src 'none'"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_inline_styles_are_hashed_and_external_scripts_are_not():
    r = _tiny_app().test_client().get("/styled")
    digest = base64.b64encode(hashlib.sha256(b"p{color:red}").digest()).decode()
    csp = r.headers["Content-Security-Policy"]
    assert f"style-src 'self' 'sha256-{digest}'" in csp
    assert "script-src 'self';" in csp


def test_streamed_html_gets_the_default_policy_without_reading_the_body():
    r = _tiny_app().test_client().get("/streamed")
    assert r.headers["Content-Security-Policy"] == content_security_policy()
    assert r.get_data(as_text=True) == "<p>x</p>"


# --- /docs in a real browser under that policy ---------------------------------------------

@pytest.fixture()
def live_url(app):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.mark.slow
def test_swagger_ui_renders_under_the_policy_in_chromium(live_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is not installed (scripts/test.py installs Debian's chromium)")
        pytest.skip("Chromium is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page()
            violations = []
            page.on("console", lambda m: violations.append(m.text)
                    if "Content Security Policy" in m.text else None)
            page.goto(f"{live_url}/docs")
            sync_api.expect(page.locator(".swagger-ui .info .title")).to_contain_text(
                "IOC", timeout=15_000)
            assert page.locator(".opblock").count() > 10  # the operations are listed
            assert not violations, violations
        finally:
            browser.close()
