"""Helpers of the payments tests: a customer ready to move money, links, codes."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from functional.identity_flows import (
    Person,
    code_in,
    enrol_code_factor,
    sign_in_with_totp,
    signed_up_with_totp,
)
from functional.kyc_flows import save
from support import registry_of
from tradeguard.audit.records import Actor
from tradeguard.core.clock import FixedClock
from tradeguard.core.money import Money
from tradeguard.db.session import transaction
from tradeguard.identity.models import User
from tradeguard.notify.notifier import MemorySender
from tradeguard.payments.models import BankLinkRow
from tradeguard.risk.model import AccountKind
from tradeguard.trading.orders.accounts import open_account

ROUTING = "021000021"
ACCOUNT_NUMBER = "9876543210123"
PHONE = "+16175550123"
LINKS = "/v1/payments/bank-links"


def customer(  # noqa: PLR0913 - the app's pieces, who and with what
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    name: str,
    *,
    deposit: str = "1000.00",
) -> Person:
    """A funded trader with a legal name on file and a confirmed SMS number."""
    person = signed_up_with_totp(client, mailbox, clock, Person(name, f"{name}@example.com"))
    services = registry_of(app).services
    with transaction(services.sessions) as db:
        user = db.scalars(select(User).where(User.username == name)).one()
        cents = Money.parse(deposit).cents
        actor = Actor.system("test")
        open_account(
            db,
            services.audit,
            services.clock,
            actor,
            user_id=user.id,
            kind=AccountKind.CASH,
            deposit_cents=cents,
        )
    saved = save(client, person, legal_name={"given": "Ann", "family": "Lee"})
    assert saved.status_code == 200, saved.text
    enrol_code_factor(client, mailbox, person, "sms", PHONE)
    return person


def add_link(client: TestClient, person: Person, **changes: Any) -> Any:
    """POST a bank link (Ann M. Lee's checking account unless changed)."""
    body = {
        "routing_number": ROUTING,
        "account_number": ACCOUNT_NUMBER,
        "account_type": "checking",
        "holder_name": "Ann M. Lee",
        **changes,
    }
    return client.post(LINKS, json=body, headers=person.headers)


def micro_amounts(app: FastAPI, link_id: str) -> list[str]:
    """The two micro-deposits as the customer reads them on the bank statement."""
    with registry_of(app).services.sessions() as db:
        row = db.scalars(select(BankLinkRow).where(BankLinkRow.id == link_id)).one()
        return [f"0.{int(cents):02d}" for cents in row.micro_amounts.split(",")]


def verified_link(client: TestClient, app: FastAPI, person: Person) -> str:
    """A verified bank link of ``person``'s; its id."""
    added = add_link(client, person)
    assert added.status_code == 201, added.text
    link_id = str(added.json()["id"])
    amounts = micro_amounts(app, link_id)
    done = client.post(
        f"{LINKS}/{link_id}/verify", json={"amounts": amounts}, headers=person.headers
    )
    assert done.json()["status"] == "verified", done.text
    return link_id


def keyed(person: Person, key: str | None = None) -> dict[str, str]:
    """The person's headers with an idempotency key."""
    return {**person.headers, "Idempotency-Key": key or uuid.uuid4().hex}


def after_cooling(client: TestClient, person: Person, clock: FixedClock) -> None:
    """A day and an hour later, signed in again."""
    clock.advance(seconds=25 * 3600)
    sign_in_with_totp(client, person, clock)


def requested_withdrawal(
    client: TestClient, clock: FixedClock, person: Person, link_id: str, amount: str
) -> str:
    """After the cooling period and a step-up, a requested withdrawal; its path."""
    after_cooling(client, person, clock)
    asked = client.post(
        "/v1/payments/withdrawals",
        json={"bank_link_id": link_id, "amount": amount},
        headers=keyed(person),
    )
    assert asked.status_code == 201, asked.text
    return f"/v1/payments/withdrawals/{asked.json()['id']}"


def withdrawal_codes(mailbox: MemorySender, person: Person) -> dict[str, str]:
    """The email and SMS codes of the latest withdrawal."""
    email = mailbox.last_email(to=person.email, kind="payments.withdrawal.code").text
    sms = mailbox.last_sms(to=PHONE, kind="payments.withdrawal.code").text
    return {"email_code": code_in(email), "sms_code": code_in(sms)}
