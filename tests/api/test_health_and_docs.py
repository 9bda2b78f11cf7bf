"""The skeleton from the outside: health, readiness, OpenAPI, docs, the error envelope."""


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json == {"status": "ok"}
    assert r.headers["X-Request-Id"]


def test_request_id_is_echoed(client):
    r = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert r.headers["X-Request-Id"] == "abc-123"


def test_readyz_checks_database_and_broker(client):
    r = client.get("/readyz")
    assert r.status_code == 200, r.json
    assert r.json["checks"] == {"database": "ok", "broker": "ok"}


def test_openapi_document(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json
    assert doc["openapi"] == "3.0.3"
    for path in ("/api/v1/reports", "/api/v1/reports/{code}", "/api/v1/photos",
                 "/api/v1/categories", "/api/v1/auth/login", "/api/v1/me/reports",
                 "/api/v1/reports/duplicates", "/api/v1/reports/{code}/events",
                 "/api/v1/reports/{code}/follow"):
        assert path in doc["paths"], path


def test_interactive_docs_served_without_cdn(client):
    r = client.get("/docs")
    assert r.status_code == 200
    html = r.data.decode()
    assert "/docs/assets/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    asset = client.get("/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_unknown_route_uses_envelope(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json == {"code": "NOT_FOUND", "status": 404, "message": r.json["message"], "errors": {}}


def test_method_not_allowed_keeps_allow_header(client):
    r = client.put("/api/v1/categories")
    assert r.status_code == 405
    assert r.json["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in r.headers["Allow"]


def test_malformed_json_is_400_not_500(client, device):
    r = client.post("/api/v1/reports", data="{not json", headers=device,
                    content_type="application/json")
    assert r.status_code in (400, 422)
    assert r.json["code"] in ("BAD_REQUEST", "VALIDATION_ERROR")
