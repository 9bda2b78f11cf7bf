"""The tourism seed, loaded once per test session and committed (loading only adds rows
that are missing, so a second run changes nothing); each test's own writes roll back."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tourism_seed(app):
    from api.db import db
    from api.tourism import loaders
    with app.app_context(), db.unit_of_work() as session:
        loaders.load_all(session, app.config["APP"].PROVINCE_CODE)
        return loaders.tourism_counts(session)


@pytest.fixture()
def tclient(client, tourism_seed):
    """A rolled-back client on a database that holds the tourism seed."""
    return client


def place_id(client, slug_name: str) -> int:
    """The id of a seeded place, found by its exact Vietnamese name."""
    items = client.get("/api/v1/places", query_string={"q": slug_name, "limit": 5}).json["items"]
    return next(p["id"] for p in items if p["name_vi"] == slug_name)


@pytest.fixture()
def tsession(app, db_session, tourism_seed):
    """A session in the test's rolled-back transaction (same one as ``client``)."""
    from api.db import db
    with app.app_context():
        yield db.session
