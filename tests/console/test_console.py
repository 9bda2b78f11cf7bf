"""The staff console (/console): sign-in, queue, report page and actions.

The first tests use Flask's test client inside a rolled-back transaction (headers, the
session cookie, CSRF, the idle timeout, a refused action keeping its input). The browser
tests drive headless Chromium through Playwright against the app on a loopback port,
with reports committed in a quiet corner of the province (around 21.45 N, 106.30 E, Xã Kép) and
deleted afterwards. Screenshots go to test-artifacts/console-*.png.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import delete, func, or_, select, update

from api.db import db
from tests.api.helpers import new_report, report_body, submit, upload
from tests.conftest import TEST_PASSWORD
from tests.fixtures.make_images import make_jpeg

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DOMAIN = "bacninh-ioc.test"
DISPATCHER = f"dispatcher@{DOMAIN}"
QUIET = (21.4500, 106.3000)  # Xã Kép (21.47, 106.35 lies in Lạng Sơn)
DEVICE_PREFIX = "console-test-"
WAIT_MS = 10_000
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(response) -> str:
    return CSRF.search(response.get_data(as_text=True)).group(1)


def console_login(client, email: str, password: str = TEST_PASSWORD):
    with client.session_transaction("/console/") as s:  # whoever was signed in before
        s.clear()
    token = csrf_of(client.get("/console/login"))
    return client.post("/console/login", data={"csrf_token": token, "email": email,
                                               "password": password})


# ---------- without a browser ----------

def test_pages_carry_strict_headers_and_only_own_assets(client):
    r = client.get("/console/login")
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'",
                      "frame-ancestors 'none'", "form-action 'self'"):
        assert directive in csp
    assert "unsafe" not in csp and "http" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    html = r.get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html  # nothing inline: the CSP forbids it
    assert 'lang="vi"' in html and "Đăng nhập" in html
    assets = re.findall(r'(?:src|href)="(/console/static/[^"]+)"', html)
    assert len(assets) == 2
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200
        assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        text = asset.data.replace(b"http://www.w3.org/2000/svg", b"")
        assert b"http://" not in text and b"https://" not in text and b"//cdn" not in text
    # Signed out: every other page sends the visitor to the sign-in form and back.
    r = client.get("/console/?status=routed")
    assert r.status_code == 302
    location = urlsplit(r.headers["Location"])
    assert location.path == "/console/login"
    assert parse_qs(location.query)["next"] == ["/console/?status=routed"]
    assert client.get("/console/reports/PA-2026-000001").status_code == 302


def test_the_cookie_is_secure_in_production():
    from api.console import bp
    app = Flask("console-config-check")
    app.config.update(APP_ENV="production", SECRET_KEY="x" * 40)
    app.register_blueprint(bp)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_PATH"] == "/console"


def test_sign_in_refusals_csrf_idle_timeout_and_sign_out(client):
    # A POST without the token does nothing (not even a password check).
    r = client.post("/console/login", data={"email": DISPATCHER, "password": TEST_PASSWORD})
    assert r.status_code == 400
    assert "mã bảo vệ" in r.get_data(as_text=True)
    assert client.get("/console/").status_code == 302

    r = console_login(client, DISPATCHER, "wrong-password")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Email hoặc mật khẩu không đúng." in html
    assert f'value="{DISPATCHER}"' in html  # the e-mail stays in the form

    r = console_login(client, DISPATCHER)
    assert r.status_code == 302 and r.headers["Location"] == "/console/"
    r = client.get("/console/")
    assert r.status_code == 200
    assert "Phản ánh chờ điều phối" in r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"

    r = client.get("/console/reports/PA-1999-000001")
    assert r.status_code == 404 and "Không tìm thấy phản ánh với mã này." in r.get_data(as_text=True)
    r = client.get("/console/go?code=abc", follow_redirects=True)
    assert "không phải mã phản ánh hợp lệ" in r.get_data(as_text=True)

    # An open redirect through ?next= is not followed.
    client.post("/console/logout", data={"csrf_token": csrf_of(r)})
    token = csrf_of(client.get("/console/login"))
    r = client.post("/console/login", data={"csrf_token": token, "email": DISPATCHER,
                                            "password": TEST_PASSWORD,
                                            "next": "https://evil.example/console/"})
    assert r.headers["Location"] == "/console/"

    # Idle for longer than the timeout: signed out, with a message.
    with client.session_transaction("/console/") as s:
        s["seen"] = int(time.time()) - 31 * 60
    r = client.get("/console/")
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/console/login"
    assert "Phiên làm việc đã hết hạn" in client.get("/console/login").get_data(as_text=True)
    assert client.get("/console/").status_code == 302

    # Sign out needs the token too.
    r = console_login(client, DISPATCHER)
    page = client.get("/console/")
    assert client.post("/console/logout").status_code == 400
    assert client.get("/console/").status_code == 200
    r = client.post("/console/logout", data={"csrf_token": csrf_of(page)})
    assert r.status_code == 302
    assert client.get("/console/").status_code == 302


def test_a_refused_action_keeps_its_input_and_csrf_guards_actions(client, device):
    from api.reports.models import Report
    from api.routing.geocode import AddressLookup
    from api.routing.service import route_report
    code = new_report(client, device, category="pothole")["code"]
    with client.application.app_context():
        report = db.session.scalar(select(Report).where(Report.code == code))
        unit_code = route_report(db.session, report.id, AddressLookup(None)).unit_code
        db.session.commit()
    console_login(client, f"officer.{unit_code.lower()}@{DOMAIN}")
    page = client.get(f"/console/reports/{code}")
    assert page.status_code == 200
    token = csrf_of(page)

    r = client.post(f"/console/reports/{code}/accept")  # no token
    assert r.status_code == 400
    r = client.post(f"/console/reports/{code}/accept", data={"csrf_token": "forged-" + token})
    assert r.status_code == 400
    assert "Đã chuyển đơn vị xử lý" in client.get(f"/console/reports/{code}").get_data(as_text=True)

    r = client.post(f"/console/reports/{code}/accept", data={"csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == f"/console/reports/{code}"
    html = client.get(f"/console/reports/{code}").get_data(as_text=True)
    assert "Đã tiếp nhận phản ánh." in html and 'data-status="accepted"' in html

    note = "Đã khắc phục xong ổ gà <b>trước nhà số 5</b>."
    r = client.post(f"/console/reports/{code}/resolve", data={"csrf_token": token, "note": note})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Cần ít nhất một ảnh chụp kết quả xử lý tại hiện trường." in html
    assert "Đã khắc phục xong ổ gà &lt;b&gt;trước nhà số 5&lt;/b&gt;." in html  # kept, escaped
    assert '<details class="action" id="act-resolve" open>' in html

    # Photos first ("Chỉ tải ảnh lên"), then the update that uses them.
    jpeg = make_jpeg(640, 480, lat=21.1861, lon=106.0763, content="console-upload")
    r = client.post(f"/console/reports/{code}/progress", content_type="multipart/form-data",
                    data={"csrf_token": token, "note": "Đang xử lý.", "upload_only": "1",
                          "photos": (io.BytesIO(jpeg), "hien-truong.jpg")})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Đã tải 1 ảnh lên." in html and "GPS 21.186" in html
    photo_id = re.search(r'name="photo_id" value="([0-9a-f-]{36})" checked', html).group(1)
    r = client.post(f"/console/reports/{code}/progress",
                    data={"csrf_token": token, "note": "Đang xử lý.", "photo_id": photo_id})
    assert r.status_code == 302
    html = client.get(f"/console/reports/{code}").get_data(as_text=True)
    assert "Đã cập nhật tiến độ." in html and "Ảnh kèm cập nhật" in html
    assert 'data-status="in_progress"' in html

    r = client.post(f"/console/reports/{code}/no-such-action", data={"csrf_token": token})
    assert r.status_code == 404


def _routed_in_transaction(client, device, **overrides) -> tuple[str, str]:
    from api.reports.models import Report
    from api.routing.geocode import AddressLookup
    from api.routing.service import route_report
    code = new_report(client, device, **overrides)["code"]
    with client.application.app_context():
        report_id = db.session.scalar(select(Report.id).where(Report.code == code))
        unit_code = route_report(db.session, report_id, AddressLookup(None)).unit_code
        db.session.commit()
    return code, unit_code


def _post(client, code: str, action: str, **fields):
    token = csrf_of(client.get(f"/console/reports/{code}"))
    return client.post(f"/console/reports/{code}/{action}", data={"csrf_token": token, **fields})


def test_unit_head_and_dispatcher_forms_reach_their_services(client, device):
    from api.identity.models import StaffUser
    code, unit = _routed_in_transaction(client, device, category="pothole")
    other, _ = _routed_in_transaction(client, device, category="pothole", lat=21.1871)
    third, _ = _routed_in_transaction(client, device, category="noise", lat=21.1881)
    officer_email, head_email = f"officer.{unit.lower()}@{DOMAIN}", f"head.{unit.lower()}@{DOMAIN}"
    with client.application.app_context():
        officer_id = db.session.scalar(select(StaffUser.id).where(StaffUser.email == officer_email))

    console_login(client, officer_email)
    html = client.get(f"/console/reports/{code}").get_data(as_text=True)
    assert 'id="form-accept"' in html and 'id="form-route"' not in html
    assert _post(client, code, "accept").status_code == 302
    html = client.get(f"/console/reports/{code}").get_data(as_text=True)
    assert 'id="form-extension"' not in html  # "fix_now" allows no extension

    console_login(client, DISPATCHER)
    html = client.get(f"/console/reports/{code}").get_data(as_text=True)
    assert 'id="form-accept"' not in html and 'id="form-recategorise"' in html
    r = _post(client, code, "recategorise", category="illegal_construction")
    assert r.status_code == 302
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Đã phân loại lại phản ánh." in html and "Mức độ: Phức tạp" in html
    assert _post(client, other, "class", sla_class="urgent").status_code == 302
    assert "Mức độ: Khẩn cấp" in client.get(f"/console/reports/{other}").get_data(as_text=True)
    r = _post(client, other, "duplicate", duplicate_of="PA-1999-000001")
    assert r.status_code == 422
    assert "Không tìm thấy phản ánh với mã này." in r.get_data(as_text=True)
    assert _post(client, other, "duplicate", duplicate_of=code.lower()).status_code == 302
    html = client.get(f"/console/reports/{other}").get_data(as_text=True)
    assert 'data-status="duplicate"' in html and f"Trùng với phản ánh {code}." in html
    r = _post(client, third, "transfer-out", reason="")
    assert r.status_code == 422 and "Cần nêu thủ tục/cơ quan tiếp nhận." in r.get_data(as_text=True)
    r = _post(client, third, "transfer-out", reason="Đơn khiếu nại: chuyển Thanh tra tỉnh.")
    assert r.status_code == 302
    html = client.get(f"/console/reports/{third}").get_data(as_text=True)
    assert 'data-status="transferred_out"' in html

    console_login(client, head_email)
    html = client.get(f"/console/reports/{code}").get_data(as_text=True)
    assert f'<option value="{officer_id}"' in html  # the unit's officers to choose from
    assert _post(client, code, "assign", officer_id=str(officer_id)).status_code == 302
    assert _post(client, code, "assign", officer_id="not-a-number").status_code == 422

    console_login(client, officer_email)
    r = _post(client, code, "extension", reason="Cần thẩm định hồ sơ xây dựng với Sở Xây dựng.")
    assert r.status_code == 302
    html = client.get(f"/console/reports/{code}").get_data(as_text=True)
    assert "Đề nghị gia hạn" in html and 'id="form-extension"' not in html

    console_login(client, head_email)
    r = _post(client, code, "extension-decision", approve="1", note="Đồng ý.")
    assert r.status_code == 302
    html = client.get(f"/console/reports/{code}").get_data(as_text=True)
    assert "Đồng ý gia hạn" in html and "đã gia hạn" in html

    console_login(client, officer_email)
    r = _post(client, code, "return", reason_code="other", note="")
    assert r.status_code == 422 and "Cần ghi rõ lý do trả lại." in r.get_data(as_text=True)
    r = _post(client, code, "return", reason_code="not_our_competence", suggested_unit_code="SXD",
              note="Công trình do Sở Xây dựng cấp phép.")
    assert r.status_code == 302
    assert 'data-status="returned"' in client.get(f"/console/reports/{code}").get_data(as_text=True)

    console_login(client, DISPATCHER)
    html = client.get(f"/console/reports/{code}").get_data(as_text=True)
    assert "Đơn vị trả lại đề xuất: <strong>Sở Xây dựng" in html
    assert '<option value="SXD" selected>' in html
    assert _post(client, code, "route", unit_code="SXD", note="").status_code == 302
    html = client.get(f"/console/reports/{code}").get_data(as_text=True)
    assert 'data-status="routed"' in html and "Sở Xây dựng" in html


# ---------- in a browser ----------

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is not installed (scripts/test.py installs Debian's chromium)")
        pytest.skip("Chromium is not installed (scripts/test.py installs Debian's chromium)")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


class Watch:
    """What a page did: every request URL and every console error."""

    def __init__(self, page):
        self.urls: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.urls.append(r.url))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def assert_clean(self, *expected_statuses: int):
        """No script error, no CSP violation, no failed asset. Chromium also logs a main
        document answered with an error status: exactly the refusals the test provoked."""
        expected = sorted(f"Failed to load resource: the server responded with a status of {s} "
                          for s in expected_statuses)
        refusals = sorted(e[:len(x)] for e in self.errors for x in expected if e.startswith(x))
        assert refusals == expected, self.errors
        others = [e for e in self.errors if not any(e.startswith(x) for x in expected)]
        assert others == [], others
        remote = {u for u in self.urls if urlsplit(u).scheme not in ("data", "blob")
                  and urlsplit(u).hostname != "127.0.0.1"}
        assert remote == set()


@pytest.fixture()
def open_page(browser):
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="vi-VN",
                                      timezone_id="Asia/Ho_Chi_Minh", service_workers="block")
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        return page, Watch(page)

    yield make
    for context in contexts:
        context.close()


def sign_in(page, base_url: str, email: str):
    page.goto(f"{base_url}/console/")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.click("#email")
    page.keyboard.type(email)
    page.click("#password")
    page.keyboard.type(TEST_PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#queue-title")).to_be_visible()


def screenshot(page, name: str, full_page: bool = False):
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"console-{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 10_000


def photo_file(tmp_path, name: str, lat: float, lon: float) -> str:
    path = tmp_path / f"{name}.jpg"
    path.write_bytes(make_jpeg(800, 600, lat=lat, lon=lon, content=name))
    return str(path)


def images_loaded(page) -> bool:
    return page.evaluate("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")


def _device() -> dict:
    return {"X-Device-Id": f"{DEVICE_PREFIX}{uuid.uuid4().hex[:10]}"}


def _report(client, device, category: str, dlat: float, dlon: float, **extra) -> str:
    lat, lon = QUIET[0] + dlat, QUIET[1] + dlon
    photo = upload(client, device, lat=lat, lon=lon)
    assert photo.status_code == 201, photo.json
    r = submit(client, device, report_body([photo.json["id"]], lat=lat, lon=lon, category=category,
                                           description="Kiểm thử bảng điều khiển: phản ánh mẫu.",
                                           **extra))
    assert r.status_code == 201, r.json
    return r.json["code"]


def _route(app, code: str) -> str | None:
    from api.reports.models import Report
    from api.routing.geocode import AddressLookup
    from api.routing.service import route_report
    with app.app_context(), db.unit_of_work() as session:
        report_id = session.scalar(select(Report.id).where(Report.code == code))
        outcome = route_report(session, report_id, AddressLookup(None))
    return outcome.unit_code


def _cleanup(app, since: datetime) -> None:
    from api.identity.models import Citizen
    from api.photos.models import Photo
    from api.reports.models import Report
    with app.app_context(), db.unit_of_work() as session:
        mine = select(Citizen.id).where(Citizen.principal.like(f"dev:{DEVICE_PREFIX}%"))
        reports = select(Report.id).where(Report.citizen_id.in_(mine))
        session.execute(update(Report).where(or_(Report.duplicate_of_id.in_(reports),
                                                 Report.possible_duplicate_of_id.in_(reports)))
                        .values(duplicate_of_id=None, possible_duplicate_of_id=None))
        session.execute(delete(Report).where(Report.citizen_id.in_(mine)))
        session.execute(delete(Photo).where(or_(Photo.citizen_id.in_(mine), (
            Photo.staff_id.is_not(None) & (Photo.created_at >= since)))))
        session.execute(delete(Citizen).where(Citizen.principal.like(f"dev:{DEVICE_PREFIX}%")))


@pytest.fixture(scope="module")
def quiet_reports(app):
    """Three committed reports: one routed to the ward's unit for the officer, one left
    new in the dispatcher's triage queue (with the reporter's contact; every category has
    a unit in the reference data, so routing never parks one at the IOC here), and one
    routed to the ward's unit for the dispatcher to re-route."""
    since = datetime.now(timezone.utc)
    _cleanup(app, since)
    client = app.test_client()
    officer_device = _device()
    work = _report(client, officer_device, "pothole", 0.0, 0.0)
    triage = _report(client, _device(), "traffic_sign_damaged", 0.004, 0.004,
                     contact={"name": "Nguyễn Thị Kiểm Thử", "phone": "0912 345 678"})
    reroute = _report(client, _device(), "pothole", -0.004, 0.004)
    unit = _route(app, work)
    assert unit and unit.startswith("UBND-"), unit
    assert _route(app, reroute) == unit
    yield {"work": work, "triage": triage, "reroute": reroute, "unit": unit,
           "device": officer_device}
    _cleanup(app, since)


def _status(app, code: str) -> str:
    from api.reports.models import Report
    with app.app_context(), db.unit_of_work() as session:
        return session.scalar(select(Report.status).where(Report.code == code))


@pytest.mark.slow
def test_an_officer_works_a_report_end_to_end(app, live_url, open_page, tmp_path, quiet_reports):
    code, unit = quiet_reports["work"], quiet_reports["unit"]
    page, watch = open_page()
    sign_in(page, live_url, f"officer.{unit.lower()}@{DOMAIN}")

    row = page.locator(f'#queue tr[data-code="{code}"]')
    expect(row).to_have_count(1)
    expect(row.locator(".sla-badge")).to_have_text("Trong hạn")
    expect(row.locator(".due time")).to_have_text(re.compile(r"^\d{2}:\d{2} ngày \d{2}/\d{2}/\d{4}$"))
    expect(row).to_contain_text("Đã chuyển đơn vị xử lý")
    expect(row).to_contain_text("Ổ gà")
    expect(row).to_contain_text("Chưa giao")
    assert page.locator(f'#queue tr[data-code="{quiet_reports["triage"]}"]').count() == 0
    # Filters are plain GET parameters.
    page.check("#f-overdue")
    page.click("#filter-submit")
    expect(page).to_have_url(re.compile(r"overdue=1"))
    expect(page.locator(f'#queue tr[data-code="{code}"]')).to_have_count(0)
    page.click("text=Bỏ lọc")
    page.select_option("#f-category", "pothole")
    page.click("#filter-submit")
    expect(row).to_have_count(1)
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    assert images_loaded(page)
    screenshot(page, "queue")

    row.locator("a.open-report").click()
    expect(page.locator("#report-code")).to_have_text(code)
    expect(page.locator("#contact")).to_have_count(0)  # the reporter's identity stays with the IOC
    expect(page.locator("#report-map circle.map-point")).to_have_count(1)
    expect(page.locator("#map-caption")).to_contain_text(page.locator("#report-ward").inner_text())

    page.click("#do-accept")
    expect(page.locator(".flash-success")).to_have_text("Đã tiếp nhận phản ánh.")
    expect(page.locator("#report-status")).to_have_text("Đơn vị đã tiếp nhận")
    expect(page.locator("#report-assignee")).to_have_text(re.compile(r"^Cán bộ "))

    page.click("#act-progress > summary")
    page.fill("#progress-note", "Đã khảo sát hiện trường, chuẩn bị vật tư vá đường.")
    page.set_input_files("#progress-photos", photo_file(tmp_path, "survey", QUIET[0], QUIET[1]))
    expect(page.locator('ul.file-list[data-for="progress-photos"] img')).to_have_count(1)
    page.click("#do-progress")
    expect(page.locator(".flash-success")).to_have_text("Đã cập nhật tiến độ.")
    expect(page.locator("#report-status")).to_have_text("Đang xử lý")

    page.click("#act-request-info > summary")
    page.fill("#request-info-question", "Ổ gà nằm bên trái hay bên phải chiều đi Lục Ngạn?")
    page.click("#do-request-info")
    expect(page.locator(".flash-success")).to_contain_text("Đã gửi câu hỏi")
    expect(page.locator("#report-status")).to_have_text("Chờ người dân bổ sung thông tin")
    expect(page.locator("#clocks")).to_contain_text("Tạm dừng")
    expect(page.locator("#act-resolve")).to_have_count(0)

    # The citizen answers in the app.
    r = app.test_client().post(f"/api/v1/reports/{code}/reply", headers=quiet_reports["device"],
                               json={"text": "Bên phải, ngay trước cột điện số 12."})
    assert r.status_code == 200, r.json
    page.reload()
    expect(page.locator("#report-status")).to_have_text("Đang xử lý")

    # Evidence taken 1 km away is refused; the note and the uploaded photo stay on the form.
    note = "Đã vá xong ổ gà bằng bê tông nhựa."
    page.click("#act-resolve > summary")
    page.fill("#resolve-note", note)
    page.set_input_files("#resolve-photos", photo_file(tmp_path, "far", QUIET[0] + 0.01, QUIET[1]))
    page.click("#do-resolve")
    error = page.locator("#error-resolve")
    expect(error).to_contain_text("Ảnh kết quả phải có vị trí GPS và được chụp gần nơi phản ánh")
    expect(page.locator("#resolve-note")).to_have_value(note)
    kept = page.locator('#act-resolve input[name="photo_id"]')
    expect(kept).to_have_count(1)
    assert _status(app, code) == "in_progress"

    kept.uncheck()
    page.set_input_files("#resolve-photos", photo_file(tmp_path, "fixed", QUIET[0] + 0.0003, QUIET[1]))
    page.click("#do-resolve")
    expect(page.locator(".flash-success")).to_have_text("Đã gửi kết quả xử lý cho người dân.")
    expect(page.locator("#report-status")).to_have_text("Đã xử lý")
    expect(page.locator("#no-actions")).to_be_visible()

    steps = page.locator("#timeline li.event[data-type='status_changed']")
    assert [s.get_attribute("data-status") for s in steps.all()] == [
        "accepted", "in_progress", "waiting_citizen", "in_progress", "resolved"]
    timeline = page.locator("#timeline")
    for text in ("Người dân gửi phản ánh", "Đơn vị tiếp nhận",
                 "Đã khảo sát hiện trường, chuẩn bị vật tư vá đường.",
                 "Hỏi người dân bổ sung thông tin", "Người dân bổ sung thông tin",
                 "Bên phải, ngay trước cột điện số 12.", "Trả lời kết quả xử lý", note):
        expect(timeline).to_contain_text(text)
    expect(page.locator("#timeline li.event[data-status='resolved'] img")).to_have_count(1)
    expect(page.locator("#timeline li.event[data-status='in_progress'] img")).to_have_count(1)
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    assert images_loaded(page)
    assert _status(app, code) == "resolved"
    screenshot(page, "report", full_page=True)

    page.click("#signout")
    expect(page.locator(".flash-success")).to_have_text("Bạn đã đăng xuất.")
    page.goto(f"{live_url}/console/")
    expect(page).to_have_url(re.compile(r"/console/login"))
    watch.assert_clean(422)  # the refused evidence photo


@pytest.mark.slow
def test_a_dispatcher_triages_reroutes_and_rejects(app, live_url, open_page, quiet_reports):
    triage, reroute, unit = quiet_reports["triage"], quiet_reports["reroute"], quiet_reports["unit"]
    page, watch = open_page()
    page.goto(f"{live_url}/console/login")
    page.click("#email")
    page.keyboard.type(DISPATCHER)
    page.click("#password")
    page.keyboard.type("not-the-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Email hoặc mật khẩu không đúng.")
    expect(page.locator("#email")).to_have_value(DISPATCHER)
    sign_in(page, live_url, DISPATCHER)
    expect(page.locator("#queue-title")).to_have_text("Phản ánh chờ điều phối")
    page.select_option("#f-category", "traffic_sign_damaged")
    page.click("#filter-submit")
    row = page.locator(f'#queue tr[data-code="{triage}"]')
    expect(row).to_contain_text("Mới tiếp nhận")
    expect(page.locator(f'#queue tr[data-code="{reroute}"]')).to_have_count(0)  # not triage

    row.locator("a.open-report").click()
    expect(page.locator("#contact-name")).to_have_text("Nguyễn Thị Kiểm Thử")
    expect(page.locator("#contact-phone")).to_have_text("0912 345 678")
    expect(page.locator("#timeline")).to_contain_text("Người dân gửi phản ánh")
    expect(page.locator("#report-unit")).to_have_text("Chưa phân công")
    screenshot(page, "triage", full_page=True)
    from api.privacy.models import AuditLog
    with app.app_context(), db.unit_of_work() as session:
        views = session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "report.contact.viewed", AuditLog.detail["code"].astext == triage))
    assert views >= 1

    page.click("#act-reject > summary")
    page.select_option("#reject-reason", "outside_scope")
    page.fill("#reject-note", "Biển báo thuộc đường cao tốc, đề nghị liên hệ đơn vị quản lý cao tốc.")
    page.click("#do-reject")
    expect(page.locator(".flash-success")).to_have_text("Đã từ chối phản ánh.")
    expect(page.locator("#report-status")).to_have_text("Từ chối")
    expect(page.locator("#timeline")).to_contain_text("Ngoài phạm vi tiếp nhận")
    assert _status(app, triage) == "rejected"

    # To the other report through the code box ("/" focuses it).
    page.keyboard.press("/")
    page.keyboard.type(reroute.lower())
    page.keyboard.press("Enter")
    expect(page.locator("#report-code")).to_have_text(reroute)
    page.click("#act-route > summary")
    page.select_option("#route-unit", "SXD")
    page.fill("#route-note", "Tuyến đường tỉnh, thuộc Sở Xây dựng.")
    page.click("#do-route")
    expect(page.locator(".flash-success")).to_have_text("Đã chuyển phản ánh đến đơn vị xử lý.")
    expect(page.locator("#report-unit")).to_contain_text("Sở Xây dựng")
    assert _status(app, reroute) == "routed"

    # A form whose token was removed changes nothing.
    page.click("#act-class > summary")
    page.evaluate("() => document.querySelector('#form-class input[name=csrf_token]').remove()")
    page.select_option("#class-sla", "urgent")
    page.click("#do-class")
    expect(page.locator("#error-title")).to_have_text("Yêu cầu không hợp lệ")
    expect(page.locator("#error-message")).to_contain_text("mã bảo vệ")
    from api.reports.models import Report
    with app.app_context(), db.unit_of_work() as session:
        assert session.scalar(select(Report.sla_class).where(Report.code == reroute)) != "urgent"
    watch.assert_clean(400)  # the form without its token

    # The ward unit's officer no longer sees it: 403, in Vietnamese.
    officer, officer_watch = open_page()
    sign_in(officer, live_url, f"officer.{unit.lower()}@{DOMAIN}")
    expect(officer.locator(f'#queue tr[data-code="{reroute}"]')).to_have_count(0)
    response = officer.goto(f"{live_url}/console/reports/{reroute}")
    assert response.status == 403
    assert response.headers["cache-control"] == "no-store"
    expect(officer.locator("#error-title")).to_have_text("Không có quyền truy cập")
    expect(officer.locator("#error-message")).to_have_text("Phản ánh này không thuộc đơn vị của bạn.")
    officer_watch.assert_clean(403)
