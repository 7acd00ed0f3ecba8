"""Values a database cannot hold (NUL characters) are refused as invalid input, on both
backends, before anything is stored: never a 500, never a 2xx, and never a row that
SQLite would have kept while PostgreSQL refused it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from functional.identity_flows import (
    CONSENTS,
    STRONG_PASSWORD,
    Person,
    assert_refused,
    signed_up_with_totp,
    step_up_with_totp,
)
from support import TestDatabase
from tradeguard.core.clock import FixedClock
from tradeguard.db.base import Base
from tradeguard.notify.notifier import MemorySender

NUL = "ali\x00ce"
NUL_REFUSED = {
    "location": ["body"],
    "message": "a value holds a NUL character, which cannot be stored",
    "type": "value_error",
}
AUDIT_TABLES = frozenset({"audit_events", "audit_checkpoints", "audit_head", "watch_cursors"})
"""The audit trail records the refused request itself, not the values it held; the
watchers' cursors move past that record."""


@pytest.fixture
def alice(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    """Alice, signed in and stepped up: every route below would take her request.

    Her session was last active at the test's (frozen) now, so a request of hers that
    stores nothing leaves it as it is.
    """
    person = signed_up_with_totp(client, mailbox, clock, Person())
    step_up_with_totp(client, person, clock)
    seen = client.get("/v1/me", headers=person.headers)
    assert seen.status_code == 200, seen.text
    return person


def stored_rows(engine: Engine) -> dict[str, Counter[tuple[Any, ...]]]:
    """Every row of every table outside the audit trail."""
    with engine.connect() as connection:
        return {
            table.name: Counter(tuple(row) for row in connection.execute(select(table)))
            for table in Base.metadata.sorted_tables
            if table.name not in AUDIT_TABLES
        }


@pytest.mark.parametrize(
    ("path", "body"),
    [
        # looked up
        ("/v1/auth/login", {"login": NUL, "password": STRONG_PASSWORD}),
        ("/v1/auth/login", {"login": f"{NUL}@example.com", "password": "x"}),
        ("/v1/auth/password/forgot", {"email": f"{NUL}@example.com"}),
        ("/v1/auth/verify-email", {"email": f"{NUL}@example.com", "code": "123456"}),
        ("/v1/auth/mfa/verify", {"challenge_id": NUL, "method": "totp", "code": "123456"}),
        # stored when accepted
        (
            "/v1/auth/register",
            {
                "username": "bob",
                "email": f"{NUL}@example.com",
                "password": STRONG_PASSWORD,
                "consents": CONSENTS,
            },
        ),
        (
            "/v1/auth/login",
            {"login": "alice", "password": STRONG_PASSWORD, "device": {"name": NUL}},
        ),
        ("/v1/me/email", {"email": f"{NUL}@example.com"}),
        ("/v1/api-keys", {"scope": "trading", "label": NUL}),
    ],
)
def test_input_when_it_holds_a_nul_character_then_refused_and_nothing_stored(
    client: TestClient,
    clean_database: TestDatabase,
    alice: Person,
    path: str,
    body: dict[str, Any],
) -> None:
    before = stored_rows(clean_database.engine)

    response = client.post(path, json=body, headers=alice.headers)

    assert_refused(response, 422, "VALIDATION_FAILED")
    assert response.json()["errors"] == [NUL_REFUSED]
    assert stored_rows(clean_database.engine) == before


@pytest.mark.parametrize("control", ["\x01", "\x1f", "\x7f", "\n"])
@pytest.mark.parametrize("path", ["/v1/auth/register", "/v1/me/email"])
def test_email_when_it_holds_a_control_character_then_refused_and_nothing_stored(
    client: TestClient, clean_database: TestDatabase, alice: Person, path: str, control: str
) -> None:
    before = stored_rows(clean_database.engine)
    email = f"bo{control}b@example.com"
    body = {"username": "bob", "email": email, "password": STRONG_PASSWORD, "consents": CONSENTS}

    response = client.post(path, json=body, headers=alice.headers)

    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert stored_rows(clean_database.engine) == before
