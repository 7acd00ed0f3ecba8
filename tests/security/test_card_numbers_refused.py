"""The main API refuses any body member holding a card number (422 PAYMENT_PAN_REFUSED).

Card numbers go from the browser to the payment vault's intake endpoint; the gateway
refuses one sent here before any route reads it, so it reaches no table and no log.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functional.api_key_flows import with_probes
from functional.identity_flows import Person, reason_of, signed_up_with_totp, step_up_with_totp
from tradeguard.core.clock import FixedClock
from tradeguard.gateway.json_bodies import body_refusal
from tradeguard.logs import configure_logging, get_logger, holds_card_number, redact
from tradeguard.notify.notifier import MemorySender

TEST_CARD = "4242424242424242"


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(
        with_probes(app), base_url="https://testserver", raise_server_exceptions=False
    ) as test:
        yield test


@pytest.mark.parametrize(
    "label", [TEST_CARD, "4242 4242 4242 4242", "card 4242-4242-4242-4242 please"]
)
def test_a_card_number_in_a_member_is_refused_and_nothing_is_made(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, label: str
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    step_up_with_totp(client, alice, clock)
    body = json.dumps({"scope": "data", "label": label}).encode()
    refused = client.post(
        "/v1/api-keys", content=body, headers=alice.headers | {"content-type": "application/json"}
    )
    assert reason_of(refused) == (422, "PAYMENT_PAN_REFUSED")
    assert TEST_CARD not in refused.text
    assert client.get("/v1/api-keys", headers=alice.headers).json() == []


def test_a_card_number_is_refused_before_sign_in_reads_the_body(client: TestClient) -> None:
    body = {"login": "someone@example.com", "password": int(TEST_CARD)}
    assert reason_of(client.post("/v1/auth/login", json=body)) == (422, "PAYMENT_PAN_REFUSED")


@pytest.mark.parametrize(
    ("body", "holds"),
    [
        (b'{"a": {"b": ["x", "4000 0000 0000 0002"]}}', True),
        (b'{"n": 4000000000003220}', True),
        (b'{"n": 4242424242424241}', False),  # check digit wrong
        (b'{"n": "424242424242"}', False),  # 12 digits
        (b'{"id": "01a24d65-996a-7495-a0c7-ae9fc6fec1d0", "qty": 100, "ok": true}', False),
        (b"not json 4242424242424242", False),  # not JSON: the route refuses it
        (b'{"card": "2223 0000 4840 0011"}', True),  # a Mastercard 2-series number
        # Luhn-valid timestamps (nanoseconds, milliseconds) are no card of any network
        (b'{"created_at_ns": 1765000000000000007, "at": "1765000000007"}', False),
        # nor the digit groups of an id, which a dash-separated card number resembles
        (b'{"challenge_id": "ffffffff-4000-0000-0000-0002ffffffff"}', False),
        (b'{"client_order_id": "k1a2b3c-a4000000000000002b"}', False),
        (b'{"memo": "my card: 4000 0000 0000 0002, thanks"}', True),
        # a bank account number may pass the Luhn check too: linking it is no card
        (b'{"routing_number": "011000015", "account_number": "4000000000000002"}', False),
    ],
)
def test_card_number_members_are_found_at_any_depth(body: bytes, *, holds: bool) -> None:
    refusal = body_refusal(body)
    assert (refusal is not None and refusal.reason_code == "PAYMENT_PAN_REFUSED") is holds


def test_the_refusal_names_the_member_and_not_its_number(client: TestClient) -> None:
    """A client whose own id reads as a card number is told which member, never the number."""
    body = {
        "login": "someone@example.com",
        "ids": ["a", {"client_order_id": "4000-0000-0000-0002"}],
    }
    refused = client.post("/v1/auth/login", json=body)
    assert reason_of(refused) == (422, "PAYMENT_PAN_REFUSED")
    problem = refused.json()
    assert problem["errors"][0]["location"] == ["body", "ids", 1, "client_order_id"]
    assert problem.pop("request_id")  # random: its digits may hold "4000" by chance
    assert "4000" not in json.dumps(problem)


def test_log_lines_never_carry_a_card_number() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", stream=stream)
    try:
        get_logger("test").info("charged", note=f"card {TEST_CARD}", number=int(TEST_CARD))
    finally:
        configure_logging(level="WARNING")
        logging.getLogger().handlers.clear()
    assert TEST_CARD not in stream.getvalue()
    assert "[REDACTED:PAN]" in stream.getvalue()
    assert holds_card_number(TEST_CARD)
    assert redact({"memo": f"x{TEST_CARD}"}) == {"memo": "x[REDACTED:PAN]"}
