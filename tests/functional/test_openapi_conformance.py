"""The API answers as its OpenAPI document says: schemathesis against the in-process app.

A few derandomised examples per operation, as a signed-in trader with a funded account: no
answer may be a 5xx, and every answer's status, content type and body must be the ones the
document lists for the operation. The requests go through the test client (the app's
lifespan is the one the ``client`` fixture started), so schemathesis only generates and
judges.
"""

from __future__ import annotations

import time
from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from functional.identity_flows import Person, sign_in_with_totp
from functional.trading_flows import add_instrument, funded_trader
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

EXAMPLES_PER_OPERATION = 5
SEED = 20261121
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
TIME_BUDGET_SECONDS = 120
SIGN_IN_PAUSE_SECONDS = 60
"""Past the sign-in throttle that the examples' failed sign-ins from this address set off."""
CREDENTIAL_HEADERS = frozenset({"authorization", "tg-api-key"})


def _send(client: TestClient, case: Any, headers: dict[str, str]) -> Any:
    kwargs = case.as_transport_kwargs(base_url="https://testserver")
    # The document's security schemes make schemathesis invent credentials; the trader's
    # own token replaces them, and no API-key headers are sent.
    sent = {
        name: value
        for name, value in kwargs.get("headers", {}).items()
        if name.lower() not in CREDENTIAL_HEADERS
    }
    body = kwargs.get("json")
    content = kwargs.get("data")
    return client.request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params"),
        headers=sent | headers,
        json=body,
        content=content,
    )


def _signed_in(client: TestClient, trader: Person, clock: FixedClock) -> dict[str, str]:
    """The trader's headers, signed in again if an operation (sign-out, say) ended the session."""
    if client.get("/v1/me", headers=trader.headers).status_code == 401:
        clock.advance(seconds=SIGN_IN_PAUSE_SECONDS)
        sign_in_with_totp(client, trader, clock)
    return trader.headers


def _check_operation(
    operation: Any, client: TestClient, trader: Person, clock: FixedClock
) -> list[str]:
    failures: list[str] = []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @seed(SEED)
    def run(case: Any) -> None:
        response = _send(client, case, _signed_in(client, trader, clock))
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as failed:
            titles = sorted({failure.title for failure in failed.exceptions})
            body = response.text[:300]
            failures.append(f"{case.operation.label} -> {response.status_code} {titles}: {body}")

    run()
    return failures


def test_api_when_exercised_by_schemathesis_then_answers_as_documented(
    client: TestClient, app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> None:
    trader = funded_trader(client, mailbox, clock, app, "conformance")
    add_instrument(app, "ACME", "100.00")
    schema = schemathesis.openapi.from_dict(app.openapi())
    started = time.monotonic()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]

    for operation in operations:
        failures += _check_operation(operation, client, trader, clock)

    elapsed = time.monotonic() - started
    assert len(operations) > 90
    assert failures == [], "\n".join(failures)
    assert elapsed < TIME_BUDGET_SECONDS
