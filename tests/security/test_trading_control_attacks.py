"""Attacks on the trading controls: traders, their API keys and read-only staff change nothing.

A trader may not halt or resume trading, grant itself a locate, change limits, lists,
close-outs or its own standing; a trading API key cannot reach any control; read-only
staff may change nothing. Malformed input is a 422 problem, unknown ids a 404, never a
5xx, and in every case the controls, stored and in memory, are exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from functional.api_key_flows import create_key, signed_call
from functional.identity_flows import Person, signed_up_with_totp, staff_signed_in
from support import registry_of
from tradeguard.audit.records import Actor
from tradeguard.core.clock import FixedClock
from tradeguard.db.session import transaction
from tradeguard.identity.models import User
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind
from tradeguard.trading.models import InstrumentRow
from tradeguard.trading.orders.accounts import open_account
from tradeguard.trading.orders.desk import TradingDesk

WHY = "because I said so"
UNKNOWN_ACCOUNT = "01a1fd70-0000-7000-8000-000000000000"
CONTROL_TABLES = ("trading_states", "risk_limits", "locates", "closeout_obligations")
CONTROL_EVENTS = (
    "trading.state.changed",
    "account.standing.changed",
    "account.pdt.reset",
    "risk.limit.changed",
    "instrument.flags.changed",
    "locate.granted",
    "closeout.obligation.changed",
)
Call = tuple[str, str, Any]


def control_calls(account_id: str) -> list[Call]:
    """One valid request to every control route that changes something."""
    account = f"/v1/compliance/accounts/{account_id}"
    return [
        ("POST", "/v1/trading/halts", {"scope": "global", "reason": WHY}),
        ("POST", "/v1/trading/halts", {"scope": "symbol", "symbol": "ACME", "reason": WHY}),
        ("POST", "/v1/trading/resume", {"scope": "global", "reason": WHY}),
        ("PUT", f"{account}/trading-state", {"state": "ACTIVE", "reason": WHY}),
        ("PATCH", account, {"status": "active", "trading_permission": True, "reason": WHY}),
        ("POST", f"{account}/pdt-reset", {"reason": WHY}),
        (
            "PUT",
            "/v1/compliance/limits",
            {
                "scope": f"account:{account_id}",
                "name": "max_quantity",
                "value": 10**9,
                "reason": WHY,
            },
        ),
        ("PATCH", "/v1/compliance/instruments/ACME", {"easy_to_borrow": True, "reason": WHY}),
        ("PUT", "/v1/compliance/closeouts/ACME", {"shares": 0, "reason": WHY}),
        ("POST", "/v1/locates", {"account_id": account_id, "symbol": "ACME", "quantity": 10**6}),
    ]


def compliance_reads(account_id: str) -> list[Call]:
    """Every control route that only reads."""
    paths = [
        f"/v1/compliance/accounts/{account_id}",
        "/v1/compliance/limits",
        "/v1/compliance/restricted-list",
        "/v1/compliance/threshold-list",
        "/v1/compliance/closeouts",
        "/v1/locates",
        "/v1/trading/halts",
    ]
    return [("GET", path, None) for path in paths]


@pytest.fixture
def market(app: FastAPI) -> FastAPI:
    services = registry_of(app).services
    now = services.clock.now_ns()
    with transaction(services.sessions) as db:
        db.add(
            InstrumentRow(
                symbol="ACME",
                name="ACME Inc.",
                tier=1,
                tick_size=100,
                lot_size=1,
                reference_price=1_000_000,
                reference_at_ns=now,
                restricted=False,
                threshold=False,
                easy_to_borrow=False,
                status="active",
                updated_at_ns=now,
            )
        )
    desk_of(app).start()
    return app


def desk_of(app: FastAPI) -> TradingDesk:
    desk: TradingDesk = registry_of(app).trading_desk
    return desk


@pytest.fixture
def trader(client: TestClient, mailbox: MemorySender, clock: FixedClock, market: FastAPI) -> Person:
    person = signed_up_with_totp(
        client, mailbox, clock, Person(username="mallory", email="mallory@example.com")
    )
    services = registry_of(market).services
    with transaction(services.sessions) as db:
        user = db.query(User).filter(User.username == person.username).one()
        open_account(
            db,
            services.audit,
            services.clock,
            Actor.system("test"),
            user_id=user.id,
            kind=AccountKind.MARGIN,
            deposit_cents=1_000_000,
        )
    return person


def account_of(client: TestClient, person: Person) -> str:
    found: str = client.get("/v1/account", headers=person.headers).json()["id"]
    return found


StaffOf = Callable[[str, str], Person]


@pytest.fixture
def staff_of(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, market: FastAPI
) -> StaffOf:
    def sign_in(role: str, level: str) -> Person:
        engine = registry_of(market).services.engine
        name = f"{role.lower()}-{level}"
        return staff_signed_in(
            client, mailbox, clock, engine, role=role, level=level, username=name
        )

    return sign_in


def controls_now(app: FastAPI) -> dict[str, Any]:
    """The controls as stored and as the checks hold them."""
    engine: Engine = registry_of(app).services.engine
    with engine.connect() as connection:
        stored = {
            table: connection.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608 - constant names
            for table in CONTROL_TABLES
        }
        standing = (
            "SELECT status, trading_permission, pdt_restricted_until_ns FROM trading_accounts"
        )
        stored["accounts"] = sorted(connection.execute(text(standing)).all())
        stored["flags"] = sorted(
            connection.execute(
                text("SELECT symbol, restricted, threshold, easy_to_borrow FROM instruments")
            ).all()
        )
        placeholders = ", ".join(f"'{event}'" for event in CONTROL_EVENTS)
        stored["events"] = connection.scalar(
            text(f"SELECT count(*) FROM audit_events WHERE event_type IN ({placeholders})")  # noqa: S608 - constant names
        )
    desk = desk_of(app)
    with desk.lock:
        risk = desk.risk
        memory = {
            "global": risk.global_state,
            "symbols": dict(risk.symbol_states),
            "accounts": dict(risk.account_states),
            "standing": {
                key: (a.status, a.trading_permission, dict(a.locates))
                for key, a in risk.accounts.items()
            },
            "instruments": dict(risk.instruments),
            "closeouts": dict(risk.closeout_obligations),
            "limits": desk.limits,
        }
    return {"stored": stored, "memory": memory}


def send(client: TestClient, person: Person, call: Call) -> Any:
    method, path, body = call
    response = client.request(method, path, json=body, headers=person.headers)
    assert response.status_code < 500, (method, path, response.text)
    return response


def refusals(client: TestClient, person: Person, calls: list[Call]) -> list[tuple[str, str, Any]]:
    """The calls that were not refused with ACCESS_DENIED."""
    allowed = []
    for call in calls:
        response = send(client, person, call)
        if (response.status_code, response.json().get("reason_code")) != (403, "ACCESS_DENIED"):
            allowed.append((call[0], call[1], response.status_code))
    return allowed


def test_trader_when_calling_every_control_then_403_and_nothing_changes(
    client: TestClient, app: FastAPI, trader: Person
) -> None:
    account_id = account_of(client, trader)
    before = controls_now(app)

    allowed = refusals(client, trader, control_calls(account_id) + compliance_reads(account_id))

    assert allowed == []
    assert controls_now(app) == before


def test_trading_api_key_when_signing_a_control_request_then_refused_by_its_scope(
    client: TestClient, clock: FixedClock, app: FastAPI, trader: Person
) -> None:
    account_id = account_of(client, trader)
    key = create_key(client, trader, clock, scope="trading")
    before = controls_now(app)

    for method, path, body in control_calls(account_id):
        clock.advance(seconds=1)
        refused = signed_call(client, key, clock, method, path, payload=body)
        assert (refused.status_code, refused.json()["reason_code"]) == (403, "APIKEY_SCOPE"), path

    assert controls_now(app) == before


def test_read_only_compliance_when_changing_or_reading_controls_then_403(
    client: TestClient, app: FastAPI, trader: Person, staff_of: StaffOf
) -> None:
    account_id = account_of(client, trader)
    watcher = staff_of("COMPLIANCE", "read-only")
    before = controls_now(app)

    assert refusals(client, watcher, control_calls(account_id) + compliance_reads(account_id)) == []
    assert controls_now(app) == before


def test_support_and_admin_when_using_risk_controls_then_403(
    client: TestClient, app: FastAPI, trader: Person, staff_of: StaffOf
) -> None:
    account_id = account_of(client, trader)
    risk_only = [call for call in control_calls(account_id) if "/v1/trading/" not in call[1]]
    before = controls_now(app)

    for person in (staff_of("SUPPORT", "operator"), staff_of("ADMIN", "admin")):
        assert refusals(client, person, risk_only) == []

    assert controls_now(app) == before


def test_admin_when_halting_then_allowed_by_trading_halt(
    client: TestClient, app: FastAPI, staff_of: StaffOf
) -> None:
    admin = staff_of("ADMIN", "admin")

    halted = send(client, admin, ("POST", "/v1/trading/halts", {"scope": "global", "reason": WHY}))

    assert halted.status_code == 200, halted.text
    assert desk_of(app).risk.global_state == "HALTED"


def bad_inputs(account_id: str) -> list[Call]:
    """Requests an operator may send by mistake or on purpose; each one must change nothing."""
    account = f"/v1/compliance/accounts/{account_id}"
    halts = "/v1/trading/halts"
    return [
        ("POST", halts, {"scope": "global", "reason": "nul\x00byte"}),
        ("POST", halts, {"scope": "global", "reason": "x" * 201}),
        ("POST", halts, {"scope": "global", "reason": "  "}),
        ("POST", halts, {"scope": "global"}),
        ("POST", halts, {"scope": "global", "reason": WHY, "state": "ACTIVE"}),
        ("POST", halts, {"scope": "global", "reason": WHY, "cancel_open_orders": "true"}),
        ("POST", halts, {"scope": "symbol", "reason": WHY}),
        ("POST", halts, {"scope": "global", "symbol": "ACME", "reason": WHY}),
        ("POST", halts, {"scope": "symbol", "symbol": "A'; DROP TABLE orders;--", "reason": WHY}),
        ("POST", halts, {"scope": "account", "symbol": account_id, "reason": WHY}),
        ("POST", halts, [{"scope": "global", "reason": WHY}]),
        ("POST", "/v1/trading/resume", {"scope": "global", "reason": WHY, "force": True}),
        ("PUT", f"{account}/trading-state", {"state": "FROZEN", "reason": WHY}),
        ("PATCH", account, {"reason": WHY}),
        ("PATCH", account, {"status": "active", "settled_cash_cents": 10**12, "reason": WHY}),
        ("PATCH", account, {"trading_permission": 1, "reason": WHY}),
        ("PATCH", "/v1/compliance/accounts/not-an-id", {"status": "active", "reason": WHY}),
        ("PATCH", "/v1/compliance/instruments/acme", {"restricted": True, "reason": WHY}),
        ("PATCH", "/v1/compliance/instruments/ACME", {"reason": WHY}),
        ("PATCH", "/v1/compliance/instruments/ACME", {"tier": 2, "reason": WHY}),
        ("PUT", "/v1/compliance/closeouts/ACME", {"shares": -1, "reason": WHY}),
        ("PUT", "/v1/compliance/closeouts/ACME", {"shares": 10**12, "reason": WHY}),
        ("PUT", "/v1/compliance/closeouts/ACME", {"shares": "5", "reason": WHY}),
        (
            "PUT",
            "/v1/compliance/limits",
            {"scope": "firm", "name": "x; --", "value": 1, "reason": WHY},
        ),
        (
            "PUT",
            "/v1/compliance/limits",
            {"scope": "firm", "name": "max_position_shares", "value": 1e3, "reason": WHY},
        ),
        (
            "PUT",
            "/v1/compliance/limits",
            {"scope": "firm", "name": "max_position_shares", "value": 10**30, "reason": WHY},
        ),
        (
            "PUT",
            "/v1/compliance/limits",
            {"scope": "firm", "name": "credit_threshold", "value": "1e9", "reason": WHY},
        ),
        ("POST", "/v1/locates", {"account_id": account_id, "symbol": "ACME", "quantity": -5}),
        (
            "POST",
            "/v1/locates",
            {
                "account_id": account_id,
                "symbol": "ACME",
                "quantity": 5,
                "expires_at": 1_900_000_000,
            },
        ),
        (
            "POST",
            "/v1/locates",
            {"account_id": account_id, "symbol": "ACME", "quantity": 5, "expires_at": "tomorrow"},
        ),
        ("POST", "/v1/locates", {"account_id": "../../admin", "symbol": "ACME", "quantity": 5}),
    ]


def test_bad_input_when_sent_by_an_officer_then_422_problem_and_nothing_changes(
    client: TestClient, app: FastAPI, trader: Person, staff_of: StaffOf
) -> None:
    officer = staff_of("COMPLIANCE", "operator")
    calls = bad_inputs(account_of(client, trader))
    before = controls_now(app)

    answers = [send(client, officer, call) for call in calls]

    assert [(a.status_code, a.headers["content-type"]) for a in answers] == [
        (422, "application/problem+json")
    ] * len(answers)
    assert all(answer.json()["reason_code"] for answer in answers)
    assert controls_now(app) == before


def test_unknown_ids_when_addressed_then_404_and_nothing_changes(
    client: TestClient, app: FastAPI, staff_of: StaffOf
) -> None:
    officer = staff_of("COMPLIANCE", "operator")
    before = controls_now(app)
    calls = [
        (
            "PUT",
            f"/v1/compliance/accounts/{UNKNOWN_ACCOUNT}/trading-state",
            {"state": "HALTED", "reason": WHY},
        ),
        (
            "PATCH",
            f"/v1/compliance/accounts/{UNKNOWN_ACCOUNT}",
            {"status": "closed", "reason": WHY},
        ),
        ("POST", f"/v1/compliance/accounts/{UNKNOWN_ACCOUNT}/pdt-reset", {"reason": WHY}),
        ("GET", f"/v1/compliance/accounts/{UNKNOWN_ACCOUNT}", None),
        ("PUT", "/v1/compliance/closeouts/NOPE", {"shares": 5, "reason": WHY}),
        ("PATCH", "/v1/compliance/instruments/NOPE", {"restricted": True, "reason": WHY}),
    ]

    reasons = [send(client, officer, call).json()["reason_code"] for call in calls]

    assert reasons == ["ACCOUNT_NOT_FOUND"] * 4 + ["INSTRUMENT_NOT_FOUND"] * 2
    assert controls_now(app) == before
