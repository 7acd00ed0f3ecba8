"""Flooding an inbox through the service: every message to an unverified address is capped.

Sign-up with a taken address or a taken username emails the address given, so without a
cap anyone could make the service send any number of emails to anyone. The cap counts
per recipient (by digest) whatever the source address; the answers do not change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from functional.identity_flows import Person, build_app, client_at, register, sign_up
from tradeguard.audit.models import AuditEventRow
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

CAP = 5
VICTIM = "victim@example.com"


def _clients(
    settings: Settings, clean_database: Any, clock: FixedClock, mailbox: MemorySender
) -> list[TestClient]:
    app = build_app(settings, clean_database.engine, clock, mailbox)
    return [client_at(app, ip=f"198.51.100.{n}") for n in (1, 2, 3)]


def _to(mailbox: MemorySender, address: str) -> list[str]:
    return [message.kind for message in mailbox.emails if message.to == address]


def test_register_when_address_taken_30_times_then_at_most_the_cap_is_sent(
    settings_for: Callable[..., Settings],
    clean_database: Any,
    clock: FixedClock,
    mailbox: MemorySender,
) -> None:
    settings = settings_for(email_unverified_per_recipient=CAP)
    clients = _clients(settings, clean_database, clock, mailbox)
    sign_up(clients[0], mailbox, Person(email=VICTIM))
    before = len(_to(mailbox, VICTIM))
    answers = {
        register(clients[n % 3], Person(username=f"mallory{n}", email=VICTIM)).status_code
        for n in range(30)
    }
    assert answers == {202}
    notices = _to(mailbox, VICTIM)[before:]
    assert 0 < len(notices) <= CAP
    assert set(notices) == {"email.already_registered"}


def test_register_when_username_taken_then_any_address_given_is_capped(
    settings_for: Callable[..., Settings],
    clean_database: Any,
    clock: FixedClock,
    mailbox: MemorySender,
) -> None:
    settings = settings_for(email_unverified_per_recipient=CAP)
    clients = _clients(settings, clean_database, clock, mailbox)
    sign_up(clients[0], mailbox, Person())
    for n in range(20):
        assert register(clients[n % 3], Person(email=VICTIM.upper())).status_code == 202
    assert 0 < len([m for m in mailbox.emails if m.to.casefold() == VICTIM]) <= CAP
    records = _capped_records(clean_database.engine)
    assert len(records) == 1  # the first drop of the window is audited, not every one
    assert b"email.username_taken" in records[0]
    assert VICTIM.encode() not in records[0].lower()


def _capped_records(engine: Any) -> list[bytes]:
    with engine.connect() as connection:
        return list(
            connection.scalars(
                select(AuditEventRow.record).where(
                    AuditEventRow.event_type == "notify.recipient.capped"
                )
            )
        )
