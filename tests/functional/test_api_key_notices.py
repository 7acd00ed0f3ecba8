"""Creating or rotating an API key emails its owner: which key, scope, when, from where; no secret.

The messages are read from the development outbox (the files ``tradeguard outbox show``
prints), written by the same notifier the server uses; the test's memory mailbox gets a
copy, from which the sign-up and step-up codes are read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functional.api_key_flows import create_key
from functional.identity_flows import Person, client_at, signed_up_with_totp, step_up_with_totp
from support import TestDatabase, provision_keysets
from tradeguard.app import create_app
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.messages import EmailMessage, SmsMessage
from tradeguard.notify.notifier import MemorySender, Notifier
from tradeguard.notify.outbox import OutboxSender, read_outbox

OFFICE = "203.0.113.7"
FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)
CREATED = "security.apikey_created"
ROTATED = "security.apikey_rotated"


class OutboxAndMemory:
    """Writes every message to the outbox and keeps a copy in memory."""

    def __init__(self, outbox: OutboxSender, memory: MemorySender) -> None:
        self._senders = (outbox, memory)

    def send_email(self, message: EmailMessage) -> None:
        for sender in self._senders:
            sender.send_email(message)

    def send_sms(self, message: SmsMessage) -> None:
        for sender in self._senders:
            sender.send_sms(message)


@pytest.fixture
def outbox_dir(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def app(
    settings: Settings,
    clean_database: TestDatabase,
    clock: FixedClock,
    mailbox: MemorySender,
    outbox_dir: Path,
) -> FastAPI:
    provision_keysets(settings, clean_database.engine, clock)
    both = OutboxAndMemory(OutboxSender(outbox_dir, clock), mailbox)
    return create_app(
        settings, clock=clock, engine=clean_database.engine, notifier=Notifier(both, both)
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with client_at(app, OFFICE) as test:
        test.headers["User-Agent"] = FIREFOX_ON_WINDOWS
        yield test


def _outbox(outbox_dir: Path, kind: str) -> list[dict[str, Any]]:
    return [message for message in read_outbox(outbox_dir) if message["kind"] == kind]


def test_create_key_when_issued_then_owner_emailed_with_key_scope_time_device_and_address(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, outbox_dir: Path
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    key = create_key(client, alice, clock, scope="data", label="nightly report")
    (message,) = _outbox(outbox_dir, CREATED)
    assert message["to"] == alice.email
    assert message["subject"] == "A new API key was created"
    text = message["text"]
    assert f"Key: {key['key_id']} (nightly report)" in text
    assert "Scope: data" in text
    assert f"Expires: {key['expires_at']}" in text
    assert f"When: {key['created_at']}" in text
    assert "Device: Firefox 133 on Windows" in text
    assert f"Address: {OFFICE}" in text
    assert f"revoke it at once: DELETE /v1/api-keys/{key['id']}" in text
    assert "If this was not you, secure your account at" in text
    assert key["secret"] not in text


def test_rotate_key_when_successor_issued_then_owner_emailed_with_both_keys_and_no_secret(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, outbox_dir: Path
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    old = create_key(client, alice, clock)
    step_up_with_totp(client, alice, clock)
    rotated = client.post(f"/v1/api-keys/{old['id']}/rotate", headers=alice.headers)
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    (message,) = _outbox(outbox_dir, ROTATED)
    assert message["to"] == alice.email
    assert message["subject"] == "An API key was rotated"
    text = message["text"]
    old_until = client.get("/v1/api-keys", headers=alice.headers).json()[1]["expires_at"]
    assert f"Key: {new['key_id']} (bot)" in text
    assert "Scope: trading" in text
    assert f"Replaces: {old['key_id']}, which keeps working until {old_until}" in text
    assert "Device: Firefox 133 on Windows" in text
    assert f"Address: {OFFICE}" in text
    assert f"DELETE /v1/api-keys/{new['id']} and DELETE /v1/api-keys/{old['id']}" in text
    assert old["secret"] not in text
    assert new["secret"] not in text


def test_create_key_when_refused_then_no_email(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, outbox_dir: Path
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    clock.advance(seconds=600)  # the step-up of the sign-in has lapsed
    refused = client.post(
        "/v1/api-keys", json={"scope": "data", "label": "x"}, headers=alice.headers
    )
    assert refused.status_code == 403
    assert _outbox(outbox_dir, CREATED) == []
