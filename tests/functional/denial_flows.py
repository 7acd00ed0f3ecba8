"""Helpers of the pre-trade denial tests: a trading floor of funded traders, denials, controls."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, reason_of
from sqlalchemy import select
from trading_flows import add_instrument, desk_of, funded_trader, place

from support import registry_of
from tradeguard.access.caller import Caller
from tradeguard.audit.search import AuditQuery, search
from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import ProblemError
from tradeguard.core.permissions import Role
from tradeguard.core.principal import Principal
from tradeguard.db.session import transaction
from tradeguard.identity.models import User
from tradeguard.identity.origin import Origin
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind
from tradeguard.trading.models import InstrumentRow
from tradeguard.trading.orders.denial_terms import public_inputs, public_threshold
from tradeguard.trading.orders.desk import TradingDesk

Send = Callable[[], Any]
"""One request of the test's, sent when called; returns the response."""


@dataclass(frozen=True)
class Denied:
    """What a denial must say: its reason code, the check's inputs and its threshold.

    Inputs and threshold as the API shows them: money and prices as decimal strings,
    durations in milliseconds, instants in RFC 3339.
    """

    reason: str
    inputs: dict[str, Any]
    threshold: Any = None
    event: str = "order.denied"


@dataclass(frozen=True)
class Holdings:
    """Everything a trader can see of their own account: nothing may change on a denial."""

    account: dict[str, Any]
    orders: list[dict[str, Any]]
    positions: list[dict[str, Any]]


@dataclass(frozen=True)
class ProblemReply:
    """A refusal the desk raised, shaped like the HTTP response the API would send."""

    error: ProblemError

    @property
    def status_code(self) -> int:
        """The HTTP status of the refusal."""
        return self.error.status

    @property
    def text(self) -> str:
        """The refusal, for assertion messages."""
        return repr(self.error)

    def json(self) -> dict[str, Any]:
        """The problem document."""
        return self.error.document(request_id="direct", instance="/desk")


@dataclass
class TradingFloor:
    """The app, its client and clock, and the traders and instruments of one test."""

    client: TestClient
    app: FastAPI
    mailbox: MemorySender
    clock: FixedClock
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def desk(self) -> TradingDesk:
        """The app's trading desk."""
        return desk_of(self.app)

    def trader(self, kind: AccountKind = AccountKind.CASH, deposit: str = "100000.00") -> Person:
        """A signed-in trader with a funded account (cash, $100,000 unless told)."""
        name = f"trader{next(self._names)}"
        return funded_trader(
            self.client, self.mailbox, self.clock, self.app, name, deposit=deposit, kind=kind
        )

    def instrument(self, symbol: str, reference: str | None, **flags: Any) -> None:
        """Store an instrument with a fresh reference price (or none) and reload the desk."""
        add_instrument(self.app, symbol, reference or "1.00", **flags)
        if reference is None:
            with transaction(registry_of(self.app).services.sessions) as db:
                row = db.get_one(InstrumentRow, symbol)
                row.reference_price, row.reference_at_ns = None, None
            self.desk.start()

    def place(self, person: Person, **terms: Any) -> Any:
        """POST /v1/orders as ``person``: a limit buy of 10 ACME at $100.00 unless told."""
        return place(self.client, person, **terms)

    def accept(self, person: Person, **terms: Any) -> dict[str, Any]:
        """Place an order that must be accepted; returns it."""
        return accepted(self.place(person, **terms))

    def modify(self, person: Person, order: dict[str, Any], **change: Any) -> Any:
        """PATCH one of ``person``'s orders."""
        return self.client.patch(f"/v1/orders/{order['id']}", json=change, headers=person.headers)

    def account(self, person: Person) -> dict[str, Any]:
        """GET /v1/account as ``person``."""
        found: dict[str, Any] = self.client.get("/v1/account", headers=person.headers).json()
        return found

    def account_id(self, person: Person) -> str:
        """The id of ``person``'s brokerage account."""
        return str(self.account(person)["id"])

    def holdings(self, person: Person) -> Holdings:
        """The account, every order and every position of ``person`` as the API shows them."""
        get, headers = self.client.get, person.headers
        answers = [
            get(path, headers=headers)
            for path in ("/v1/account", "/v1/orders?state=all&limit=500", "/v1/positions")
        ]
        for answer in answers:
            assert answer.status_code == 200, answer.text
        return Holdings(*(answer.json() for answer in answers))

    def audit(self, event_type: str) -> list[dict[str, Any]]:
        """The audit events of ``event_type``, oldest first."""
        with registry_of(self.app).services.sessions() as session:
            page = search(session, AuditQuery(event_type=event_type, limit=1000))
        return [event.to_json() for event in page.events]

    def on_desk(self, change: Callable[[TradingDesk], object]) -> None:
        """Change the desk's controls under its lock, as the staff controls do."""
        with self.desk.lock:
            change(self.desk)

    def cross(
        self,
        buyer: Person,
        seller: Person,
        quantity: int,
        price: str = "100.00",
        *,
        seller_side: str = "sell_short",
    ) -> None:
        """``seller`` rests a sell of ACME, ``buyer`` takes it all."""
        self.accept(seller, side=seller_side, quantity=quantity, limit_price=price)
        bought = self.accept(buyer, side="buy", quantity=quantity, limit_price=price)
        assert bought["status"] == "filled", bought

    def deny(self, person: Person, expected: Denied, **terms: Any) -> dict[str, Any]:
        """Place an order that must be denied as ``expected`` (see ``denied``)."""
        return self.denied(person, lambda: self.place(person, **terms), expected)

    def denied(self, person: Person, send: Send, expected: Denied) -> dict[str, Any]:
        """Send a request that must be denied as ``expected``; nothing may change but the audit.

        Checks the 422 problem (reason code, inputs, threshold in the API's units), that the
        trader's account, orders and positions are as before, and that exactly one
        ``expected.event`` was audited with the same reason, inputs and threshold (in the
        checks' units, which the API converts). Returns the event's data.
        """
        before = self.holdings(person)
        audited_before = len(self.audit(expected.event))
        response = send()
        assert reason_of(response) == (422, expected.reason), response.text
        problem = response.json()
        explained = (expected.inputs, expected.threshold)
        assert (problem["inputs"], problem["threshold"]) == explained, problem
        assert self.holdings(person) == before
        audited = self.audit(expected.event)
        assert len(audited) == audited_before + 1, [item["data"] for item in audited]
        data: dict[str, Any] = audited[-1]["data"]
        assert data["account"] == before.account["id"]
        assert data["reason_code"] == expected.reason
        shown = (
            public_inputs(data["inputs"]),
            public_threshold(expected.reason, data["threshold"]),
        )
        assert shown == explained, data
        return data

    def caller(self, person: Person, *, enrollment_only: bool = False) -> Caller:
        """The desk's caller for ``person``, as the gateway hands it over after its checks."""
        with registry_of(self.app).services.sessions() as db:
            user_id = db.scalars(select(User.id).where(User.username == person.username)).one()
        principal = Principal(
            user_id=user_id,
            session_id="direct",
            role=Role.TRADER.value,
            permissions=frozenset(),
            amr=("pwd", "otp"),
            enrollment_only=enrollment_only,
            state=None,
        )
        origin = Origin(ip="127.0.0.1", user_agent="tests", accept_language="", request_id=None)
        return Caller(principal, origin)


def accepted(response: Any) -> dict[str, Any]:
    """The order of a response that must be a newly accepted order."""
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order
