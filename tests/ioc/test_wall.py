"""The IOC wall (/ioc) in a real browser: headless Chromium driven by Playwright against the
app on a loopback port, reading the real IOC APIs and the live stream.

The data tests commit their reports in a quiet corner of the province (around 21.43 N,
106.52 E, away from the other tests' points) and delete them afterwards. Screenshots go
to the test's tmp_path and to test-artifacts/wall-*.png.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import delete, select, update

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

from tests.api.helpers import report_body, submit, upload  # noqa: E402
from tests.conftest import TEST_PASSWORD  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DISPATCHER = "dispatcher@bacninh-ioc.test"
QUIET = (21.4300, 106.5200)
DEVICE_PREFIX = "ioc-wall-test-"
WAIT_MS = 15_000
READY = ("() => { const d = document.body.dataset; return d.reports === 'ready' && "
         "d.kpis === 'ready' && d.stream === 'on' && Number(d.wards) > 0; }")


# ---------- browser ----------

@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":  # CI proves the wall: a missing browser is a failure
            pytest.fail("Chromium is not installed (scripts/test.py installs Debian's chromium)")
        pytest.skip("Chromium is not installed (scripts/test.py installs Debian's chromium)")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


class Watch:
    """What the page did: every request URL (with headers) and every console error."""

    def __init__(self, page):
        self.requests: list[tuple[str, dict]] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append((r.url, dict(r.headers))))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def assert_clean(self):
        assert self.errors == [], self.errors
        hosts = {urlsplit(url).hostname for url, _ in self.requests
                 if urlsplit(url).scheme not in ("data", "blob")}
        assert hosts == {"127.0.0.1"}, sorted({u for u, _ in self.requests})
        assert all(urlsplit(url).scheme in ("http", "data") for url, _ in self.requests)


@pytest.fixture()
def open_page(browser):
    contexts = []

    def make(width=1920, height=1080):
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                      service_workers="block")
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        return page, Watch(page)

    yield make
    for context in contexts:
        context.close()


def sign_in(page, base_url, navigate=True):
    if navigate:
        page.goto(f"{base_url}/ioc")
    expect(page.locator("#signin")).to_be_visible()
    page.click("#email")
    page.keyboard.type(DISPATCHER)
    page.click("#password")
    page.keyboard.type(TEST_PASSWORD)
    page.click("#signin-submit")
    expect(page.locator("body")).to_have_class(re.compile(r"\bsigned-in\b"))
    expect(page.locator("#signin")).to_be_hidden()
    page.wait_for_function(READY, timeout=WAIT_MS)


def screenshot(page, tmp_path, name):
    path = tmp_path / f"wall-{name}.png"
    page.screenshot(path=str(path))
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)
    assert path.stat().st_size > 10_000


def tile(page, name):
    return page.locator(f'[data-kpi="{name}"] .value')


# ---------- the API, read directly for the expected figures ----------

def staff_token(client) -> str:
    r = client.post("/api/v1/auth/login", json={"email": DISPATCHER, "password": TEST_PASSWORD})
    assert r.status_code == 200, r.json
    return r.json["access_token"]


def vn_today() -> str:
    return datetime.now(timezone(timedelta(hours=7))).date().isoformat()


def vn_day(offset: int) -> str:
    return (datetime.now(timezone(timedelta(hours=7))).date() + timedelta(days=offset)).isoformat()


def expected_figures(app) -> dict:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {staff_token(client)}"}
    today = vn_today()

    def get(path):
        r = client.get(path, headers=headers)
        assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
        return json.loads(r.get_data(as_text=True))

    day = get(f"/api/v1/ioc/kpis?from={today}&to={today}")
    month = get(f"/api/v1/ioc/kpis?from={vn_day(-29)}&to={today}")
    year = get(f"/api/v1/ioc/kpis?from={vn_day(-364)}&to={today}&group_by=unit")
    reports = get("/api/v1/ioc/reports?format=geojson&open=true&page_size=1000")
    events = get("/api/v1/ioc/events?after=0&limit=1")
    return {"received": day["totals"]["received"], "on_time": month["totals"]["on_time_pct"],
            "overdue": year["totals"]["open_late"],
            "satisfaction": month["totals"]["satisfaction_pct"],
            "late_units": [g for g in year["groups"] if g["open_late"] > 0],
            "open": len(reports["features"]) if reports["next_cursor"] is None else None,
            "events": len(events["items"])}


def assert_tiles_match(page, figures):
    for name in ("received", "on_time", "overdue", "satisfaction"):
        value = tile(page, name)
        expect(value).to_have_attribute("data-state", "ready")
        raw = figures[name]
        if raw is None:
            expect(value).to_have_text("—")
            expect(value).to_have_attribute("data-value", "")
        else:
            assert float(value.get_attribute("data-value")) == pytest.approx(raw), name
            if raw == 0:
                expect(value).to_have_text(re.compile(r"^0%?$"))


# ---------- committed reports in a quiet corner ----------

def _device() -> dict:
    return {"X-Device-Id": f"{DEVICE_PREFIX}{uuid.uuid4().hex[:10]}"}


def _new_report(client, category: str, dlat: float, dlon: float) -> str:
    device = _device()
    lat, lon = QUIET[0] + dlat, QUIET[1] + dlon
    photo = upload(client, device, lat=lat, lon=lon)
    assert photo.status_code == 201, photo.json
    r = submit(client, device, report_body([photo.json["id"]], lat=lat, lon=lon, category=category,
                                           description="Kiểm thử màn hình IOC: phản ánh mẫu."))
    assert r.status_code == 201, r.json
    return r.json["code"]


def _route(client, token: str, code: str, unit_code: str) -> None:
    r = client.post(f"/api/v1/staff/reports/{code}/transitions",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"to": "routed", "unit_code": unit_code, "note": "Kiểm thử"})
    assert r.status_code == 200, r.json


def _set_resolve_due(app, code: str, due: datetime | None) -> None:
    """Put the report's RESOLVE deadline where the test needs it (None: no clock at all)."""
    from api.db import db
    from api.reports.models import Report
    from api.sla.models import SlaClock
    with app.app_context(), db.unit_of_work() as session:
        report_id = session.scalar(select(Report.id).where(Report.code == code))
        clocks = select(SlaClock.id).where(SlaClock.report_id == report_id,
                                           SlaClock.kind == "RESOLVE")
        if due is None:
            session.execute(delete(SlaClock).where(SlaClock.id.in_(clocks)))
        else:
            session.execute(update(SlaClock).where(SlaClock.id.in_(clocks))
                            .values(due_at=due, next_check_at=due + timedelta(days=30)))


def _cleanup(app) -> None:
    from api.db import db
    from api.identity.models import Citizen
    from api.photos.models import Photo
    from api.reports.models import Report
    with app.app_context(), db.unit_of_work() as session:
        mine = select(Citizen.id).where(Citizen.principal.like(f"dev:{DEVICE_PREFIX}%"))
        # Events, outbox rows, clocks and IOC events go with the report (ON DELETE CASCADE).
        session.execute(delete(Report).where(Report.citizen_id.in_(mine)))
        session.execute(delete(Photo).where(Photo.citizen_id.in_(mine)))
        session.execute(delete(Citizen).where(Citizen.principal.like(f"dev:{DEVICE_PREFIX}%")))


@pytest.fixture()
def cleanup(app):
    _cleanup(app)
    yield
    _cleanup(app)


@pytest.fixture()
def quiet_reports(app, committed_client, cleanup):
    """Four open reports, one per SLA state: code -> expected state class."""
    token = staff_token(committed_client)
    now = datetime.now(timezone.utc)
    plan = [("overdue", "pothole", 0.0, 0.0, "SXD", now - timedelta(hours=5)),
            ("due_soon", "garbage_uncollected", 0.012, 0.0, "SNNMT", now + timedelta(hours=3)),
            ("on_time", "fallen_tree", 0.0, 0.014, "SXD", now + timedelta(days=6)),
            ("none", "noise", -0.012, -0.012, None, None)]
    made = {}
    for state, category, dlat, dlon, unit, due in plan:
        code = _new_report(committed_client, category, dlat, dlon)
        if unit:
            _route(committed_client, token, code, unit)
        _set_resolve_due(app, code, due)
        made[code] = state
    return made


def publish_now(app, code: str) -> list[str]:
    """What the worker does after the commit (workers/tasks.py ``events.publish``): write the
    report's pending CloudEvents, then announce them on the live stream."""
    from api.db import db
    from api.reports.models import OutboxMessage, Report, ReportEvent
    from api.reports.publish import TOPIC, announce, publish_event
    with app.app_context():
        with db.unit_of_work() as session:
            report_id = session.scalar(select(Report.id).where(Report.code == code))
            pending = session.scalars(
                select(OutboxMessage.event_id)
                .join(ReportEvent, ReportEvent.id == OutboxMessage.event_id)
                .where(OutboxMessage.topic == TOPIC, OutboxMessage.processed_at.is_(None),
                       ReportEvent.report_id == report_id)
                .order_by(OutboxMessage.event_id)).all()
            published = [publish_event(session, event_id) for event_id in pending]
        types = []
        for item in published:
            announce(item)
            types += [row.type for row in item.ioc_events]
    return types


# ---------- the page itself ----------

def test_page_headers_and_static_assets(app):
    client = app.test_client()
    r = client.get("/ioc")
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'",
                      "connect-src 'self'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe" not in csp and "http" not in csp
    assert r.headers["Cache-Control"] == "no-cache"
    html = r.get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html  # nothing inline: the CSP forbids it
    assert client.get("/ioc/").status_code == 200
    assets = re.findall(r'(?:src|href)="(/ioc/static/[^"]+)"', html)
    assert len(assets) == 2
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200
        assert "immutable" in asset.headers["Cache-Control"]
        assert "max-age=31536000" in asset.headers["Cache-Control"]
        text = asset.data.replace(b"http://www.w3.org/2000/svg", b"")  # a name, not a fetch
        assert b"http://" not in text and b"https://" not in text and b"//cdn" not in text
    plain = client.get("/ioc/static/wall.js")
    assert plain.headers["Cache-Control"] == "public, max-age=3600"
    wards = client.get("/ioc/wards.json")
    assert wards.status_code == 200 and len(wards.json["wards"]) > 50
    assert all(20.5 < w["lat"] < 22 and 105.5 < w["lon"] < 107.5 for w in wards.json["wards"])
    again = client.get("/ioc/wards.json", headers={"If-None-Match": wards.headers["ETag"]})
    assert again.status_code == 304


def test_wall_without_data(app, live_url, open_page, tmp_path, cleanup):
    page, watch = open_page()
    response = page.goto(f"{live_url}/ioc")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#wall")).to_have_attribute("aria-hidden", "true")
    assert not any("/api/v1/ioc/" in url for url, _ in watch.requests)  # nothing before sign-in

    sign_in(page, live_url, navigate=False)
    figures = expected_figures(app)
    assert_tiles_match(page, figures)
    wards = app.test_client().get("/ioc/wards.json").json["wards"]
    expect(page.locator("#layer-wards circle.ward-dot")).to_have_count(len(wards))
    assert figures["open"] is not None
    expect(page.locator("circle.pt")).to_have_count(figures["open"])
    if figures["open"] == 0:  # the database holds no open report (this file alone, or a clean run)
        expect(page.locator("#map-empty")).to_be_visible()
        expect(page.locator("#map-empty")).to_contain_text("không có phản ánh")
        expect(tile(page, "overdue")).to_have_text("0")
    if figures["events"] == 0:
        expect(page.locator("#ticker li")).to_have_count(0)
        expect(page.locator("#ticker-empty")).to_be_visible()
    if not figures["late_units"]:
        expect(page.locator("#units li")).to_have_count(0)
        expect(page.locator("#units-empty")).to_be_visible()
    expect(page.locator("#live")).to_have_text("Trực tiếp")
    screenshot(page, tmp_path, "empty")
    watch.assert_clean()


def test_sign_in_refusals_and_expired_token(app, live_url, open_page):
    page, watch = open_page()
    page.goto(f"{live_url}/ioc")
    message = page.locator("#signin-message")

    page.click("#email")
    page.keyboard.type("officer.sxd@bacninh-ioc.test")  # a unit officer: not for the wall
    page.click("#password")
    page.keyboard.type(TEST_PASSWORD)
    page.click("#signin-submit")
    expect(message).to_contain_text("không có quyền")
    expect(page.locator("#signin")).to_be_visible()

    page.fill("#email", "")
    page.click("#email")
    page.keyboard.type("nobody@bacninh-ioc.test")
    page.click("#signin-submit")
    expect(message).to_have_text("Email hoặc mật khẩu không đúng.")
    assert not any("/api/v1/ioc/" in url for url, _ in watch.requests)

    page.reload()
    sign_in(page, live_url, navigate=False)
    # The token runs out (15 minutes) while the page still counts on it: the data calls
    # get 401 TOKEN_EXPIRED and the form comes back.
    from api.identity import staff as staff_tokens
    from api.identity.models import StaffUser
    from api.db import db
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == DISPATCHER))
        expired, _ = staff_tokens.issue_token(
            app.config["SECRET_KEY"], user_id=user.id, role=user.role, unit_id=None,
            ttl_seconds=-60)
    page.evaluate("""(token) => {
        const staff = JSON.parse(sessionStorage.getItem('iocWall.staff'));
        sessionStorage.setItem('iocWall.staff', JSON.stringify({...staff, token}));
    }""", expired)
    page.reload()
    expect(page.locator("#signin")).to_be_visible()
    expect(message).to_have_text("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.")
    assert page.evaluate("sessionStorage.getItem('iocWall.staff')") is None


def test_wall_with_reports(app, live_url, open_page, tmp_path, quiet_reports):
    page, watch = open_page()
    sign_in(page, live_url)
    for code, state in quiet_reports.items():
        point = page.locator(f'circle.pt[data-code="{code}"]')
        expect(point).to_have_count(1)
        expect(point).to_have_class(re.compile(rf"\bsla-{state}\b"))
    expect(page.locator("#map-empty")).to_be_hidden()
    # The quiet corner lies inside the province's extent, so the points are on the map.
    box = page.locator("#map").bounding_box()
    for code in quiet_reports:
        dot = page.locator(f'circle.pt[data-code="{code}"]').bounding_box()
        assert box["x"] <= dot["x"] <= box["x"] + box["width"]
        assert box["y"] <= dot["y"] <= box["y"] + box["height"]

    figures = expected_figures(app)
    assert figures["received"] >= 4 and figures["overdue"] >= 1
    assert_tiles_match(page, figures)
    for state in ("overdue", "due_soon", "on_time", "none"):
        legend = page.locator(f'[data-legend="{state}"]')
        assert int(legend.inner_text().replace(".", "")) >= 1
    units = page.locator("#units li")
    expect(units.first).to_be_visible()
    expect(page.locator('#units li[data-unit="SXD"]')).to_contain_text("Sở Xây dựng")
    expect(page.locator("#units-empty")).to_be_hidden()

    overdue = next(code for code, state in quiet_reports.items() if state == "overdue")
    page.hover(f'circle.pt[data-code="{overdue}"]')
    tip = page.locator("#tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(overdue)
    expect(tip).to_contain_text("Ổ gà")
    expect(tip).to_contain_text("Sở Xây dựng")
    expect(tip).to_contain_text("Quá hạn")
    expect(tip.locator("dd").nth(4)).to_have_text(re.compile(r"^\d{2}:\d{2} \d{2}/\d{2}/\d{4}$"))
    none_code = next(code for code, state in quiet_reports.items() if state == "none")
    page.click(f'circle.pt[data-code="{none_code}"]')
    expect(tip).to_contain_text(none_code)
    expect(tip).to_contain_text("Chưa phân công")
    page.mouse.move(5, 5)
    expect(tip).to_be_visible()  # a click pins it
    screenshot(page, tmp_path, "data")
    watch.assert_clean()

    laptop, laptop_watch = open_page(1366, 768)
    sign_in(laptop, live_url)
    expect(laptop.locator(f'circle.pt[data-code="{overdue}"]')).to_have_count(1)
    assert laptop.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(laptop, tmp_path, "laptop")
    laptop_watch.assert_clean()


@pytest.fixture()
def kiosk_key(app):
    """A committed API key with the ``ioc`` scope, deleted afterwards."""
    from api.db import db
    from api.open311.keys import create_key
    from api.open311.models import Open311ApiKey
    with app.app_context(), db.unit_of_work() as session:
        row, raw = create_key(session, "ioc wall kiosk test", rate_limit_per_minute=600,
                              scopes=["ioc"])
        key_id = row.id
    yield key_id, raw
    with app.app_context(), db.unit_of_work() as session:
        session.execute(delete(Open311ApiKey).where(Open311ApiKey.id == key_id))


def test_kiosk_key_from_fragment(app, live_url, open_page, kiosk_key):
    from api.db import db
    from api.open311 import keys
    key_id, raw = kiosk_key
    page, watch = open_page()
    page.goto(f"{live_url}/ioc#key={raw}")
    expect(page.locator("body")).to_have_class(re.compile(r"\bsigned-in\b"))
    page.wait_for_function(READY, timeout=WAIT_MS)
    expect(page.locator("#signin")).to_be_hidden()
    assert raw not in page.url and page.evaluate("location.hash") == ""
    assert page.evaluate("localStorage.getItem('iocWall.apiKey')") == raw
    data_calls = [(url, headers) for url, headers in watch.requests if "/api/v1/ioc/" in url]
    assert {urlsplit(u).path for u, _ in data_calls} >= {
        "/api/v1/ioc/reports", "/api/v1/ioc/kpis", "/api/v1/ioc/stream"}
    assert all(h.get("x-api-key") == raw and "authorization" not in h for _, h in data_calls)
    assert all(raw not in url for url, _ in watch.requests)  # the key never goes in a URL
    watch.assert_clean()

    page.reload()  # the kiosk restarts: the stored key signs it in again
    page.wait_for_function(READY, timeout=WAIT_MS)
    expect(page.locator("#signin")).to_be_hidden()

    with app.app_context(), db.unit_of_work() as session:
        keys.revoke(session, key_id)
    page.reload()  # a revoked key: back to the sign-in form, and the key is forgotten
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signin-message")).to_contain_text("Khóa API")
    assert page.evaluate("localStorage.getItem('iocWall.apiKey')") is None


def wait_until(page, condition, timeout_ms=WAIT_MS):
    for _ in range(timeout_ms // 200):
        if condition():
            return True
        page.wait_for_timeout(200)
    return condition()


def test_sse_parser_handles_split_messages(live_url, open_page):
    """The page's own stream parser, fed a stream cut at awkward places."""
    page, watch = open_page()
    page.goto(f"{live_url}/ioc")
    result = page.evaluate("""(chunks) => {
        const out = [], comments = [], retries = [];
        const p = new window.IocWall.SseParser(
            (m) => out.push(m), (c) => comments.push(c), (r) => retries.push(r));
        for (const chunk of chunks) p.push(chunk);
        return {out, comments, retries};
    }""", ["retry: 2500\r", "\n: keep", "alive\r\n\r\nid: 7\nevent: report.cre",
           'ated\ndata: {"a":', '1}\ndata: x\r', "\n\r", "\nid: 8\ndata:y\n\n",
           "event: report.rated\ndata: z\rdata", ": w\r\r", "id: 9\ndata: never ends"])
    assert result["out"] == [
        {"type": "report.created", "data": '{"a":1}\nx', "id": "7"},
        {"type": "message", "data": "y", "id": "8"},
        {"type": "report.rated", "data": "z\nw", "id": "8"},
    ]
    assert result["comments"] == [" keepalive"]
    assert result["retries"] == [2500]
    watch.assert_clean()


def test_live_ticker(app, live_url, open_page, committed_client, tmp_path, cleanup, monkeypatch):
    # Short streams, so the page also has to reconnect with Last-Event-ID during the test.
    monkeypatch.setattr(app.config["APP"], "STREAM_MAX_SECONDS", 3)
    page, watch = open_page()
    sign_in(page, live_url)
    received_before = int(tile(page, "received").get_attribute("data-value"))
    lines_before = page.locator("#ticker li").count()

    code = _new_report(committed_client, "illegal_dumping", 0.02, -0.02)
    assert publish_now(app, code) == ["report.created"]
    line = page.locator(f'#ticker li[data-code="{code}"]')
    expect(line).to_have_count(1)
    expect(line).to_have_attribute("data-type", "report.created")
    line = page.locator(f'#ticker li[data-code="{code}"][data-type="report.created"]')
    expect(line).to_contain_text("Phản ánh mới")
    expect(line).to_contain_text("Đổ trộm phế thải")
    expect(line.locator("time")).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
    expect(page.locator("#ticker li").first).to_have_attribute("data-code", code)
    expect(page.locator("#ticker-empty")).to_be_hidden()
    assert page.locator("#ticker li").count() == min(lines_before + 1, 20)
    point = page.locator(f'circle.pt[data-code="{code}"]')
    expect(point).to_have_count(1)  # the event put it on the map without a reload
    expect(point).to_have_class(re.compile(r"\bsla-(on_time|due_soon)\b"))
    # The tiles refresh after events (at most every ~10 s).
    expect(tile(page, "received")).to_have_attribute(
        "data-value", str(received_before + 1), timeout=WAIT_MS)

    token = staff_token(committed_client)
    r = committed_client.post(f"/api/v1/staff/reports/{code}/transitions",
                              headers={"Authorization": f"Bearer {token}"},
                              json={"to": "rejected", "note": "Kiểm thử: không thuộc thẩm quyền"})
    assert r.status_code == 200, r.json
    assert "report.status_changed" in publish_now(app, code)
    expect(page.locator('#ticker li[data-type="report.status_changed"]').first).to_contain_text(
        "Từ chối")
    expect(point).to_have_count(0)  # a rejected report leaves the map

    created_id = int(line.get_attribute("data-event-id"))
    streams = lambda: [h for url, h in watch.requests  # noqa: E731
                       if urlsplit(url).path == "/api/v1/ioc/stream"]
    assert wait_until(page, lambda: any(int(h.get("last-event-id") or 0) >= created_id
                                        for h in streams())), streams()
    assert all("authorization" in h for h in streams())
    expect(page.locator(f'#ticker li[data-code="{code}"]')).to_have_count(2)  # no repeats
    screenshot(page, tmp_path, "ticker")
    watch.assert_clean()
