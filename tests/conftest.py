"""Test fixtures on real services.

PostgreSQL: ``TEST_DATABASE_URL`` (or ``DATABASE_URL``) names a server on which
a fresh database is created for the run; unset → the embedded server under
``.data/test-pg``. Redis: ``REDIS_URL`` or an embedded redis-server.
Firebase certificates are served by a loopback stub. Each test runs inside a
transaction that is rolled back, unless it asks for ``committed_app``.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from api.config import Config
from scripts import services
from tests.stubs.fcm import FcmStub
from tests.stubs.firebase import FirebaseCertServer

ROOT = Path(__file__).resolve().parent.parent
TEST_PASSWORD = "Test-Staff-Pass-1"
PROJECT_ID = "ioc-test-project"
FCM_TOKEN = "static-test-oauth-token"


def _server_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    base = _server_url()
    name = f"ioc_test_{uuid.uuid4().hex[:8]}"
    if base:
        from sqlalchemy.engine import make_url
        url = make_url(services.normalise_db_url(base)).set(database=name).render_as_string(
            hide_password=False)
    else:
        server = services.embedded_postgres(ROOT / ".data" / "test-pg")
        url = services.embedded_url(server, name)
    services.ensure_database(url)
    yield url
    services.drop_database(url)


@pytest.fixture(scope="session")
def migrated_db(database_url):
    from alembic import command
    from alembic.config import Config as AlembicConfig
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.attributes["url"] = database_url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")
    return database_url


@pytest.fixture(scope="session")
def redis_url():
    url, server = services.redis_url(ROOT / ".data" / "test-redis")
    yield url
    if server:
        server.stop()


@pytest.fixture(scope="session")
def broker_url(redis_url):
    """Celery's broker: TEST_BROKER_URL (CI: the machine's RabbitMQ, amqp://) or the Redis above."""
    return os.environ.get("TEST_BROKER_URL") or redis_url


@pytest.fixture(scope="session")
def firebase():
    server = FirebaseCertServer(PROJECT_ID).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fcm_server():
    server = FcmStub(PROJECT_ID)
    yield server
    server.stop()


@pytest.fixture()
def fcm(fcm_server):
    """The loopback FCM endpoint, emptied for this test."""
    fcm_server.reset()
    return fcm_server


@pytest.fixture(scope="session")
def app_config(migrated_db, redis_url, broker_url, firebase, fcm_server, tmp_path_factory
               ) -> Config:
    return Config(
        APP_ENV="test", SECRET_KEY="test-secret-key-" + "x" * 32, DATABASE_URL=migrated_db,
        CELERY_BROKER_URL=broker_url, REDIS_URL=redis_url,
        DATA_DIR=str(tmp_path_factory.mktemp("data")),
        PHOTO_STORAGE_URL=str(tmp_path_factory.mktemp("photos")),
        PUBLIC_BASE_URL="http://testserver", FIREBASE_PROJECT_ID=PROJECT_ID,
        FIREBASE_CERTS_URL=firebase.url, DEMO_STAFF_PASSWORD=TEST_PASSWORD, LOG_JSON=False,
        LOG_LEVEL="WARNING", FCM_URL=fcm_server.url, FCM_STATIC_TOKEN=FCM_TOKEN,
        PUSH_RETRY_BASE_SECONDS=1, WEBHOOK_RETRY_BASE_SECONDS=1, WEBHOOK_RETRY_MAX_SECONDS=2)


@pytest.fixture(scope="session")
def app(app_config):
    from api import create_app
    from api.db import db
    from api.reference import loaders
    application = create_app(app_config)
    with application.app_context(), db.unit_of_work() as session:
        loaders.load_admin_units(session)
        loaders.load_units(session, app_config.PROVINCE_CODE)
        loaders.load_categories(session, allow_anonymous_everywhere=True)
        loaders.load_demo_staff(session, TEST_PASSWORD)
        loaders.load_sla_policies(session)
    return application


@pytest.fixture()
def db_session(app):
    """Every request of the test shares one connection whose transaction is rolled back."""
    from api.db import db
    connection = db.engine.connect()
    outer = connection.begin()
    original = db.Session.kw.copy()
    db.Session.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield connection
    finally:
        db.Session.kw.clear()
        db.Session.kw.update(original)
        outer.rollback()
        connection.close()


@pytest.fixture()
def session(app, db_session):
    """The database session of test code (requests get their own, on the same connection)."""
    from api.db import db
    with app.app_context():
        yield db.session


@pytest.fixture()
def client(app, db_session):
    return app.test_client()


@pytest.fixture()
def committed_client(app):
    """A client whose writes are really committed (for concurrency and live-server tests)."""
    return app.test_client()


@pytest.fixture()
def citizen_token(firebase):
    def make(uid: str | None = None, **kwargs) -> str:
        return firebase.token(uid or f"user-{uuid.uuid4().hex[:10]}", **kwargs)
    return make


@pytest.fixture()
def citizen(citizen_token):
    """Authorization headers of one signed-in citizen."""
    return {"Authorization": f"Bearer {citizen_token()}"}


@pytest.fixture()
def device():
    return {"X-Device-Id": f"device-{uuid.uuid4().hex[:12]}"}
