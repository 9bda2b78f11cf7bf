"""Migrations: upgrade from empty, downgrade to empty, upgrade again — on a scratch database."""
import uuid

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from scripts import services
from tests.conftest import ROOT


def test_upgrade_downgrade_roundtrip(database_url):
    url = make_url(database_url).set(database=f"ioc_mig_{uuid.uuid4().hex[:8]}").render_as_string(
        hide_password=False)
    services.ensure_database(url)
    try:
        cfg = AlembicConfig(str(ROOT / "alembic.ini"))
        cfg.attributes["url"] = url
        cfg.attributes["configure_logger"] = False
        engine = create_engine(url)
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert {"report", "report_event", "outbox", "photo", "ward", "category"} <= tables
            exts = {r[0] for r in conn.execute(text("SELECT extname FROM pg_extension"))}
            assert {"cube", "earthdistance", "unaccent", "pg_trgm"} <= exts
        command.downgrade(cfg, "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        command.upgrade(cfg, "head")
        engine.dispose()
    finally:
        services.drop_database(url)


def test_models_match_migrations(migrated_db):
    """Autogenerate against the migrated schema finds nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from api.db import Base
    import api.models  # noqa: F401
    engine = create_engine(migrated_db)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
