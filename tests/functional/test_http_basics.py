"""The application's contract on every response: ids, headers, problems, health."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError

from tradeguard.gateway.middleware import API_POLICY, PAGE_POLICY

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, reason_code: str) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["reason_code"] == reason_code
    assert body["type"].startswith("urn:tradeguard:problem:")
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def test_healthz_when_process_up_then_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_path_when_requested_then_problem_404_with_request_id(client: TestClient) -> None:
    body = assert_problem(client.get("/nope"), 404, "NOT_FOUND")
    assert body["type"] == "urn:tradeguard:problem:not-found"
    assert body["instance"] == "/nope"


def test_wrong_method_when_requested_then_problem_405_with_allow(client: TestClient) -> None:
    response = client.post("/healthz")
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"


class Order(BaseModel):
    symbol: str
    quantity: int


@pytest.fixture
def app_with_probe_routes(app: FastAPI) -> FastAPI:
    @app.post("/probe/validate", summary="probe")
    def validate(order: Order) -> Order:
        return order

    @app.get("/probe/crash", summary="probe")
    def crash() -> None:
        raise RuntimeError("database password=hunter2 at /srv/internal/db.py")

    @app.get("/probe/database-gone", summary="probe")
    def database_gone() -> None:
        refused = ConnectionRefusedError("connection to 10.0.0.5 password=hunter2 refused")
        raise OperationalError("SELECT secret FROM users", {}, refused)

    return app


@pytest.fixture
def probe_client(app_with_probe_routes: FastAPI) -> TestClient:
    return TestClient(
        app_with_probe_routes, base_url="https://testserver", raise_server_exceptions=False
    )


def test_invalid_body_when_posted_then_422_lists_fields_without_echoing_input(
    probe_client: TestClient,
) -> None:
    response = probe_client.post(
        "/probe/validate", json={"symbol": "ACME", "quantity": "sk-secret"}
    )
    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert body["errors"][0]["location"] == ["body", "quantity"]
    assert "sk-secret" not in response.text


def test_malformed_json_when_posted_then_400_malformed_body(probe_client: TestClient) -> None:
    response = probe_client.post(
        "/probe/validate", content=b'{"symbol": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "MALFORMED_BODY")


def test_unhandled_exception_when_raised_then_500_problem_without_internals(
    probe_client: TestClient,
) -> None:
    response = probe_client.get("/probe/crash")
    assert_problem(response, 500, "INTERNAL_ERROR")
    for leak in ("hunter2", "RuntimeError", "Traceback", "/srv/internal", "db.py"):
        assert leak not in response.text
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_database_unreachable_when_a_request_needs_it_then_503_to_retry_without_internals(
    probe_client: TestClient,
) -> None:
    response = probe_client.get("/probe/database-gone")
    assert_problem(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"] == "1"
    for leak in ("hunter2", "10.0.0.5", "SELECT", "OperationalError"):
        assert leak not in response.text


@pytest.mark.parametrize("path", ["/healthz", "/nope", "/readyz", "/openapi.json"])
def test_security_headers_when_any_response_then_present(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["content-security-policy"] == API_POLICY
    assert headers["cache-control"] == "no-store"
    assert headers["x-frame-options"] == "DENY"


def test_docs_page_when_served_then_page_policy_and_local_assets_only(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == PAGE_POLICY
    assert "http://" not in response.text
    assert "https://" not in response.text
    assert "<script>" not in response.text
    for asset in ("/static/swagger-ui/swagger-ui-bundle.js", "/static/web/docs.js"):
        assert asset in response.text
        asset_response = client.get(asset)
        assert asset_response.status_code == 200
        assert asset_response.headers["cache-control"] == "public, max-age=3600"


def test_request_id_when_client_supplies_plain_id_then_echoed(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123.def"})
    assert response.headers["x-request-id"] == "abc-123.def"


@pytest.mark.parametrize("supplied", ["x" * 65, "bad id", "<script>", "id\u00e9"])
def test_request_id_when_client_supplies_unsafe_id_then_replaced(
    client: TestClient, supplied: str
) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": supplied.encode("utf-8")})
    assert response.headers["x-request-id"] != supplied
    assert len(response.headers["x-request-id"]) == 36


def test_request_ids_when_not_supplied_then_unique(client: TestClient) -> None:
    ids = {client.get("/healthz").headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20


def test_openapi_when_generated_then_every_route_has_a_summary(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operations = [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    assert operations, "the schema lists no operations"
    missing = [
        f"{method.upper()} {path}" for path, method, op in operations if not op.get("summary")
    ]
    assert missing == []


def test_openapi_json_when_served_then_names_the_service(client: TestClient) -> None:
    schema = json.loads(client.get("/openapi.json").content)
    assert schema["info"]["title"] == "TradeGuard"
    assert {"/healthz", "/readyz", "/metrics"} <= set(schema["paths"])
