"""Attacks on money movement: other customers' objects, names that differ, clear account numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from functional.identity_flows import assert_refused, sign_in_with_totp, step_up_with_totp
from functional.payment_flows import (
    ACCOUNT_NUMBER,
    LINKS,
    add_link,
    after_cooling,
    customer,
    keyed,
    micro_amounts,
    requested_withdrawal,
    verified_link,
)
from support import registry_of
from tradeguard.core.clock import FixedClock
from tradeguard.db.base import Base
from tradeguard.notify.notifier import MemorySender

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def test_another_customers_link_and_withdrawal_answer_404(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    withdrawal = requested_withdrawal(client, clock, ann, link_id, "100.00")
    eve = customer(client, mailbox, clock, app, "eve")
    after_cooling(client, eve, clock)
    step_up_with_totp(client, eve, clock)
    attempts = [
        client.post(
            f"{LINKS}/{link_id}/verify", json={"amounts": ["0.01", "0.02"]}, headers=eve.headers
        ),
        client.delete(f"{LINKS}/{link_id}", headers=eve.headers),
        client.post(
            "/v1/payments/deposits",
            json={"bank_link_id": link_id, "amount": "5.00"},
            headers=keyed(eve),
        ),
        client.post(
            "/v1/payments/withdrawals",
            json={"bank_link_id": link_id, "amount": "5.00"},
            headers=keyed(eve),
        ),
        client.post(
            f"{withdrawal}/confirm",
            json={"email_code": "123456", "sms_code": "123456"},
            headers=keyed(eve),
        ),
        client.post(f"{withdrawal}/cancel", headers=keyed(eve)),
        client.post(f"{withdrawal}/codes", headers=eve.headers),
    ]
    for attempt in attempts:
        assert_refused(attempt, 404, "NOT_FOUND")
    assert client.get(LINKS, headers=eve.headers).json() == []
    sign_in_with_totp(client, ann, clock)
    cancelled = client.post(f"{withdrawal}/cancel", headers=keyed(ann))
    assert cancelled.json()["status"] == "cancelled", cancelled.text


def test_a_holder_name_that_is_not_the_customers_goes_to_review_not_to_withdrawals(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = add_link(client, ann, holder_name="Mallory Someone").json()["id"]
    amounts = micro_amounts(app, link_id)
    done = client.post(f"{LINKS}/{link_id}/verify", json={"amounts": amounts}, headers=ann.headers)
    assert done.json()["status"] == "review", done.text
    after_cooling(client, ann, clock)
    body = {"bank_link_id": link_id, "amount": "10.00"}
    refused = client.post("/v1/payments/withdrawals", json=body, headers=keyed(ann))
    assert_refused(refused, 422, "PAYMENT_BANK_LINK_NOT_VERIFIED")


def test_micro_deposit_tries_are_limited(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = add_link(client, ann).json()["id"]
    wrong = {"amounts": ["1.00", "1.00"]}
    for _ in range(2):
        answer = client.post(f"{LINKS}/{link_id}/verify", json=wrong, headers=ann.headers)
        assert_refused(answer, 422, "PAYMENT_MICRO_DEPOSITS_WRONG")
    last = client.post(f"{LINKS}/{link_id}/verify", json=wrong, headers=ann.headers)
    assert_refused(last, 422, "PAYMENT_MICRO_DEPOSITS_EXHAUSTED")
    right = {"amounts": micro_amounts(app, link_id)}
    after = client.post(f"{LINKS}/{link_id}/verify", json=right, headers=ann.headers)
    assert_refused(after, 409, "PAYMENT_STATE_CONFLICT")


def test_no_clear_bank_account_number_in_the_database_the_outbox_or_the_logs(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    client.post(
        "/v1/payments/deposits",
        json={"bank_link_id": link_id, "amount": "50.00"},
        headers=keyed(ann),
    )
    requested_withdrawal(client, clock, ann, link_id, "20.00")
    client.delete(f"{LINKS}/{link_id}", headers=ann.headers)
    needle = ACCOUNT_NUMBER.encode()
    engine = registry_of(app).services.engine
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')):  # noqa: S608 - table names from the metadata
                for value in row:
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    assert needle not in raw, f"clear account number in {table.name}"
    messages = [m.text for m in mailbox.emails] + [m.text for m in mailbox.texts]
    assert messages
    assert all(ACCOUNT_NUMBER not in message for message in messages)
    logged = capsys.readouterr()
    assert ACCOUNT_NUMBER not in logged.out + logged.err
