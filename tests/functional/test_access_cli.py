"""``tradeguard access grants``: the grants in force, and with --all every grant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from identity_flows import Person, staff_signed_in
from staff_flows import tradeguard_command

from tradeguard.config import Settings
from tradeguard.core.clock import NS_PER_SECOND, FixedClock, SystemClock
from tradeguard.notify.notifier import MemorySender

GRANTS = "/v1/access/grants"
REASON = "ticket 4711: reconcile the audit trail"
Tradeguard = Callable[..., tuple[int, str]]
TEN_MINUTES_NS = 600 * NS_PER_SECOND
ESCAPE = "\x1b"


@pytest.fixture
def tradeguard(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Tradeguard:
    """Run a ``tradeguard`` command against the app's database; exit code and output."""
    return tradeguard_command(settings, monkeypatch, capsys)


@pytest.fixture
def ten_minutes_ago(clock: FixedClock) -> FixedClock:
    """The app's clock set ten minutes behind real time: the command reads the system clock."""
    clock.set(SystemClock().now_ns() - TEN_MINUTES_NS)
    return clock


def grant(
    client: TestClient, person: Person, minutes: int, reason: str = REASON, **body: Any
) -> str:
    asked = client.post(
        GRANTS,
        json={"permission": "compliance:audit", "reason": reason, "duration_minutes": minutes}
        | body,
        headers=person.headers,
    )
    assert asked.status_code == 201, asked.text
    grant_id: str = asked.json()["id"]
    return grant_id


def approve(client: TestClient, admin: Person, grant_id: str) -> None:
    approved = client.post(f"{GRANTS}/{grant_id}/approve", headers=admin.headers)
    assert approved.status_code == 200, approved.text


@pytest.fixture
def people(
    client: TestClient, mailbox: MemorySender, ten_minutes_ago: FixedClock, clean_database
) -> tuple[Person, Person]:
    """A support agent and an administrator, signed in."""
    engine = clean_database.engine
    sam = staff_signed_in(
        client, mailbox, ten_minutes_ago, engine, role="SUPPORT", level="read-only", username="sam"
    )
    ada = staff_signed_in(
        client, mailbox, ten_minutes_ago, engine, role="ADMIN", level="admin", username="ada"
    )
    return sam, ada


@pytest.mark.usefixtures("app")
def test_grants_when_none_then_says_so(tradeguard: Tradeguard) -> None:
    assert tradeguard("access", "grants") == (0, "no grants in force\n")
    assert tradeguard("access", "grants", "--all") == (0, "no grants\n")


def test_grants_lists_only_those_in_force_and_all_of_them_with_all(
    client: TestClient,
    ten_minutes_ago: FixedClock,
    people: tuple[Person, Person],
    tradeguard: Tradeguard,
) -> None:
    sam, ada = people
    expired = grant(client, sam, 1)
    approve(client, ada, expired)  # ended some eight minutes ago
    ten_minutes_ago.set(SystemClock().now_ns())
    running = grant(client, sam, 60)
    approve(client, ada, running)
    escaped = client.post(
        GRANTS,
        json={
            "permission": "compliance:audit",
            "reason": f"ticket 12{ESCAPE}[2J",
            "duration_minutes": 30,
        },
        headers=sam.headers,
    )
    assert escaped.status_code == 422, escaped.text
    pending = grant(client, sam, 30, reason="ticket 12\nrm -rf / please")

    code, out = tradeguard("access", "grants")

    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split() == [
        "GRANT",
        "USER",
        "PERMISSION",
        "STATUS",
        "KIND",
        "EXPIRES",
        "REASON",
    ]
    assert [line.split()[:5] for line in lines[1:]] == [
        [running, "sam", "compliance:audit", "active", "approved"]
    ]
    assert REASON in lines[1]
    code, out = tradeguard("access", "grants", "--all")
    assert code == 0, out
    assert [line.split()[:4] for line in out.splitlines()[1:]] == [
        [pending, "sam", "compliance:audit", "requested"],
        [running, "sam", "compliance:audit", "active"],
        [expired, "sam", "compliance:audit", "expired"],
    ]
    assert "ticket 12 rm -rf / please" in out


def test_grants_shows_break_glass_as_its_kind(
    client: TestClient, people: tuple[Person, Person], tradeguard: Tradeguard
) -> None:
    sam, _ = people
    body = {"permission": "compliance:audit", "reason": REASON, "duration_minutes": 30}
    used = client.post("/v1/access/break-glass", json=body, headers=sam.headers)
    assert used.status_code == 201, used.text

    code, out = tradeguard("access", "grants")

    assert code == 0, out
    assert out.splitlines()[1].split()[:5] == [
        used.json()["id"],
        "sam",
        "compliance:audit",
        "active",
        "break-glass",
    ]
