"""Readiness and metrics: what operators and load balancers rely on."""

from __future__ import annotations

import re

import pytest
from alembic import command
from fastapi.testclient import TestClient
from psycopg.errors import DeadlockDetected
from sqlalchemy import Engine, update
from sqlalchemy.exc import OperationalError

from support import provision_keysets
from tradeguard.app import create_app
from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import ConfigurationError
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.crypto.models import KeyVersion
from tradeguard.db.migrate import alembic_config, head_revision
from tradeguard.production import production_problems

DOWNGRADE_ATTEMPTS = 3


def test_readyz_when_all_checks_pass_then_ready(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {
        "database",
        "migrations",
        "keys",
        "desk",
        "watchers",
        "payment_vault",
    }
    assert body["checks"]["desk"]["detail"] == "in process"
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["migrations"]["detail"] == f"at {head_revision()}, head {head_revision()}"


def test_readyz_when_database_falls_behind_then_503_problem_naming_the_check(
    settings, clean_database, clock
) -> None:
    provision_keysets(settings, clean_database.engine, clock)
    app = create_app(settings, clock=clock, engine=clean_database.engine)
    with TestClient(app, base_url="https://testserver") as client:
        _downgrade_to_base(clean_database.engine)
        try:
            response = client.get("/readyz")
        finally:
            command.upgrade(alembic_config(clean_database.engine), "head")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["reason_code"] == "SERVICE_UNAVAILABLE"
    assert body["checks"]["migrations"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def _downgrade_to_base(engine: Engine) -> None:
    """Every migration undone while the application runs beside it.

    The application's background threads (watchers, the check log) may hold a row lock on
    a table the downgrade drops; PostgreSQL breaks such a deadlock by failing one side. A
    failed migration is rolled back whole, so the downgrade goes on from where it stood.
    """
    for attempt in range(DOWNGRADE_ATTEMPTS):
        try:
            command.downgrade(alembic_config(engine), "base")
        except OperationalError as error:
            deadlocked = isinstance(error.orig, DeadlockDetected)
            if not deadlocked or attempt == DOWNGRADE_ATTEMPTS - 1:
                raise
        else:
            return


def _sample(exposition: str, route: str, status: str) -> float:
    pattern = (
        r'^tradeguard_http_requests_total\{method="GET",route="'
        + re.escape(route)
        + r'",status="'
        + status
        + r'"\} (\S+)$'
    )
    match = re.search(pattern, exposition, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_when_requests_served_then_counted_by_route_and_status(
    settings_for, clean_database, clock
) -> None:
    opened = settings_for(metrics_public=True)
    provision_keysets(opened, clean_database.engine, clock)
    app = create_app(opened, clock=clock, engine=clean_database.engine)
    with TestClient(app, base_url="https://testserver") as client:
        client.get("/healthz")
        client.get("/healthz")
        client.get("/no/such/path")
        exposition = client.get("/metrics").text
    assert _sample(exposition, "/healthz", "200") == 2.0
    assert _sample(exposition, "<unmatched>", "404") == 1.0
    assert (
        'tradeguard_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz",status="200"}'
        in exposition
    )


def test_metrics_when_no_token_and_not_opened_then_closed_in_development(
    client: TestClient,
) -> None:
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.json()["reason_code"] == "AUTH_REQUIRED"
    assert "tradeguard_http" not in refused.text
    assert "TRADEGUARD_METRICS_TOKEN" in refused.json()["detail"]


def test_metrics_when_opened_in_production_then_production_refuses_to_start(
    settings_for, clock: FixedClock
) -> None:
    opened = settings_for(metrics_public=True, metrics_token="t0ken-for-metrics")
    problems = production_problems(opened, LocalKek(generate_master_key(clock, "production")))
    assert any("TRADEGUARD_METRICS_PUBLIC" in problem for problem in problems)


def test_metrics_when_token_configured_then_required(settings_for, clean_database, clock) -> None:
    guarded = settings_for(metrics_token="s3cret-metrics")
    provision_keysets(guarded, clean_database.engine, clock)
    app = create_app(guarded, clock=clock, engine=clean_database.engine)
    with TestClient(app, base_url="https://testserver") as client:
        refused = client.get("/metrics")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        allowed = client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics"})
    assert refused.status_code == 401
    assert refused.json()["reason_code"] == "AUTH_REQUIRED"
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert allowed.status_code == 200
    assert "tradeguard_http_requests_total" in allowed.text


def test_readyz_when_key_overdue_then_ready_with_rotation_warning(
    client: TestClient, clean_database
) -> None:
    ninety_one_days_ns = 91 * 86_400 * 10**9
    with clean_database.engine.begin() as connection:
        connection.execute(
            update(KeyVersion)
            .where(KeyVersion.keyset_name == "tax_id")
            .values(created_at_ns=KeyVersion.created_at_ns - ninety_one_days_ns)
        )
    response = client.get("/readyz")
    assert response.status_code == 200
    [warning] = response.json()["warnings"]
    assert warning.startswith("keyset tax_id: primary key")
    assert "rotation overdue" in warning


def test_create_app_when_production_without_production_material_then_refuses(
    settings_for, clean_database, clock
) -> None:
    production = settings_for(env="production")
    with pytest.raises(ConfigurationError, match="production mode refuses to start") as refused:
        create_app(production, clock=clock, engine=clean_database.engine)
    assert "set TRADEGUARD_TLS_CERT_FILE and TRADEGUARD_TLS_KEY_FILE" in str(refused.value)
    assert "set TRADEGUARD_METRICS_TOKEN" in str(refused.value)
    assert ("SQLite is for development" in str(refused.value)) == (
        clean_database.backend == "sqlite"
    )
