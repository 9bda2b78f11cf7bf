"""Rate limits on the real Redis of the test run (api/security/ratelimit.py): the sliding
window, failing open, the decorator, staff sign-in throttling, and report creation."""
from __future__ import annotations

import logging
import uuid

import pytest
import redis
from flask import Flask

from api.config import Config
from api.security import ratelimit as rl
from tests.api.helpers import report_body, upload
from tests.conftest import TEST_PASSWORD

ADMIN = "admin@bacninh-ioc.test"
NOW = 1_800_000_000.0  # a window boundary for 60, 900 and 3600 s windows


def _rule(limit=3, seconds=60, identity=None) -> rl.Rule:
    return rl.Rule("test", identity or uuid.uuid4().hex, limit, seconds)


@pytest.fixture()
def limits_on(app, monkeypatch):
    """Rate limits are off in test mode unless a test turns them on."""
    cfg = app.config["APP"]
    monkeypatch.setattr(cfg, "RATE_LIMITS_ENABLED", True)
    return cfg


def _ip() -> dict:
    """A fresh client address, so counters of other tests (Redis is shared) never meet."""
    n = uuid.uuid4().int
    return {"REMOTE_ADDR": f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"}


# --- the counter --------------------------------------------------------------------------

def test_fixed_part_counts_up_to_the_limit(app):
    rule = _rule(limit=3)
    with app.app_context():
        assert [rl.hit([rule], now=NOW + 1) for _ in range(3)] == [None, None, None]
        wait = rl.hit([rule], now=NOW + 1)
        assert wait is not None and 1 <= wait <= 120


def test_a_refused_call_is_not_counted(app):
    rule = _rule(limit=1)
    with app.app_context():
        assert rl.hit([rule], now=NOW + 1) is None
        assert rl.hit([rule], now=NOW + 1) is not None
        client = app.extensions["redis"]
        assert int(client.get(rule.keys(NOW + 1)[0])) == 1


def test_the_window_slides(app):
    """Three calls at the end of one window still weigh at the start of the next."""
    rule = _rule(limit=3, seconds=60)
    with app.app_context():
        for _ in range(3):
            assert rl.hit([rule], now=NOW + 59) is None
        # 6 s into the next window, 90 % of the previous three still count: 2.7 + 1 > 3.
        assert rl.hit([rule], now=NOW + 66) is not None
        # Half-way through, 1.5 of them count: room for one more (1.5 + 1 ≤ 3), not two.
        assert rl.hit([rule], now=NOW + 90) is None
        assert rl.hit([rule], now=NOW + 90) is not None
        # Two windows on, the old calls are gone.
        assert rl.hit([rule], now=NOW + 180) is None


def test_retry_after_is_when_room_comes_back(app):
    rule = _rule(limit=2, seconds=60)
    with app.app_context():
        rl.hit([rule], now=NOW + 30)
        rl.hit([rule], now=NOW + 30)
        wait = rl.hit([rule], now=NOW + 30)
        # Estimate 2 now; room for one more once it is ≤ 1: 30 s to the window's end, then
        # half of the next window.
        assert wait == 60
        assert rl.hit([rule], now=NOW + 30 + wait) is None


def test_peek_does_not_count_and_reset_forgets(app):
    rule = _rule(limit=2)
    with app.app_context():
        assert rl.peek([rule], now=NOW + 1) is None
        rl.hit([rule], now=NOW + 1)
        rl.hit([rule], now=NOW + 1)
        assert rl.peek([rule], now=NOW + 1) is not None
        rl.reset([rule], now=NOW + 1)
        assert rl.peek([rule], now=NOW + 1) is None


def test_keys_hold_no_personal_data():
    rule = rl.Rule("login:email_ip", "someone@example.com|10.0.0.1", 10, 900)
    current, previous, _ = rule.keys(NOW)
    assert current.startswith("ratelimit:login:email_ip:900:")
    assert "someone" not in current and "10.0.0.1" not in previous


def test_redis_down_fails_open(app, monkeypatch, caplog):
    dead = redis.Redis.from_url("unix:///nonexistent/redis.sock", socket_connect_timeout=0.2)
    monkeypatch.setitem(app.extensions, "redis", dead)
    with app.app_context(), caplog.at_level(logging.WARNING, logger="api.security.ratelimit"):
        rule = _rule(limit=1)
        assert [rl.hit([rule]) for _ in range(3)] == [None, None, None]
        assert rl.peek([rule]) is None
        rl.reset([rule])
    assert "redis unavailable" in caplog.text


class _Failing:
    """A Redis client whose every pipeline fails, counting how often it is asked."""

    def __init__(self):
        self.calls = 0

    def pipeline(self, transaction=False):
        outer = self

        class Pipe:
            def __getattr__(self, name):
                return lambda *a, **k: None

            def execute(self):
                outer.calls += 1
                raise redis.ConnectionError("down")
        return Pipe()


def test_after_a_redis_error_the_limiter_stands_aside_for_a_while(app, monkeypatch):
    failing = _Failing()
    monkeypatch.setitem(app.extensions, "redis", failing)
    clock = [1000.0]
    monkeypatch.setattr(rl.time, "monotonic", lambda: clock[0])
    with app.app_context():
        assert [rl.hit([_rule()]) for _ in range(5)] == [None] * 5
        assert failing.calls == 1  # one slow failure, not one per request
        clock[0] += rl.BREAKER_SECONDS + 1
        assert rl.hit([_rule()]) is None
        assert failing.calls == 2


# --- who is calling -----------------------------------------------------------------------

@pytest.mark.parametrize("hops,remote,forwarded,expected", [
    (0, "10.1.2.3", "1.1.1.1", "10.1.2.3"),                # X-Forwarded-For is not trusted
    (1, "10.0.0.1", "1.1.1.1, 2.2.2.2", "2.2.2.2"),         # one proxy: its view of the client
    (2, "10.0.0.1", "1.1.1.1, 2.2.2.2", "1.1.1.1"),
    (2, "10.0.0.1", "2.2.2.2", "10.0.0.1"),                 # too few hops: the socket's address
    (0, "2001:db8:1:2:3:4:5:6", None, "2001:db8:1:2::/64"),  # IPv6 by its /64
    (0, "::ffff:10.9.8.7", None, "10.9.8.7"),
])
def test_client_ip(app, monkeypatch, hops, remote, forwarded, expected):
    monkeypatch.setattr(app.config["APP"], "TRUSTED_PROXY_COUNT", hops)
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": remote}):
        assert rl.client_ip() == expected


# --- the decorator --------------------------------------------------------------------------

def _tiny_app(app, **config) -> Flask:
    tiny = Flask(__name__)
    tiny.config["APP"] = Config(APP_ENV="test", RATE_LIMITS_ENABLED=True, **config)
    tiny.extensions["redis"] = app.extensions["redis"]
    from api.errors import register_error_handlers
    register_error_handlers(tiny)
    name = f"chat-{uuid.uuid4().hex[:8]}"

    @tiny.post("/chat")
    @rl.rate_limit(name, per_minute=2, per_hour="RATE_LIMIT_REPORTS_PER_HOUR")
    def chat():
        return {"ok": True}
    return tiny


def test_decorator_answers_429_in_the_envelope_with_retry_after(app):
    client = _tiny_app(app, RATE_LIMIT_REPORTS_PER_HOUR=100).test_client()
    ip = _ip()
    assert [client.post("/chat", environ_base=ip).status_code for _ in range(2)] == [200, 200]
    r = client.post("/chat", environ_base=ip)
    assert r.status_code == 429
    assert set(r.json) == {"code", "status", "message", "errors"}
    assert r.json["code"] == "RATE_LIMITED" and r.json["status"] == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 120
    assert client.post("/chat", environ_base=_ip()).status_code == 200  # another address


def test_decorator_reads_limits_from_the_config_on_each_call(app):
    tiny = _tiny_app(app, RATE_LIMIT_REPORTS_PER_HOUR=1)
    client = tiny.test_client()
    ip = _ip()
    assert client.post("/chat", environ_base=ip).status_code == 200
    assert client.post("/chat", environ_base=ip).status_code == 429
    tiny.config["APP"].RATE_LIMIT_REPORTS_PER_HOUR = 0  # 0: no hourly limit
    assert client.post("/chat", environ_base=ip).status_code == 200


def test_decorator_is_off_when_limits_are_off(app):
    tiny = _tiny_app(app)
    tiny.config["APP"].RATE_LIMITS_ENABLED = False
    client = tiny.test_client()
    ip = _ip()
    assert {client.post("/chat", environ_base=ip).status_code for _ in range(4)} == {200}


def test_limits_are_off_in_test_mode_by_default_and_on_elsewhere():
    assert not Config(APP_ENV="test").rate_limits_on
    assert Config(APP_ENV="demo").rate_limits_on
    assert Config(APP_ENV="test", RATE_LIMITS_ENABLED=True).rate_limits_on
    assert not Config(APP_ENV="demo", RATE_LIMITS_ENABLED=False).rate_limits_on


# --- staff sign-in --------------------------------------------------------------------------

def _login(client, email, password, ip):
    return client.post("/api/v1/auth/login", json={"email": email, "password": password},
                       environ_base=ip)


def test_failed_sign_ins_are_throttled_per_email_and_address(client, limits_on, monkeypatch):
    monkeypatch.setattr(limits_on, "RATE_LIMIT_LOGIN_PER_15MIN", 3)
    ip = _ip()
    assert [_login(client, ADMIN, "wrong", ip).status_code for _ in range(3)] == [401] * 3
    r = _login(client, ADMIN, TEST_PASSWORD, ip)  # even the right password waits now
    assert r.status_code == 429 and r.json["code"] == "RATE_LIMITED"
    # The sliding estimate spreads the failures over the window: room comes back within two.
    assert 60 <= int(r.headers["Retry-After"]) <= 2 * 15 * 60
    assert "Đăng nhập sai quá nhiều lần" in r.json["message"]
    # The account is not locked for everyone: the same e-mail from elsewhere still works.
    assert _login(client, ADMIN, TEST_PASSWORD, _ip()).status_code == 200


def test_a_successful_sign_in_forgets_the_failures(client, limits_on, monkeypatch):
    monkeypatch.setattr(limits_on, "RATE_LIMIT_LOGIN_PER_15MIN", 3)
    ip = _ip()
    assert [_login(client, ADMIN, "wrong", ip).status_code for _ in range(2)] == [401, 401]
    assert _login(client, ADMIN, TEST_PASSWORD, ip).status_code == 200
    assert [_login(client, ADMIN, "wrong", ip).status_code for _ in range(3)] == [401] * 3
    assert _login(client, ADMIN, "wrong", ip).status_code == 429


def test_one_address_trying_many_accounts_is_throttled(client, limits_on, monkeypatch):
    monkeypatch.setattr(limits_on, "RATE_LIMIT_LOGIN_PER_IP_PER_15MIN", 4)
    ip = _ip()
    statuses = [_login(client, f"user{n}@bacninh-ioc.test", "guess", ip).status_code
                for n in range(5)]
    assert statuses == [401, 401, 401, 401, 429]


def test_malformed_sign_ins_are_not_failures(client, limits_on, monkeypatch):
    monkeypatch.setattr(limits_on, "RATE_LIMIT_LOGIN_PER_15MIN", 1)
    ip = _ip()
    for _ in range(3):
        assert client.post("/api/v1/auth/login", json={"email": "x"}, environ_base=ip
                           ).status_code == 422
    assert _login(client, ADMIN, TEST_PASSWORD, ip).status_code == 200


def test_production_refuses_the_demo_staff_password(client, app, monkeypatch):
    """An account seeded in demo mode keeps the demo password: production will not take it."""
    cfg = app.config["APP"]
    monkeypatch.setattr(cfg, "APP_ENV", "production")
    assert cfg.is_demo_staff_password(TEST_PASSWORD)  # the tests' DEMO_STAFF_PASSWORD
    r = _login(client, ADMIN, TEST_PASSWORD, _ip())
    assert r.status_code == 401 and r.json["code"] == "INVALID_CREDENTIALS"


# --- report creation (the decorator line the reports view carries) ------------------------

REPORT_LIMIT = rl.rate_limit(
    "report_create", key=rl.by_citizen_device_and_ip,
    per_hour={"citizen": "RATE_LIMIT_REPORTS_PER_HOUR", "ip": "RATE_LIMIT_REPORTS_PER_IP_PER_HOUR"})


@pytest.fixture()
def limited_reports(app, limits_on, monkeypatch):
    """``reports.create`` with the rate limit (as the view declares it, or wrapped here until
    it does), 2 per citizen or device and 3 per address."""
    view = app.view_functions["reports.create"]
    if getattr(view, "__rate_limit__", None) is None:
        monkeypatch.setitem(app.view_functions, "reports.create", REPORT_LIMIT(view))
    monkeypatch.setattr(limits_on, "RATE_LIMIT_REPORTS_PER_HOUR", 2)
    monkeypatch.setattr(limits_on, "RATE_LIMIT_REPORTS_PER_IP_PER_HOUR", 3)
    return limits_on


def _send(client, headers, ip):
    photo = upload(client, headers)
    assert photo.status_code == 201, photo.json
    return client.post("/api/v1/reports", json=report_body([photo.json["id"]]),
                       headers=dict(headers, **{"Idempotency-Key": uuid.uuid4().hex}),
                       environ_base=ip)


def test_reports_are_limited_per_device_and_per_address(client, limited_reports):
    ip = _ip()
    device = {"X-Device-Id": f"device-{uuid.uuid4().hex[:12]}"}
    assert [_send(client, device, ip).status_code for _ in range(2)] == [201, 201]
    r = _send(client, device, ip)
    assert r.status_code == 429 and r.json["code"] == "RATE_LIMITED" and r.headers["Retry-After"]
    # Another phone behind the same address: one more fits the address's budget of three
    # (the refused call was not counted), the next does not.
    other = {"X-Device-Id": f"device-{uuid.uuid4().hex[:12]}"}
    assert _send(client, other, ip).status_code == 201
    assert _send(client, other, ip).status_code == 429
    # The first phone elsewhere is still over its own limit.
    assert _send(client, device, _ip()).status_code == 429


def test_a_signed_in_citizen_is_counted_across_devices(client, limited_reports, citizen_token):
    token = {"Authorization": f"Bearer {citizen_token()}"}
    for n in range(2):
        headers = dict(token, **{"X-Device-Id": f"device-{uuid.uuid4().hex[:12]}"})
        assert _send(client, headers, _ip()).status_code == 201
    headers = dict(token, **{"X-Device-Id": f"device-{uuid.uuid4().hex[:12]}"})
    assert _send(client, headers, _ip()).status_code == 429


def test_the_console_sign_in_is_throttled_too(client, limits_on, monkeypatch):
    """The staff console signs in through the same authenticate_staff: same counters."""
    import re
    monkeypatch.setattr(limits_on, "RATE_LIMIT_LOGIN_PER_15MIN", 2)
    ip = _ip()
    page = client.get("/console/login", environ_base=ip).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def attempt(password):
        return client.post("/console/login", environ_base=ip, data={
            "csrf_token": csrf, "email": ADMIN, "password": password})
    assert [attempt("wrong").status_code for _ in range(2)] == [200, 200]  # the form again
    refused = attempt(TEST_PASSWORD)
    assert refused.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in refused.get_data(as_text=True)
    # The API sign-in from that address shares the counter.
    assert _login(client, ADMIN, TEST_PASSWORD, ip).status_code == 429
