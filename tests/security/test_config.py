"""Production refuses to start with demo secrets (api/config.py ``Config.validate``)."""
from __future__ import annotations

import pytest

from api.config import DEMO_SECRET_KEY, DEMO_STAFF_PASSWORD, Config, ConfigError

GOOD = dict(APP_ENV="production", DATABASE_URL="postgresql://ioc@db/ioc",
            CELERY_BROKER_URL="redis://redis:6379/0", SECRET_KEY="k" * 48,
            FIREBASE_PROJECT_ID="ioc-bacninh-prod")


@pytest.fixture(autouse=True)
def _no_emulator(monkeypatch):
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)


def test_a_real_production_configuration_passes():
    Config(**GOOD).validate()


@pytest.mark.parametrize("override,needle", [
    ({"SECRET_KEY": DEMO_SECRET_KEY}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"FIREBASE_PROJECT_ID": Config.FIREBASE_PROJECT_ID}, "FIREBASE_PROJECT_ID"),
    ({"FCM_STATIC_TOKEN": "static-token"}, "FCM_STATIC_TOKEN"),
    ({"OPEN311_DEMO_API_KEY": "demo-open311-key"}, "OPEN311_DEMO_API_KEY"),
    ({"OPEN311_DEMO_API_KEY": "any-other-key"}, "OPEN311_DEMO_API_KEY"),
    ({"DEMO_STAFF_PASSWORD": "Another-Demo-Pass-1"}, "DEMO_STAFF_PASSWORD"),
    ({"DATABASE_URL": None}, "DATABASE_URL"),
    ({"CELERY_BROKER_URL": None}, "CELERY_BROKER_URL"),
])
def test_production_refuses_demo_secrets(override, needle):
    with pytest.raises(ConfigError, match=needle):
        Config(**(GOOD | override)).validate()


def test_production_refuses_the_firebase_emulator(monkeypatch):
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    with pytest.raises(ConfigError, match="FIREBASE_AUTH_EMULATOR_HOST"):
        Config(**GOOD).validate()


@pytest.mark.parametrize("env", ["demo", "test"])
def test_demo_and_test_keep_their_demo_secrets(env):
    Config(APP_ENV=env, OPEN311_DEMO_API_KEY="demo-open311-key", DEMO_STAFF_PASSWORD="x" * 12,
           FCM_STATIC_TOKEN="t").validate()


def test_the_demo_staff_password_is_recognised_in_every_form():
    cfg = Config(**GOOD)
    assert cfg.is_demo_staff_password(DEMO_STAFF_PASSWORD)
    assert not cfg.is_demo_staff_password("a-real-password-of-the-admin")
    demo = Config(APP_ENV="demo", DEMO_STAFF_PASSWORD="Demo-Pass-2")
    assert demo.is_demo_staff_password("Demo-Pass-2") and demo.is_demo_staff_password(
        DEMO_STAFF_PASSWORD)


def test_from_env_production_refuses_a_demo_open311_key(monkeypatch):
    for name, value in (GOOD | {"OPEN311_DEMO_API_KEY": "demo-open311-key"}).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="OPEN311_DEMO_API_KEY"):
        Config.from_env()


def test_from_env_reads_the_rate_limits(monkeypatch):
    monkeypatch.setenv("APP_ENV", "demo")
    monkeypatch.setenv("RATE_LIMIT_REPORTS_PER_HOUR", "7")
    monkeypatch.setenv("RATE_LIMIT_REPORTS_PER_IP_PER_HOUR", "70")
    monkeypatch.setenv("RATE_LIMIT_LOGIN_PER_15MIN", "5")
    monkeypatch.setenv("RATE_LIMIT_LOGIN_PER_IP_PER_15MIN", "25")
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "1")
    monkeypatch.setenv("RATE_LIMITS_ENABLED", "false")
    cfg = Config.from_env()
    assert (cfg.RATE_LIMIT_REPORTS_PER_HOUR, cfg.RATE_LIMIT_REPORTS_PER_IP_PER_HOUR,
            cfg.RATE_LIMIT_LOGIN_PER_15MIN, cfg.RATE_LIMIT_LOGIN_PER_IP_PER_15MIN,
            cfg.TRUSTED_PROXY_COUNT) == (7, 70, 5, 25, 1)
    assert cfg.RATE_LIMITS_ENABLED is False and not cfg.rate_limits_on


def test_rate_limits_default_to_the_documented_values(monkeypatch):
    for name in ("RATE_LIMIT_REPORTS_PER_HOUR", "RATE_LIMIT_REPORTS_PER_IP_PER_HOUR",
                 "RATE_LIMIT_LOGIN_PER_15MIN", "RATE_LIMIT_LOGIN_PER_IP_PER_15MIN",
                 "RATE_LIMITS_ENABLED", "TRUSTED_PROXY_COUNT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "demo")
    cfg = Config.from_env()
    assert (cfg.RATE_LIMIT_REPORTS_PER_HOUR, cfg.RATE_LIMIT_REPORTS_PER_IP_PER_HOUR,
            cfg.RATE_LIMIT_LOGIN_PER_15MIN, cfg.RATE_LIMIT_LOGIN_PER_IP_PER_15MIN,
            cfg.TRUSTED_PROXY_COUNT) == (20, 60, 10, 50, 0)
    assert cfg.RATE_LIMITS_ENABLED is None and cfg.rate_limits_on


def test_negative_limits_are_refused():
    with pytest.raises(ConfigError, match="RATE_LIMIT_LOGIN_PER_15MIN"):
        Config(APP_ENV="demo", RATE_LIMIT_LOGIN_PER_15MIN=-1).validate()
