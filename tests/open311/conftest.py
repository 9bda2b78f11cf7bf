"""Open311 fixtures: the demo API key, inside the rolled-back test transaction."""
from __future__ import annotations

import pytest


DEMO_KEY = "demo-open311-key"


@pytest.fixture()
def api_key(app, db_session):
    """The demo key, seeded as the loader will, inside the rolled-back test transaction."""
    from api.db import db
    from api.open311.keys import ensure_demo_key
    with app.app_context():
        session = db.Session()
        ensure_demo_key(session, DEMO_KEY)
        session.commit()
        session.close()
    return DEMO_KEY
