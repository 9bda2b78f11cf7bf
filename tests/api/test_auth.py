"""Staff sign-in and citizen tokens, verified for real."""
import pytest

from tests.conftest import TEST_PASSWORD

ADMIN = "admin@bacninh-ioc.test"


def test_staff_login_returns_short_lived_token(client, app):
    r = client.post("/api/v1/auth/login", json={"email": ADMIN, "password": TEST_PASSWORD})
    assert r.status_code == 200, r.json
    assert r.json["role"] == "admin"
    assert r.json["token_type"] == "Bearer"
    import jwt
    claims = jwt.decode(r.json["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == app.config["STAFF_TOKEN_TTL_SECONDS"]


def test_email_is_case_insensitive(client):
    r = client.post("/api/v1/auth/login", json={"email": ADMIN.upper(), "password": TEST_PASSWORD})
    assert r.status_code == 200


@pytest.mark.parametrize("email,password", [
    (ADMIN, "wrong-password"),
    ("nobody@bacninh-ioc.test", TEST_PASSWORD),
])
def test_bad_credentials(client, email, password):
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == 401
    assert r.json["code"] == "INVALID_CREDENTIALS"


def test_login_validates_shape(client):
    r = client.post("/api/v1/auth/login", json={"email": "not-an-email"})
    assert r.status_code == 422
    assert r.json["code"] == "VALIDATION_ERROR"
    assert set(r.json["errors"]) == {"email", "password"}


def test_every_role_has_demo_accounts(client):
    for email, role in [("dispatcher@bacninh-ioc.test", "dispatcher"),
                        ("officer.sxd@bacninh-ioc.test", "officer"),
                        ("head.sxd@bacninh-ioc.test", "unit_head"),
                        ("officer.ubnd-07210@bacninh-ioc.test", "officer")]:
        r = client.post("/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD})
        assert r.status_code == 200, (email, r.json)
        assert r.json["role"] == role


def test_citizen_token_is_verified(client, citizen):
    r = client.get("/api/v1/me/reports", headers=citizen)
    assert r.status_code == 200
    assert r.json == {"items": [], "next_cursor": None}


def test_expired_citizen_token(client, citizen_token):
    token = citizen_token(expires_in=60, issued_ago=3600)
    r = client.get("/api/v1/me/reports", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.json["code"] == "TOKEN_EXPIRED"


def test_token_signed_by_another_key(client, citizen_token):
    from cryptography.hazmat.primitives.asymmetric import rsa
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    r = client.get("/api/v1/me/reports",
                   headers={"Authorization": f"Bearer {citizen_token(key=other)}"})
    assert r.status_code == 401
    assert r.json["code"] == "INVALID_TOKEN"


def test_token_for_another_project(client, citizen_token):
    r = client.get("/api/v1/me/reports",
                   headers={"Authorization": f"Bearer {citizen_token(audience='other-project')}"})
    assert r.status_code == 401
    assert r.json["code"] == "INVALID_TOKEN"


@pytest.mark.parametrize("header", ["Bearer", "Bearer not.a.jwt", "Basic abc", "Bearer a.b.c"])
def test_malformed_tokens(client, header):
    r = client.get("/api/v1/me/reports", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.json["code"] == "INVALID_TOKEN"


def test_no_identity(client):
    r = client.get("/api/v1/me/reports")
    assert r.status_code == 401
    assert r.json["code"] == "UNAUTHENTICATED"


def test_bad_device_id(client):
    r = client.get("/api/v1/me/reports", headers={"X-Device-Id": "x"})
    assert r.status_code == 400
    assert r.json["code"] == "INVALID_DEVICE_ID"


def test_staff_token_cannot_act_as_citizen(client):
    token = client.post("/api/v1/auth/login",
                        json={"email": ADMIN, "password": TEST_PASSWORD}).json["access_token"]
    r = client.get("/api/v1/me/reports", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    assert r.json["code"] == "CITIZEN_ONLY"
