"""Property-based fuzzing of the whole OpenAPI document (``/openapi.json``) with schemathesis,
in process against the WSGI app, on the real PostgreSQL and Redis of the test run.

Every operation gets its examples, the coverage phase's edge cases and a bounded number
of generated requests (``SCHEMATHESIS_MAX_EXAMPLES``, default 50), each with the
credentials its ``security`` names: a Firebase-signed citizen for ``firebase``/``device``,
an admin token for ``staff`` routes under ``/api/v1/admin``, a dispatcher token for the
other staff routes and the IOC feed. Checks:

- no 5xx (every 500 is a bug to fix), but for the deliberate 503 + Retry-After of an
  unavailable dependency;
- ``response_schema_conformance`` on successful answers (2xx/3xx);
- every error answer is the ``{code, status, message, errors}`` envelope of
  mobile_contracts/errors.md.

Data: the whole run is one test inside the ``db_session`` transaction, rolled back at the
end (each request commits to a savepoint of it): nothing fuzzed stays in the database, and
the run does not disturb other tests. Each operation runs in a savepoint of its own,
rolled back after it, so that one operation's leftovers never make another one fail. A
report of the citizen, routed to a unit, is made first; 70 % of the generated ``{code}``
path values name it, so that the workflow handlers run on a real report, not only their
404.

Generation is deterministic (a fixed seed) so that CI is reproducible; set
``SCHEMATHESIS_SEED`` to explore other inputs and ``SCHEMATHESIS_MAX_EXAMPLES`` for more.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.helpers import new_report
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.slow

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "50"))
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261124"))
DOMAIN = "bacninh-ioc.test"


def _config(report_code: str):
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none",
                       "with-security-parameters": False, "deterministic": True},
        "phases": {"stateful": {"enabled": False}},
        # Most {code} paths name the citizen's real, routed report (the rest are generated),
        # so that the workflow's handlers run, not only their 404.
        "dictionaries": {"reports": {"values": [report_code]}},
        "parameters": {"path.code": {"dictionary": "reports", "probability": 0.7}},
    })


@pytest.fixture()
def credentials(client, citizen_token):
    def login(email):
        r = client.post("/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD})
        assert r.status_code == 200, r.json
        return {"Authorization": f"Bearer {r.json['access_token']}"}
    return {
        "citizen": {"Authorization": f"Bearer {citizen_token('fuzz-citizen')}"},
        "admin": login(f"admin@{DOMAIN}"),
        "dispatcher": login(f"dispatcher@{DOMAIN}"),
    }


@pytest.fixture()
def report_code(app, client, credentials):
    from sqlalchemy import select
    from api.db import db
    from api.reports.models import Report
    from api.routing.geocode import AddressLookup
    from api.routing.service import route_report
    code = new_report(client, credentials["citizen"])["code"]
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.code == code))
        route_report(db.session, report.id, AddressLookup(None))
        db.session.commit()  # a savepoint of the test's transaction
    return code


@pytest.fixture()
def fuzz_schema(app, client, db_session, report_code, monkeypatch):
    # The live stream would otherwise hold each call for STREAM_MAX_SECONDS.
    monkeypatch.setattr(app.config["APP"], "STREAM_MAX_SECONDS", 0)
    return schemathesis.openapi.from_wsgi("/openapi.json", app, config=_config(report_code))


def headers_for(operation, credentials) -> dict:
    security = operation.definition.raw.get("security")
    if security is None:
        security = operation.schema.raw_schema.get("security", [])
    names = {name for requirement in security for name in requirement}
    if not names:
        return {}
    if names & {"firebase", "device"}:
        return credentials["citizen"]
    if operation.path.startswith("/api/v1/admin"):
        return credentials["admin"]
    return credentials["dispatcher"]


def no_server_error(ctx, response, case):
    """A 5xx is a bug, except the deliberate 503 with Retry-After that says a dependency
    (database, Redis, token certificates) is down: the contract tells clients to retry."""
    if response.status_code == 503 and response.headers.get("retry-after"):
        return None
    return not_a_server_error(ctx, response, case)


def error_envelope(ctx, response, case):
    """Errors of the API are the envelope the app relies on (mobile_contracts/errors.md);
    the readiness probe answers 503 in its own documented shape."""
    if response.status_code < 400 or case.operation.path == "/readyz":
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"code", "status", "message", "errors"}, body
    assert body["status"] == response.status_code, body
    assert isinstance(body["code"], str) and body["code"].isupper(), body
    return None


def success_schema(ctx, response, case):
    """The documented schema of successful answers. Errors are checked against the real
    envelope above: the document's ``default`` Error schema is flask-smorest's, not ours.
    An answer documented only by ``default`` has no schema of its own to check."""
    documented = case.operation.definition.raw.get("responses", {})
    status = str(response.status_code)
    if response.status_code >= 400 or (status not in documented
                                       and f"{status[0]}XX" not in documented):
        return None
    return response_schema_conformance(ctx, response, case)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and not str(exc).startswith("Schemathesis found"):
        return "\n".join(_describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


def test_no_server_errors_anywhere(fuzz_schema, credentials, db_session):
    # Each operation's Hypothesis test is built the way schemathesis' pytest plugin builds it
    # (examples, coverage and fuzzing phases) and run here, failures collected per operation.
    # (``schemathesis.pytest.from_fixture`` needs a pytest internal that pytest 9 removed.)
    from schemathesis.pytest.lazy import get_all_tests

    def call(case):
        case.call_and_validate(headers=headers_for(case.operation, credentials),
                               checks=[no_server_error, success_schema, error_envelope])

    failures, ran = [], 0
    if os.environ.get("SCHEMATHESIS_PATHS"):  # a regular expression, to dig into some paths
        fuzz_schema = fuzz_schema.include(path_regex=os.environ["SCHEMATHESIS_PATHS"])
    for result in get_all_tests(schema=fuzz_schema, test_func=call, settings=None,
                                given_kwargs=None):
        if not hasattr(result, "ok") or result.__class__.__name__ != "Ok":
            failures.append(f"schema error: {result.err()}")
            continue
        operation, test = result.ok()
        ran += 1
        # Each operation in its own savepoint: what one leaves behind (or breaks) is undone
        # before the next, so a failure is reported where it happens.
        savepoint = db_session.begin_nested()
        try:
            test()
        except (Exception, BaseExceptionGroup) as exc:  # every failure is reported below
            failures.append(f"{operation.label}:\n{_describe(exc)}")
        finally:
            if savepoint.is_active:
                savepoint.rollback()
    assert ran >= (1 if os.environ.get("SCHEMATHESIS_PATHS") else 50), f"only {ran} operations?"
    assert not failures, f"{len(failures)} of {ran} operations failed:\n\n" + "\n\n".join(failures)
