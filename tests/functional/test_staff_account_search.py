"""Staff find a customer by email, username or account id: masked, audited, refused to others."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from identity_flows import (
    Person,
    assert_refused,
    enrol_code_factor,
    signed_up_with_totp,
    staff_signed_in,
)
from test_support_view import audit_events, data_access_rows, user_id_of
from trading_flows import fund_trader

from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

PHONE = "+15555550123"
SEARCHED = "support.user.searched"


@pytest.fixture
def customer(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    """Carol, a trader with a phone for SMS codes."""
    carol = signed_up_with_totp(
        client, mailbox, clock, Person(username="carol", email="carol@example.com")
    )
    enrol_code_factor(client, mailbox, carol, "sms", phone=PHONE)
    return carol


@pytest.fixture
def account_id(client: TestClient, customer: Person) -> str:
    """The id of Carol's brokerage account, opened with a deposit."""
    return fund_trader(client.app, customer, "1000.00")


@pytest.fixture
def officer(client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database) -> Person:
    """A compliance officer at read-only level (holds compliance:audit)."""
    return staff_signed_in(
        client,
        mailbox,
        clock,
        clean_database.engine,
        role="COMPLIANCE",
        level="read-only",
        username="olga",
    )


@pytest.fixture
def agent(client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database) -> Person:
    """A support agent at read-only level (holds support:users:view)."""
    return staff_signed_in(
        client,
        mailbox,
        clock,
        clean_database.engine,
        role="SUPPORT",
        level="read-only",
        username="agent",
    )


def search(client: TestClient, person: Person, **params: str) -> Any:
    return client.get("/v1/staff/accounts", params=params, headers=person.headers)


def test_search_when_officer_gives_an_email_then_the_customer_masked_with_the_account(
    client: TestClient, customer: Person, account_id: str, officer: Person
) -> None:
    found = search(client, officer, email="carol@example.com")
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["matched_by"] == "email"
    (match,) = body["matches"]
    assert match["customer"]["id"] == user_id_of(client, customer)
    assert match["customer"]["username"] == "carol"
    assert match["customer"]["email"] == "c***@example.com"
    assert [phone["number"] for phone in match["customer"]["phones"]] == ["***0123"]
    assert match["account"] == {"id": account_id, "kind": "cash", "status": "active"}
    assert "carol@example.com" not in found.text
    assert "5555550123" not in found.text


@pytest.mark.usefixtures("customer")
def test_search_when_email_differs_in_case_then_still_found(
    client: TestClient, agent: Person
) -> None:
    found = search(client, agent, email="Carol@Example.COM")
    assert [m["customer"]["username"] for m in found.json()["matches"]] == ["carol"]


def test_search_when_agent_gives_a_username_then_found(
    client: TestClient, customer: Person, agent: Person
) -> None:
    found = search(client, agent, username="Carol")
    assert found.status_code == 200, found.text
    assert found.json()["matched_by"] == "username"
    assert [m["customer"]["id"] for m in found.json()["matches"]] == [user_id_of(client, customer)]


def test_search_when_an_account_id_then_its_owner_found(
    client: TestClient, account_id: str, officer: Person
) -> None:
    found = search(client, officer, account_id=account_id)
    assert found.status_code == 200, found.text
    (match,) = found.json()["matches"]
    assert match["customer"]["username"] == "carol"
    assert match["account"]["id"] == account_id


def test_search_when_customer_has_no_brokerage_account_then_found_without_one(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, agent: Person
) -> None:
    signed_up_with_totp(client, mailbox, clock, Person(username="dave", email="dave@example.com"))
    (match,) = search(client, agent, username="dave").json()["matches"]
    assert match["account"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"email": "nobody@example.com"},
        {"username": "nobody"},
        {"account_id": "01a1fd70-0000-7000-8000-000000000000"},
        {"account_id": "not-an-id"},
        {"username": "olga"},  # a staff member: staff are not customers
    ],
)
@pytest.mark.usefixtures("customer")
def test_search_when_nobody_matches_then_empty_and_audited(
    client: TestClient, officer: Person, clean_database, params: dict[str, str]
) -> None:
    found = search(client, officer, **params)
    assert found.status_code == 200, found.text
    assert found.json() == {"matched_by": next(iter(params)), "matches": []}
    (searched,) = audit_events(clean_database.engine, SEARCHED)
    assert searched["subject"] is None
    assert (searched["data"]["by"], searched["data"]["found"]) == (next(iter(params)), False)
    assert data_access_rows(clean_database.engine) == []


def test_search_when_found_then_stored_as_a_look_and_audited_without_the_email(
    client: TestClient, customer: Person, officer: Person, clean_database
) -> None:
    assert search(client, officer, email="carol@example.com").status_code == 200
    carol_id, officer_id = user_id_of(client, customer), user_id_of(client, officer)
    assert data_access_rows(clean_database.engine) == [(officer_id, carol_id, "view", None, None)]
    (searched,) = audit_events(clean_database.engine, SEARCHED)
    assert searched["subject"] == carol_id
    assert (searched["actor"]["kind"], searched["actor"]["id"]) == ("staff", officer_id)
    assert searched["data"] == {"by": "email", "found": True}
    assert "carol@example.com" not in str(searched)


def test_search_when_not_found_by_username_then_the_username_is_not_in_the_trail(
    client: TestClient, officer: Person, clean_database
) -> None:
    search(client, officer, username="mallory")
    (searched,) = audit_events(clean_database.engine, SEARCHED)
    assert "mallory" not in str(searched)


@pytest.mark.usefixtures("customer")
def test_search_when_a_trader_asks_then_access_denied(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    bob = signed_up_with_totp(client, mailbox, clock, Person(username="bob", email="b@example.com"))
    assert_refused(search(client, bob, email="carol@example.com"), 403, "ACCESS_DENIED")


@pytest.mark.usefixtures("customer")
def test_search_when_staff_hold_neither_permission_then_access_denied(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    admin = staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="ADMIN", level="admin", username="ada"
    )
    assert_refused(search(client, admin, email="carol@example.com"), 403, "ACCESS_DENIED")
    assert audit_events(clean_database.engine, SEARCHED) == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"email": "carol@example.com", "username": "carol"},
        {"email": "not an address"},
        {"username": "x"},
        {"name": "carol"},
    ],
)
def test_search_when_not_exactly_one_well_formed_key_then_422(
    client: TestClient, officer: Person, clean_database, params: dict[str, str]
) -> None:
    assert_refused(search(client, officer, **params), 422, "VALIDATION_FAILED")
    assert audit_events(clean_database.engine, SEARCHED) == []
