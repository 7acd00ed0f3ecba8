"""Staff bootstrap and invitation flows: the ``tradeguard staff`` command, links, enrolment."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from functional.identity_flows import (
    WEBAUTHN_ORIGIN,
    WEBAUTHN_RP_ID,
    Person,
    bearer,
)
from tradeguard.cli.main import main
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender
from tradeguard.notify.outbox import read_outbox
from unit.identity.webauthn_authenticator import SoftAuthenticator

ENROLMENT = "/v1/staff/enrolment"
INVITES = "/v1/admin/staff/invites"
LINK = re.compile(r"https://\S+/staff/enrol\?token=([A-Za-z0-9_-]+)")
Tradeguard = Callable[..., tuple[int, str]]


def tradeguard_command(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Tradeguard:
    """Run a ``tradeguard`` command against the app's database; exit code and output."""
    monkeypatch.setenv("TRADEGUARD_VAR_DIR", str(settings.var_dir))
    assert settings.database_url is not None
    monkeypatch.setenv("TRADEGUARD_DATABASE_URL", settings.database_url.get_secret_value())

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["tradeguard", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        captured = capsys.readouterr()
        return int(exited.value.code or 0), captured.out + captured.err

    return run


@dataclass
class Kit:
    """What a staff test works with: the app's client, the command, settings, database, mail."""

    client: TestClient
    tradeguard: Tradeguard
    settings: Settings
    engine: Engine
    mailbox: MemorySender
    clock: FixedClock

    def outbox_kinds(self) -> list[str]:
        """The kind of every message the commands put in the development outbox."""
        return outbox_kinds(self.settings)

    def rows(self, table: str, where: str = "1 = 1") -> int:
        """How many rows of ``table`` match ``where``."""
        return count_rows(self.engine, table, where)

    def emails_to(self, address: str) -> list[str]:
        """The kinds of the emails the app sent to ``address``."""
        return [m.kind for m in self.mailbox.emails if m.to == address]


def link_token(output: str) -> str:
    """The token of the one-time link a command printed or an email carried."""
    found = LINK.search(output)
    assert found, output
    return found.group(1)


def outbox_link(settings: Settings, to: str) -> str:
    """The token of the newest enrolment link in the development outbox for ``to``."""
    sent = [m for m in read_outbox(settings.effective_outbox_dir) if m["to"] == to]
    assert sent, f"no message to {to}"
    return link_token(sent[-1]["text"])


def outbox_kinds(settings: Settings) -> list[str]:
    """The kind of every message in the development outbox, oldest first."""
    return [m["kind"] for m in read_outbox(settings.effective_outbox_dir)]


def enrol(client: TestClient, token: str, person: Person) -> Any:
    """Spend a link: choose the person's username and password."""
    return client.post(
        ENROLMENT,
        json={"token": token, "username": person.username, "password": person.password},
    )


def register_staff_key(
    client: TestClient, person: Person, authenticator: str = "security-key"
) -> Any:
    """Register a software key of ``authenticator`` kind in the person's session."""
    resident = authenticator != "security-key"
    transport = "usb" if authenticator == "security-key" else "internal"
    key = SoftAuthenticator(
        rp_id=WEBAUTHN_RP_ID, origin=WEBAUTHN_ORIGIN, transport=transport, resident=resident
    )
    options = client.post(
        "/v1/mfa/webauthn/options", json={"authenticator": authenticator}, headers=person.headers
    )
    assert options.status_code == 200, options.text
    created = client.post(
        "/v1/mfa/webauthn",
        json={
            "challenge_id": options.json()["challenge_id"],
            "credential": key.create(options.json()["publicKey"]),
        },
        headers=person.headers,
    )
    assert created.status_code == 201, created.text
    person.security_key = key
    if created.json().get("tokens"):
        person.tokens = created.json()["tokens"]
    return created


@dataclass
class StaffMember:
    """A person who enrolled through a link, with their key registered."""

    person: Person
    user_id: str


def enrolled_with_key(client: TestClient, token: str, person: Person) -> StaffMember:
    """Spend the link, then register a security key: a full staff session."""
    started = enrol(client, token, person)
    assert started.status_code == 201, started.text
    person.tokens = started.json()["tokens"]
    assert person.tokens["enrollment_only"] is True
    register_staff_key(client, person)
    assert person.tokens["enrollment_only"] is False
    return StaffMember(person, started.json()["user_id"])


def first_admin(client: TestClient, tradeguard: Tradeguard, username: str = "ada") -> StaffMember:
    """Bootstrap the first administrator and enrol them with a security key."""
    code, out = tradeguard("staff", "bootstrap-admin", f"{username}@example.com")
    assert code == 0, out
    person = Person(username=username, email=f"{username}@example.com")
    return enrolled_with_key(client, link_token(out), person)


def invite_by_api(client: TestClient, admin: Person, email: str, role: str) -> Any:
    """An administrator's invitation through the admin API."""
    return client.post(INVITES, json={"email": email, "role": role}, headers=admin.headers)


def decide(client: TestClient, admin: Person, invite_id: str, decision: str) -> Any:
    """Approve or deny an invitation as ``admin``."""
    return client.post(f"{INVITES}/{invite_id}/{decision}", headers=admin.headers)


def count_rows(engine: Engine, table: str, where: str = "1 = 1", **params: Any) -> int:
    """How many rows of ``table`` match ``where``."""
    with engine.connect() as connection:
        found = connection.scalar(text(f"SELECT COUNT(*) FROM {table} WHERE {where}"), params)  # noqa: S608 - fixed test SQL
    return int(found or 0)


def events_of(engine: Engine, prefix: str) -> list[str]:
    """The audit event types starting with ``prefix``, oldest first."""
    with engine.connect() as connection:
        found = connection.scalars(
            text("SELECT event_type FROM audit_events WHERE event_type LIKE :p ORDER BY seq"),
            {"p": f"{prefix}%"},
        )
        return list(found)


def user_role(engine: Engine, username: str) -> tuple[str, str | None, str]:
    """Role, access level and status of ``username``."""
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT role, access_level, status FROM users WHERE username = :n"),
            {"n": username},
        ).one()
    return row[0], row[1], row[2]


def bearer_of(person: Person) -> dict[str, str]:
    """The person's authorization header."""
    return bearer(person.tokens["access_token"])
