"""Names people give things are printable text: no NUL, no CR LF, no direction overrides.

A key label, a factor's name or a device's name is shown back in lists, emails, audit
queries and terminals; a right-to-left override or a line break in one could disguise
it or forge a line. Each is refused with a 422 and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from functional.identity_flows import (
    Person,
    login,
    reason_of,
    signed_up_with_totp,
    step_up_with_totp,
)
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

UNPRINTABLE = [
    "bot\x00",
    "bot\r\nBcc: mallory@example.com",
    "invoice\u202etxt.exe",
    "zero\u200bwidth",
    "bell\x07",
    "next\x85line",
    "para\u2029graph",
]
VALIDATION_FAILED = (422, "VALIDATION_FAILED")


@pytest.fixture
def alice(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    person = signed_up_with_totp(client, mailbox, clock, Person())
    step_up_with_totp(client, person, clock)
    return person


@pytest.mark.parametrize("label", UNPRINTABLE)
def test_api_key_label_when_unprintable_then_422_and_no_key(
    client: TestClient, alice: Person, label: str
) -> None:
    ask = {"scope": "data", "label": label}
    assert reason_of(client.post("/v1/api-keys", json=ask, headers=alice.headers)) == (
        VALIDATION_FAILED
    )
    assert client.get("/v1/api-keys", headers=alice.headers).json() == []


def test_api_key_label_when_printable_in_any_script_then_kept(
    client: TestClient, alice: Person
) -> None:
    ask = {"scope": "data", "label": "  Ребалансировка - 株式 ✓ "}
    created = client.post("/v1/api-keys", json=ask, headers=alice.headers)
    assert created.status_code == 201, created.text
    [listed] = client.get("/v1/api-keys", headers=alice.headers).json()
    assert listed["label"] == "Ребалансировка - 株式 ✓"


@pytest.mark.parametrize("name", UNPRINTABLE)
def test_factor_name_when_unprintable_then_422_and_unchanged(
    client: TestClient, alice: Person, name: str
) -> None:
    [factor] = client.get("/v1/mfa/factors", headers=alice.headers).json()
    renamed = client.patch(
        f"/v1/mfa/factors/{factor['id']}", json={"name": name}, headers=alice.headers
    )
    assert reason_of(renamed) == VALIDATION_FAILED
    [after] = client.get("/v1/mfa/factors", headers=alice.headers).json()
    assert after["name"] == factor["name"]


@pytest.mark.parametrize("name", UNPRINTABLE[1:])
def test_device_name_when_unprintable_then_sign_in_refused_422(
    client: TestClient, alice: Person, name: str
) -> None:
    refused: Any = login(client, alice, device={"name": name})
    assert reason_of(refused) == VALIDATION_FAILED
