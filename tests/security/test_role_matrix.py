"""Every route × every principal answers as api/security/policy.py declares.

The routes come from ``app.url_map`` (every rule and method but HEAD/OPTIONS and served
static files); a route missing from the policy fails ``test_every_route_is_declared``, so a
new route cannot ship without a declared access. Each declared route is then called as
each principal with real credentials: a report of a known unit sent by a Firebase-signed
citizen, staff tokens from ``POST /api/v1/auth/login``, API keys made with
``api.open311.keys.create_key``. Allowed → anything but 401/403 (and no 5xx); denied → the
declared 401/403/404 in the route's error format. Each call runs in a savepoint that is
rolled back, so no call sees another's changes.
"""
from __future__ import annotations

import io
import uuid
from datetime import date
from contextlib import contextmanager
from functools import cached_property
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from api.db import db
from api.security import policy as P
from tests.api.helpers import BAC_NINH, new_report
from tests.conftest import TEST_PASSWORD
from tests.fixtures.make_images import make_jpeg

DOMAIN = "bacninh-ioc.test"
_STAFF_TOKENS: dict[str, str] = {}  # e-mail → token: signed in once per run (15-minute tokens)
_JPEG: list[bytes] = []
STAFF_EMAILS = {
    P.OFFICER: lambda w: f"officer.{w.unit_code.lower()}@{DOMAIN}",
    P.OTHER_OFFICER: lambda w: f"officer.{w.other_unit_code.lower()}@{DOMAIN}",
    P.UNIT_HEAD: lambda w: f"head.{w.unit_code.lower()}@{DOMAIN}",
    P.DISPATCHER: lambda w: f"dispatcher@{DOMAIN}",
    P.ADMIN: lambda w: f"admin@{DOMAIN}",
}


def _jpeg() -> bytes:
    if not _JPEG:
        _JPEG.append(make_jpeg(64, 48, lat=BAC_NINH[0], lon=BAC_NINH[1], content="scene"))
    return _JPEG[0]


class World:
    """What the calls need, made on first use inside the test's rolled-back transaction."""

    def __init__(self, app, client, connection, citizen_token):
        self.app, self.client, self.connection = app, client, connection
        self._citizen_token = citizen_token

    @contextmanager
    def db(self):
        """A session for setting things up, outside any request (so no app context, and no
        ``g``, is shared with the requests); its commit lands in the test's transaction."""
        with self.app.app_context():
            yield db.session
            db.session.commit()

    # --- credentials ---------------------------------------------------------------------

    @cached_property
    def citizen(self) -> dict:
        return {"Authorization": f"Bearer {self._citizen_token(f'matrix-{uuid.uuid4().hex[:10]}')}"}

    @cached_property
    def other_citizen(self) -> dict:
        return {"Authorization": f"Bearer {self._citizen_token(f'other-{uuid.uuid4().hex[:10]}')}"}

    def staff(self, email: str) -> dict:
        if email not in _STAFF_TOKENS:
            r = self.client.post("/api/v1/auth/login",
                                 json={"email": email, "password": TEST_PASSWORD})
            assert r.status_code == 200, (email, r.json)
            _STAFF_TOKENS[email] = r.json["access_token"]
        return {"Authorization": f"Bearer {_STAFF_TOKENS[email]}"}

    @cached_property
    def unit_code(self) -> str:
        return self.report.unit_code

    @cached_property
    def officer_id(self) -> int:
        from api.identity.models import StaffUser
        with self.db() as session:
            return session.scalar(select(StaffUser.id).where(
                StaffUser.email == f"officer.{self.unit_code.lower()}@{DOMAIN}"))

    @cached_property
    def other_unit_code(self) -> str:
        from api.reference.models import Unit
        with self.db() as session:
            return session.scalar(select(Unit.code).where(
                Unit.id != self.report.unit_id, Unit.kind != "ioc").order_by(Unit.id).limit(1))

    @cached_property
    def ioc_key(self) -> str:
        from api.open311.keys import create_key
        with self.db() as session:
            return create_key(session, "matrix ioc", scopes=["ioc"])[1]

    @cached_property
    def open311_key(self) -> tuple[int, str]:
        from api.open311.keys import create_key
        with self.db() as session:
            row, raw = create_key(session, "matrix open311", scopes=["open311"])
            return row.id, raw

    def staff_email(self, principal: str) -> str | None:
        email = STAFF_EMAILS.get(principal)
        return email(self) if email else None

    def headers(self, principal: str) -> dict:
        if principal == P.ANONYMOUS:
            return {}
        if principal == P.CITIZEN:
            return self.citizen
        if principal == P.OTHER_CITIZEN:
            return self.other_citizen
        if principal in STAFF_EMAILS:
            return self.staff(self.staff_email(principal))
        if principal == P.IOC_KEY:
            return {"X-Api-Key": self.ioc_key}
        if principal == P.OPEN311_KEY:
            return {"X-Api-Key": self.open311_key[1]}
        raise AssertionError(f"no credentials for {principal}")

    def key_param(self, principal: str) -> dict:
        """Open311 reads its key from the ``api_key`` parameter."""
        if principal == P.IOC_KEY:
            return {"api_key": self.ioc_key}
        if principal == P.OPEN311_KEY:
            return {"api_key": self.open311_key[1]}
        return {}

    # --- things to act on ----------------------------------------------------------------

    @cached_property
    def report(self):
        """A report sent by ``citizen`` and routed to its unit, as the worker does."""
        from api.reports.models import Report
        from api.routing.geocode import AddressLookup
        from api.routing.service import route_report
        code = new_report(self.client, self.citizen)["code"]
        with self.db() as session:
            report = session.scalar(select(Report).where(Report.code == code))
            route_report(session, report.id, AddressLookup(None))
            session.flush()
            session.expire(report)
            assert report.unit is not None, "the matrix needs a report routed to a unit"
            return SimpleNamespace(code=code, unit_id=report.unit_id, unit_code=report.unit.code,
                                   display_key=report.photos[0].display_key)

    @cached_property
    def device_id(self) -> int:
        r = self.client.post("/api/v1/me/devices", headers=self.citizen,
                             json={"token": "fcm-" + "x" * 40, "platform": "android"})
        assert r.status_code in (200, 201), r.json
        return r.json["id"]

    @cached_property
    def rule_id(self) -> int:
        from api.routing.models import RoutingRule
        rule = RoutingRule(category_code="streetlight_out", unit_id=self.report.unit_id,
                           priority=-1000, active=False, note="matrix")
        with self.db() as session:
            session.add(rule)
            session.flush()
            return rule.id

    @cached_property
    def exception_id(self) -> int:
        from api.sla.models import CalendarException
        row = CalendarException(day=date(2099, 1, 2), kind="day_off", name="matrix")
        with self.db() as session:
            session.add(row)
            session.flush()
            return row.id

    @cached_property
    def webhook_id(self) -> int:
        from api.ioc.models import WebhookSubscription
        sub = WebhookSubscription(name="matrix", url="http://127.0.0.1:9/hook",
                                  secret="s" * 32, types=["report.created"], active=True)
        with self.db() as session:
            session.add(sub)
            session.flush()
            return sub.id

    @cached_property
    def media_key(self) -> str:
        return self.report.display_key

    def _first_id(self, model) -> int:
        """The first row of a tourism table when there is one (else a missing id: 404)."""
        from sqlalchemy import func
        with self.db() as session:
            return session.scalar(select(func.min(model.id))) or 1

    @cached_property
    def place_id(self) -> int:
        from api.tourism.models import Place
        return self._first_id(Place)

    @cached_property
    def event_id(self) -> int:
        from api.tourism.models import TourismEvent
        return self._first_id(TourismEvent)

    def path_value(self, name: str, rule=None) -> str:
        path = rule.rule if rule is not None else ""
        if name == "code" and path.startswith("/api/v1/admin/units/"):
            return self.unit_code
        if name == "code" and path.startswith("/api/v1/admin/categories/"):
            return "streetlight_out"
        values = {
            "code": lambda: self.report.code,
            "staff_id": lambda: self.officer_id,
            "place_id": lambda: self.place_id,
            "event_id": lambda: self.event_id,
            "photo_id": lambda: uuid.uuid4(),
            "action": lambda: "accept",
            "request_id": lambda: self.report.code,
            "device_id": lambda: self.device_id,
            "rule_id": lambda: self.rule_id,
            "exception_id": lambda: self.exception_id,
            "key_id": lambda: self.open311_key[0],
            "sub_id": lambda: self.webhook_id,
            "key": lambda: self.media_key,
            "filename": lambda: "swagger-ui.css",
            "fmt": lambda: "json",
            "service_code": lambda: "streetlight_out",
            "token": lambda: "no-such-token",
            "rest": lambda: "no-such-resource",
            "handoff_id": lambda: 999999999,  # none: the guard answers before the 404
        }
        if name not in values:
            raise AssertionError(f"tests/security/test_role_matrix.py: give a value for the path "
                                 f"argument <{name}> in World.path_value")
        return str(values[name]())

    def url(self, rule) -> str:
        return rule.build({a: self.path_value(a, rule) for a in rule.arguments
                           if a not in (rule.defaults or {})}, append_unknown=False)[1]

    # --- the console: its own session cookie and CSRF token ------------------------------

    def console(self, principal: str):
        """A browser at the console: signed in there when the principal is staff, otherwise
        with only the anonymous session (and CSRF token) the sign-in page hands out."""
        cache = self.__dict__.setdefault("_consoles", {})
        if principal not in cache:
            browser = self.app.test_client()
            assert browser.get("/console/login").status_code == 200
            email = STAFF_EMAILS.get(principal)
            if email is not None:
                r = browser.post("/console/login", data={
                    "email": email(self), "password": TEST_PASSWORD,
                    "csrf_token": self._csrf(browser)})
                assert r.status_code == 302, (principal, r.status_code)
            cache[principal] = (browser, self._csrf(browser))
        return cache[principal]

    @staticmethod
    def _csrf(browser) -> str:
        with browser.session_transaction("/console/login") as session:  # the cookie's path
            return session["csrf"]


# A valid request per route, where the route parses its input before it checks the caller
# (a refusal can only show behind a body that parses). Allowed callers may still get a 4xx.
def _upload(world):
    return {"data": {"file": (io.BytesIO(_jpeg()), "photo.jpg")},
            "content_type": "multipart/form-data"}


SAMPLES = {
    ("auth.login", "POST"): lambda w: {"json": {"email": f"admin@{DOMAIN}",
                                                "password": TEST_PASSWORD}},
    ("reports.create", "POST"): lambda w: {"json": {
        "category": "streetlight_out", "description": "Đèn đường hỏng (kiểm thử quyền).",
        "lat": BAC_NINH[0], "lon": BAC_NINH[1], "photo_ids": []}},
    ("reports.duplicates", "GET"): lambda w: {"query_string": {
        "lat": BAC_NINH[0], "lon": BAC_NINH[1], "category": "streetlight_out"}},
    ("reports.reply", "POST"): lambda w: {"json": {"text": "Cột đèn số 12."}},
    ("reports.rating", "POST"): lambda w: {"json": {"score": 5}},
    ("reports.dispute", "POST"): lambda w: {"json": {"reason": "Đèn vẫn chưa sáng."}},
    ("photos.upload", "POST"): _upload,
    ("photos.staff_upload", "POST"): _upload,
    ("me_notifications.add_device", "POST"): lambda w: {"json": {
        "token": "fcm-" + "y" * 40, "platform": "android"}},
    ("me_notifications.mark_read", "POST"): lambda w: {"json": {}},
    ("staff_reports.post_transition", "POST"): lambda w: {"json": {"to": "accepted"}},
    ("staff_reports.action_accept", "POST"): lambda w: {"json": {}},
    ("staff_reports.action_return", "POST"): lambda w: {"json": {
        "reason_code": "other", "note": "Không thuộc thẩm quyền."}},
    ("staff_reports.action_request_info", "POST"): lambda w: {"json": {"question": "Số cột?"}},
    ("staff_reports.action_progress", "POST"): lambda w: {"json": {"note": "Đang xử lý."}},
    ("staff_reports.action_resolve", "POST"): lambda w: {"json": {"note": "Đã xử lý."}},
    ("staff_reports.action_assign", "POST"): lambda w: {"json": {"officer_id": w.officer_id}},
    ("staff_reports.action_extension", "POST"): lambda w: {"json": {"reason": "Chờ vật tư."}},
    ("staff_reports.action_extension_decision", "POST"): lambda w: {"json": {"approve": True}},
    ("staff_reports.action_route", "POST"): lambda w: {"json": {"unit_code": w.unit_code}},
    ("staff_reports.action_recategorise", "POST"): lambda w: {"json": {
        "category": "streetlight_out"}},
    ("staff_reports.action_class", "POST"): lambda w: {"json": {"sla_class": "urgent"}},
    ("staff_reports.action_reject", "POST"): lambda w: {"json": {
        "reason_code": "spam", "note": "Không phải phản ánh."}},
    ("staff_reports.action_duplicate", "POST"): lambda w: {"json": {
        "duplicate_of": w.report.code}},
    ("staff_reports.action_transfer_out", "POST"): lambda w: {"json": {
        "reason": "Khiếu nại: chuyển Thanh tra tỉnh."}},
    ("ioc_webhooks.replay_webhook", "POST"): lambda w: {"json": {"from_event_id": 1}},
    ("console.login", "POST"): lambda w: {"data": {"email": f"nobody@{DOMAIN}",
                                                   "password": "not-the-password"}},
    ("console.go", "GET"): lambda w: {"query_string": {"code": w.report.code}},
}


@pytest.fixture()
def world(app, client, db_session, citizen_token):
    return World(app, client, db_session, citizen_token)


def _to_sign_in(response) -> bool:
    return response.status_code == 302 and urlsplit(
        response.headers.get("Location", "")).path == "/console/login"


def _envelope_problem(access: P.Access, response, body) -> str | None:
    if access.envelope == P.NONE:
        return None
    if access.envelope == P.OPEN311:
        ok = (isinstance(body, list) and body and isinstance(body[0], dict)
              and body[0].get("code") == response.status_code and "description" in body[0])
        return None if ok else f"not an Open311 error list: {body!r}"[:200]
    ok = (isinstance(body, dict) and set(body) == {"code", "status", "message", "errors"}
          and body["status"] == response.status_code and isinstance(body["code"], str))
    return None if ok else f"not the error envelope: {body!r}"[:200]


def _call(world: World, rule, method: str, principal: str):
    sample = SAMPLES.get((rule.endpoint, method))
    kwargs = sample(world) if sample else {}
    headers = {**world.headers(principal), **kwargs.pop("headers", {})}
    query = dict(kwargs.pop("query_string", {}))
    if rule.rule.startswith("/open311/"):
        query |= world.key_param(principal)
    client = world.client
    if rule.rule.startswith("/console"):
        client, csrf = world.console(principal)
        if method not in ("GET", "HEAD"):
            kwargs["data"] = {**kwargs.get("data", {}), "csrf_token": csrf}
    url = world.url(rule)
    savepoint = world.connection.begin_nested()
    try:
        response = client.open(url, method=method, headers=headers, query_string=query,
                               **kwargs)
        try:
            streamed = response.mimetype == "text/event-stream" or (
                response.status_code < 400 and response.is_streamed)
            body = None if streamed else response.get_json(silent=True)
            return response, body
        finally:
            response.close()
    finally:
        savepoint.rollback()


def test_every_route_is_declared(app):
    missing = P.undeclared(app)
    assert not missing, (
        "routes without a declared access in api/security/policy.py POLICY "
        "(declare who may call each):\n" + "\n".join(f"  {e} {m} {r}" for e, m, r in missing))


def test_no_declaration_is_stale(app):
    stale = P.stale(app)
    assert not stale, ("declared in api/security/policy.py but not routed (renamed or removed?): "
                       f"{stale}")


def test_every_principal_is_decided_for_every_route():
    for key, access in P.POLICY.items():
        for principal in P.PRINCIPALS:
            assert principal in access.allowed or access.expected(principal) in (
                302, 401, 403, 404), key


@pytest.mark.parametrize("endpoint,method", sorted(P.POLICY), ids=lambda v: str(v))
def test_route_answers_each_principal_as_declared(app, world, endpoint, method):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint and method in r.methods]
    if not rules:
        pytest.skip(f"{endpoint} {method} is not routed (see test_no_declaration_is_stale)")
    access = P.POLICY[(endpoint, method)]
    problems = []
    for rule in rules:
        for principal in P.PRINCIPALS:
            response, body = _call(world, rule, method, principal)
            status = response.status_code
            if _to_sign_in(response):
                status = 302  # the console's "sign in first"
            elif status == 302:
                status = 303  # any other redirect: the call went through
            expected = access.expected(principal)
            where = f"{method} {rule.rule} as {principal}"
            if expected is None:
                if status in (401, 403) or status >= 500:
                    problems.append(f"{where}: declared allowed, got {status} {body!r}"[:300])
            elif status != expected:
                problems.append(f"{where}: declared {expected}, got {status} {body!r}"[:300])
            elif (problem := _envelope_problem(access, response, body)) is not None:
                problems.append(f"{where}: {problem}")
    assert not problems, f"{endpoint} {method} ({access.summary}):\n" + "\n".join(problems)
