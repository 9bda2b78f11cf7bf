"""Fixtures of the privacy tests: an ORM session on the test's rolled-back connection."""
from __future__ import annotations

import pytest

from api.db import db


@pytest.fixture()
def session(app, db_session):
    with app.app_context():
        yield db.session
