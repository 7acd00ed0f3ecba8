"""Trading controls through the HTTP API: each takes effect on the very next order.

A compliance officer (operator level) halts, restricts, sets limits, lists, locates and
close-outs; traders then place orders and see the control's reason code. Every change is
audited with its before and after, and a restart of the desk keeps all of them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, reason_of, staff_signed_in
from sqlalchemy import Engine, text, update
from trading_flows import add_instrument, desk_of, funded_trader, place

from support import registry_of
from tradeguard.core.clock import FixedClock, datetime_to_ns, ns_to_rfc3339, to_rfc3339
from tradeguard.db.session import transaction
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.engine import RiskEngine
from tradeguard.risk.model import DAY_NS, AccountKind, RiskLimits, TradingState
from tradeguard.trading.models import TradingAccount
from tradeguard.trading.orders.desk import TradingDesk
from tradeguard.trading.wiring import build_trading_desk

HALTS = "/v1/trading/halts"
RESUME = "/v1/trading/resume"
LIMITS = "/v1/compliance/limits"
LOCATES = "/v1/locates"
WHY = "surveillance alert 4711"


@pytest.fixture
def market(app: FastAPI) -> FastAPI:
    add_instrument(app, "ACME", "100.00")
    add_instrument(app, "OTHER", "40.00")
    add_instrument(app, "HTB", "50.00", easy_to_borrow=False)
    add_instrument(app, "THR", "20.00", threshold=True)
    return app


@pytest.fixture
def officer(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, market: FastAPI
) -> Person:
    engine = registry_of(market).services.engine
    return staff_signed_in(
        client, mailbox, clock, engine, role="COMPLIANCE", level="operator", username="officer"
    )


@pytest.fixture
def alice(client: TestClient, mailbox: MemorySender, clock: FixedClock, market: FastAPI) -> Person:
    return funded_trader(client, mailbox, clock, market, "alice")


@pytest.fixture
def bob(client: TestClient, mailbox: MemorySender, clock: FixedClock, market: FastAPI) -> Person:
    return funded_trader(client, mailbox, clock, market, "bob", kind=AccountKind.MARGIN)


@pytest.fixture
def both(alice: Person, bob: Person) -> tuple[Person, Person]:
    """Alice (cash account) and Bob (margin account)."""
    return alice, bob


def order(client: TestClient, clock: FixedClock, person: Person, **terms: Any) -> Any:
    """Place an order a second after the last one (the rate and duplicate checks stay quiet)."""
    clock.advance(seconds=1)
    return place(client, person, **terms)


def accepted(client: TestClient, clock: FixedClock, person: Person, **terms: Any) -> str:
    """Place an order that must be accepted; its id."""
    placed = order(client, clock, person, **terms)
    assert placed.status_code == 201, placed.text
    order_id: str = placed.json()["id"]
    return order_id


def account_of(client: TestClient, person: Person) -> str:
    found: str = client.get("/v1/account", headers=person.headers).json()["id"]
    return found


def changed(client: TestClient, officer: Person, method: str, path: str, **body: Any) -> Any:
    """A control change that must succeed; its answer."""
    response = client.request(method, path, json=body, headers=officer.headers)
    assert response.status_code == 200, response.text
    return response.json()


def events(engine: Engine, event_type: str) -> list[dict[str, Any]]:
    """The actor id and data of every audit event of ``event_type``, oldest first."""
    with engine.connect() as connection:
        records = connection.scalars(
            text("SELECT record FROM audit_events WHERE event_type = :type ORDER BY seq"),
            {"type": event_type},
        )
        documents = [json.loads(bytes(record)) for record in records]
    return [{"actor": doc["actor"]["id"], **doc["data"]} for doc in documents]


def stamp(when: datetime) -> str:
    """A time as the API writes it."""
    return ns_to_rfc3339(datetime_to_ns(when))


def user_id(client: TestClient, person: Person) -> str:
    found: str = client.get("/v1/me", headers=person.headers).json()["id"]
    return found


# -- halts -------------------------------------------------------------------------------


def test_global_halt_when_set_then_orders_are_refused_cancels_work_and_resume_reopens(
    client: TestClient, clock: FixedClock, app: FastAPI, officer: Person, alice: Person
) -> None:
    resting = accepted(client, clock, alice, quantity=10, limit_price="99.00")

    halted = changed(client, officer, "POST", HALTS, scope="global", reason=WHY)

    assert (halted["before"], halted["after"], halted["subject"]) == ("ACTIVE", "HALTED", "*")
    assert reason_of(order(client, clock, alice, quantity=1)) == (422, "RISK_TRADING_HALTED")
    modify = client.patch(
        f"/v1/orders/{resting}", json={"limit_price": "99.50"}, headers=alice.headers
    )
    assert reason_of(modify) == (422, "RISK_TRADING_HALTED")
    cancelled = client.delete(f"/v1/orders/{resting}", headers=alice.headers)
    assert cancelled.json()["status"] == "cancelled"
    listed = client.get(HALTS, headers=officer.headers).json()
    assert [(s["scope"], s["key"], s["state"], s["reason"]) for s in listed] == [
        ("global", "*", "HALTED", WHY)
    ]

    resumed = changed(client, officer, "POST", RESUME, scope="global", reason="alert cleared")

    assert (resumed["before"], resumed["after"]) == ("HALTED", "ACTIVE")
    assert order(client, clock, alice, quantity=1).status_code == 201
    assert client.get(HALTS, headers=officer.headers).json() == []
    audited = events(registry_of(app).services.engine, "trading.state.changed")
    assert [(e["scope"], e["key"], e["before"], e["after"], e["reason"]) for e in audited] == [
        ("global", "*", "ACTIVE", "HALTED", WHY),
        ("global", "*", "HALTED", "ACTIVE", "alert cleared"),
    ]
    assert {e["actor"] for e in audited} == {user_id(client, officer)}


def test_symbol_halt_with_cancel_open_orders_then_that_symbols_orders_go_in_the_same_step(
    client: TestClient, clock: FixedClock, app: FastAPI, officer: Person, alice: Person
) -> None:
    in_acme = accepted(client, clock, alice, quantity=10, limit_price="99.00")
    in_other = accepted(client, clock, alice, symbol="OTHER", quantity=5, limit_price="39.00")

    halted = changed(
        client, officer, "POST", HALTS, scope="symbol", symbol="ACME", reason=WHY,
        cancel_open_orders=True,
    )  # fmt: skip

    assert [o["id"] for o in halted["cancelled_orders"]] == [in_acme]
    acme = client.get(f"/v1/orders/{in_acme}", headers=alice.headers).json()
    assert (acme["status"], acme["cancel_reason"]) == ("cancelled", "mass_cancel")
    assert client.get(f"/v1/orders/{in_other}", headers=alice.headers).json()["status"] == "open"
    assert client.get("/v1/account", headers=alice.headers).json()["reserved_cash"] == "195.00"
    denied = order(client, clock, alice, quantity=1)
    assert reason_of(denied) == (422, "RISK_TRADING_HALTED")
    assert denied.json()["inputs"]["level"] == "symbol"
    assert order(client, clock, alice, symbol="OTHER", quantity=1, limit_price="39.00").is_success
    cancels = events(registry_of(app).services.engine, "order.cancelled")
    assert [(e["actor"], e["reason"]) for e in cancels] == [
        (user_id(client, officer), "mass_cancel")
    ]
    assert (
        events(registry_of(app).services.engine, "trading.state.changed")[0]["cancelled_orders"]
        == 1
    )


def test_reducing_when_set_on_a_symbol_then_only_orders_that_shrink_a_position_pass(
    client: TestClient, clock: FixedClock, officer: Person, alice: Person, bob: Person
) -> None:
    accepted(client, clock, alice, quantity=10, limit_price="100.00")
    accepted(client, clock, bob, side="sell_short", quantity=10, limit_price="100.00")

    changed(
        client, officer, "POST", HALTS, scope="symbol", symbol="ACME", state="REDUCING", reason=WHY
    )

    assert reason_of(order(client, clock, alice, quantity=1)) == (422, "RISK_TRADING_REDUCING")
    assert reason_of(order(client, clock, bob, side="sell_short", quantity=1)) == (
        422,
        "RISK_TRADING_REDUCING",
    )
    assert order(client, clock, alice, side="sell", quantity=4, limit_price="100.00").is_success
    assert order(client, clock, bob, quantity=3, limit_price="99.00").is_success


def test_halt_when_the_symbol_is_unknown_then_422_with_a_reason_code_and_nothing_halts(
    client: TestClient, clock: FixedClock, app: FastAPI, officer: Person, alice: Person
) -> None:
    unknown = client.post(
        HALTS, json={"scope": "symbol", "symbol": "NOPE", "reason": WHY}, headers=officer.headers
    )

    assert reason_of(unknown) == (422, "INSTRUMENT_NOT_FOUND")
    assert client.get(HALTS, headers=officer.headers).json() == []
    assert "NOPE" not in desk_of(app).risk.symbol_states
    assert order(client, clock, alice, quantity=1).status_code == 201


# -- accounts ----------------------------------------------------------------------------


def test_account_trading_state_when_halted_then_only_that_account_stops(
    client: TestClient, clock: FixedClock, officer: Person, alice: Person, bob: Person
) -> None:
    resting = accepted(client, clock, alice, quantity=10, limit_price="99.00")
    path = f"/v1/compliance/accounts/{account_of(client, alice)}/trading-state"

    change = changed(
        client, officer, "PUT", path, state="HALTED", reason=WHY, cancel_open_orders=True
    )

    assert [o["id"] for o in change["cancelled_orders"]] == [resting]
    assert reason_of(order(client, clock, alice, quantity=1)) == (422, "RISK_TRADING_HALTED")
    assert order(client, clock, bob, quantity=1).status_code == 201
    view = client.get("/v1/account", headers=alice.headers).json()
    assert view["trading_state"] == "HALTED"
    changed(client, officer, "PUT", path, state="ACTIVE", reason="reviewed")
    assert order(client, clock, alice, quantity=1).status_code == 201


def test_suspension_when_set_then_orders_are_cancelled_and_new_ones_refused(
    client: TestClient, clock: FixedClock, app: FastAPI, officer: Person, alice: Person
) -> None:
    resting = accepted(client, clock, alice, quantity=10, limit_price="99.00")
    account_id = account_of(client, alice)
    path = f"/v1/compliance/accounts/{account_id}"

    suspended = changed(client, officer, "PATCH", path, status="suspended", reason=WHY)

    assert suspended["before"] == {"status": "active", "trading_permission": True}
    assert suspended["after"] == {"status": "suspended", "trading_permission": True}
    assert [o["id"] for o in suspended["cancelled_orders"]] == [resting]
    assert client.get(f"/v1/orders/{resting}", headers=alice.headers).json()["cancel_reason"]
    assert reason_of(order(client, clock, alice, quantity=1)) == (422, "RISK_ACCOUNT_SUSPENDED")
    with transaction(registry_of(app).services.sessions) as db:
        assert db.get_one(TradingAccount, account_id).status == "suspended"

    changed(client, officer, "PATCH", path, status="active", reason="cleared")
    assert order(client, clock, alice, quantity=1).status_code == 201
    changed(client, officer, "PATCH", path, trading_permission=False, reason="kyc lapsed")
    assert reason_of(order(client, clock, alice, quantity=1)) == (
        422,
        "RISK_NO_TRADING_PERMISSION",
    )
    audited = events(registry_of(app).services.engine, "account.standing.changed")
    assert [(e["before"]["status"], e["after"]["status"]) for e in audited] == [
        ("active", "suspended"),
        ("suspended", "active"),
        ("active", "active"),
    ]
    assert audited[-1]["after"]["trading_permission"] is False


def test_restricted_account_when_set_then_it_may_only_reduce(
    client: TestClient, clock: FixedClock, officer: Person, alice: Person, bob: Person
) -> None:
    accepted(client, clock, alice, quantity=10, limit_price="100.00")
    accepted(client, clock, bob, side="sell_short", quantity=10, limit_price="100.00")
    path = f"/v1/compliance/accounts/{account_of(client, alice)}"

    change = changed(client, officer, "PATCH", path, status="restricted", reason=WHY)

    assert change["cancelled_orders"] == []
    assert client.get(path, headers=officer.headers).json()["restrictions"] == ["staff"]
    assert reason_of(order(client, clock, alice, quantity=1)) == (422, "RISK_ACCOUNT_RESTRICTED")
    assert order(client, clock, alice, side="sell", quantity=5, limit_price="100.00").is_success


def test_pdt_reset_when_an_account_is_flagged_then_it_may_open_positions_again(
    client: TestClient, clock: FixedClock, app: FastAPI, officer: Person, bob: Person
) -> None:
    account_id = account_of(client, bob)
    flagged_until = clock.now_ns() + 90 * DAY_NS
    with transaction(registry_of(app).services.sessions) as db:
        db.execute(
            update(TradingAccount)
            .where(TradingAccount.id == account_id)
            .values(pdt_restricted_until_ns=flagged_until)
        )
    desk_of(app).start()
    assert reason_of(order(client, clock, bob, quantity=1)) == (422, "RISK_PDT_RESTRICTED")

    reset = changed(
        client, officer, "POST", f"/v1/compliance/accounts/{account_id}/pdt-reset", reason=WHY
    )

    assert reset["before"]["restricted_until"] is not None
    assert reset["after"] == {"restricted_until": None, "day_trades": 0}
    assert order(client, clock, bob, quantity=1).status_code == 201
    view = client.get(f"/v1/compliance/accounts/{account_id}", headers=officer.headers).json()
    assert view["pattern_day_trader_restricted_until"] is None
    with transaction(registry_of(app).services.sessions) as db:
        assert db.get_one(TradingAccount, account_id).pdt_restricted_until_ns is None
    assert [e["reason"] for e in events(registry_of(app).services.engine, "account.pdt.reset")] == [
        WHY
    ]


def test_account_view_when_read_by_compliance_then_standing_states_and_cash(
    client: TestClient, clock: FixedClock, officer: Person, alice: Person
) -> None:
    accepted(client, clock, alice, quantity=10, limit_price="99.00")
    account_id = account_of(client, alice)
    changed(client, officer, "POST", HALTS, scope="global", state="REDUCING", reason=WHY)

    view = client.get(f"/v1/compliance/accounts/{account_id}", headers=officer.headers).json()

    assert view["id"] == account_id
    assert view["user_id"] == user_id(client, alice)
    assert (view["status"], view["trading_permission"]) == ("active", True)
    assert (view["trading_state"], view["account_trading_state"]) == ("REDUCING", "ACTIVE")
    assert (view["reserved_cash"], view["open_orders"], view["day_trades"]) == ("990.00", 1, 0)
    missing = client.get(
        "/v1/compliance/accounts/01a1fd70-0000-7000-8000-000000000000", headers=officer.headers
    )
    assert reason_of(missing) == (404, "ACCOUNT_NOT_FOUND")


# -- limits ------------------------------------------------------------------------------


def test_limit_change_when_the_credit_threshold_drops_then_the_next_order_meets_it(
    client: TestClient, clock: FixedClock, app: FastAPI, officer: Person, alice: Person
) -> None:
    change = changed(
        client, officer, "PUT", LIMITS, scope="firm", name="credit_threshold", value="500.00",
        reason=WHY,
    )  # fmt: skip

    assert (change["before"], change["after"]) == ("10000000.00", "500.00")
    denied = order(client, clock, alice, quantity=10, limit_price="100.00")
    assert reason_of(denied) == (422, "RISK_CREDIT_THRESHOLD")
    assert denied.json()["threshold"] == "500.00"
    assert order(client, clock, alice, quantity=4, limit_price="100.00").status_code == 201

    changed(client, officer, "PUT", LIMITS, scope="firm", name="credit_threshold", value=None,
            reason="back to normal")  # fmt: skip

    assert order(client, clock, alice, quantity=10, limit_price="100.00").status_code == 201
    audited = events(registry_of(app).services.engine, "risk.limit.changed")
    assert [(e["scope"], e["name"], e["before"], e["after"]) for e in audited] == [
        ("firm", "credit_threshold", "10000000.00", "500.00"),
        ("firm", "credit_threshold", "500.00", "10000000.00"),
    ]


def test_account_limits_when_set_then_they_bind_that_account_and_are_listed(
    client: TestClient, clock: FixedClock, officer: Person, alice: Person, bob: Person
) -> None:
    scope = f"account:{account_of(client, alice)}"
    changed(client, officer, "PUT", LIMITS, scope=scope, name="max_quantity", value=5, reason=WHY)
    changed(
        client, officer, "PUT", LIMITS, scope=scope, name="credit_threshold", value="250.00",
        reason=WHY,
    )  # fmt: skip

    too_many = order(client, clock, alice, quantity=6, limit_price="99.00")
    assert reason_of(too_many) == (422, "RISK_MAX_QUANTITY")
    assert too_many.json()["threshold"] == 5
    assert reason_of(order(client, clock, alice, quantity=3, limit_price="99.00")) == (
        422,
        "RISK_CREDIT_THRESHOLD",
    )
    assert order(client, clock, bob, quantity=6, limit_price="99.00").status_code == 201

    listed = client.get(LIMITS, headers=officer.headers).json()["limits"]
    mine = {item["name"]: item for item in listed if item["scope"] == scope}
    assert (mine["max_quantity"]["value"], mine["max_quantity"]["overridden"]) == (5, True)
    assert mine["credit_threshold"]["value"] == "250.00"
    assert (
        mine["max_notional"]["value"]
        == str(RiskLimits().tier_limits[2].max_notional_cents // 100) + ".00"
    )
    firm = {item["name"]: item for item in listed if item["scope"] == "firm"}
    assert firm["max_position_shares"] == {
        "scope": "firm",
        "name": "max_position_shares",
        "unit": "shares",
        "value": 1_000_000,
        "default": 1_000_000,
        "overridden": False,
        "updated_by": None,
        "updated_at": None,
    }
    assert mine["max_quantity"]["updated_by"] == user_id(client, officer)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"scope": "firm", "name": "no_such_limit", "value": 5}, "LIMIT_UNKNOWN"),
        ({"scope": "tier:9", "name": "max_quantity", "value": 5}, "LIMIT_UNKNOWN"),
        ({"scope": "firm", "name": "credit_threshold_cents", "value": 5}, "LIMIT_UNKNOWN"),
        ({"scope": "firm", "name": "max_position_shares", "value": 0}, "LIMIT_INVALID"),
        ({"scope": "firm", "name": "max_position_shares", "value": "10.00"}, "LIMIT_INVALID"),
        ({"scope": "firm", "name": "credit_threshold", "value": 500}, "LIMIT_INVALID"),
        ({"scope": "firm", "name": "credit_threshold", "value": "-5.00"}, "LIMIT_INVALID"),
        ({"scope": "firm", "name": "initial_margin_bps", "value": 2_500}, "LIMIT_INVALID"),
        ({"scope": "firm", "name": "max_position_shares", "value": 1.5}, "VALIDATION_FAILED"),
        ({"scope": "firm", "name": "max_position_shares", "value": True}, "VALIDATION_FAILED"),
        ({"scope": "firm", "name": "max_position_shares"}, "VALIDATION_FAILED"),
        (
            {
                "scope": "account:01a1fd70-0000-7000-8000-000000000000",
                "name": "max_quantity",
                "value": 5,
            },
            "ACCOUNT_NOT_FOUND",
        ),
    ],
)
def test_limit_change_when_invalid_then_422_and_nothing_changes(
    client: TestClient, app: FastAPI, officer: Person, body: dict[str, Any], reason: str
) -> None:
    before = client.get(LIMITS, headers=officer.headers).json()

    refused = client.put(LIMITS, json=body | {"reason": WHY}, headers=officer.headers)

    assert reason_of(refused) == (422, reason)
    assert refused.headers["content-type"] == "application/problem+json"
    assert client.get(LIMITS, headers=officer.headers).json() == before
    assert desk_of(app).limits == RiskLimits()
    assert events(registry_of(app).services.engine, "risk.limit.changed") == []


# -- lists, locates and close-outs -------------------------------------------------------


def test_restricted_flag_when_set_then_orders_in_the_security_are_refused(
    client: TestClient, clock: FixedClock, app: FastAPI, officer: Person, alice: Person
) -> None:
    change = changed(
        client, officer, "PATCH", "/v1/compliance/instruments/ACME", restricted=True, reason=WHY
    )

    assert change["before"]["restricted"] is False
    assert change["after"] == {"restricted": True, "threshold": False, "easy_to_borrow": True}
    assert reason_of(order(client, clock, alice, quantity=1)) == (422, "RISK_RESTRICTED_SECURITY")
    listed = client.get("/v1/compliance/restricted-list", headers=officer.headers).json()
    assert [item["symbol"] for item in listed] == ["ACME"]
    threshold = client.get("/v1/compliance/threshold-list", headers=officer.headers).json()
    assert [item["symbol"] for item in threshold] == ["THR"]

    changed(
        client,
        officer,
        "PATCH",
        "/v1/compliance/instruments/ACME",
        restricted=False,
        reason="lifted",
    )

    assert order(client, clock, alice, quantity=1).status_code == 201
    audited = events(registry_of(app).services.engine, "instrument.flags.changed")
    assert [(e["before"]["restricted"], e["after"]["restricted"]) for e in audited] == [
        (False, True),
        (True, False),
    ]
    unknown = client.patch(
        "/v1/compliance/instruments/NOPE", json={"restricted": True, "reason": WHY},
        headers=officer.headers,
    )  # fmt: skip
    assert reason_of(unknown) == (404, "INSTRUMENT_NOT_FOUND")


def test_instrument_flags_when_changed_then_the_live_reference_price_is_kept(
    client: TestClient,
    clock: FixedClock,
    app: FastAPI,
    officer: Person,
    both: tuple[Person, Person],
) -> None:
    alice, bob = both
    accepted(client, clock, alice, quantity=10, limit_price="101.00")
    accepted(client, clock, bob, side="sell_short", quantity=10, limit_price="101.00")

    changed(client, officer, "PATCH", "/v1/compliance/instruments/ACME", threshold=True, reason=WHY)

    assert desk_of(app).risk.instruments["ACME"].reference_price == 1_010_000
    universe = client.get("/v1/instruments", headers=alice.headers).json()
    acme = next(item for item in universe if item["symbol"] == "ACME")
    assert (acme["reference_price"], acme["threshold"], acme["restricted"]) == (
        "101.00",
        True,
        False,
    )


def test_locate_when_granted_then_a_hard_to_borrow_short_passes_up_to_its_quantity(
    client: TestClient, clock: FixedClock, app: FastAPI, officer: Person, bob: Person
) -> None:
    account_id = account_of(client, bob)
    short = {"symbol": "HTB", "side": "sell_short", "limit_price": "50.00"}
    assert reason_of(order(client, clock, bob, quantity=10, **short)) == (
        422,
        "RISK_SHO_LOCATE_REQUIRED",
    )

    granted = changed(
        client, officer, "POST", LOCATES, account_id=account_id, symbol="HTB", quantity=10
    )

    end_of_day = stamp(clock.now().replace(hour=23, minute=59, second=59, microsecond=0))
    assert granted["before"] is None
    assert granted["after"] == {"quantity": 10, "expires_at": end_of_day}
    assert order(client, clock, bob, quantity=10, **short).status_code == 201
    assert reason_of(order(client, clock, bob, quantity=1, **short)) == (
        422,
        "RISK_SHO_LOCATE_REQUIRED",
    )
    listed = client.get(LOCATES, params={"account_id": account_id}, headers=officer.headers)
    assert [(x["symbol"], x["quantity"], x["active"]) for x in listed.json()] == [("HTB", 10, True)]
    audited = events(registry_of(app).services.engine, "locate.granted")
    assert [(e["symbol"], e["after"]["quantity"]) for e in audited] == [("HTB", 10)]


def test_locate_when_granted_again_then_it_replaces_the_earlier_one(
    client: TestClient, clock: FixedClock, officer: Person, bob: Person
) -> None:
    account_id = account_of(client, bob)
    expires_at = clock.now() + timedelta(days=2)
    expires = stamp(expires_at)
    changed(client, officer, "POST", LOCATES, account_id=account_id, symbol="HTB", quantity=10)

    again = changed(
        client, officer, "POST", LOCATES, account_id=account_id, symbol="HTB", quantity=30,
        expires_at=to_rfc3339(expires_at),
    )  # fmt: skip

    assert again["before"]["quantity"] == 10
    assert again["after"] == {"quantity": 30, "expires_at": expires}
    listed = client.get(LOCATES, headers=officer.headers).json()
    assert [(x["quantity"], x["expires_at"]) for x in listed] == [(30, expires)]
    short = {"symbol": "HTB", "side": "sell_short", "limit_price": "50.00"}
    assert order(client, clock, bob, quantity=30, **short).status_code == 201


@pytest.mark.parametrize(
    "case",
    [
        ({"expires_at": "2020-01-01T00:00:00Z"}, (422, "LOCATE_EXPIRY_INVALID")),
        ({"expires_at": "2099-01-01T00:00:00Z"}, (422, "LOCATE_EXPIRY_INVALID")),
        ({"expires_at": "2026-11-21T12:00:00"}, (422, "VALIDATION_FAILED")),
        ({"symbol": "NOPE"}, (422, "INSTRUMENT_NOT_FOUND")),
        ({"account_id": "01a1fd70-0000-7000-8000-000000000000"}, (422, "ACCOUNT_NOT_FOUND")),
        ({"quantity": 0}, (422, "VALIDATION_FAILED")),
    ],
)
def test_locate_when_invalid_then_refused_and_nothing_is_granted(
    client: TestClient,
    app: FastAPI,
    officer: Person,
    bob: Person,
    case: tuple[dict[str, Any], tuple[int, str]],
) -> None:
    ask, reason = case
    body = {"account_id": account_of(client, bob), "symbol": "HTB", "quantity": 10} | ask

    assert reason_of(client.post(LOCATES, json=body, headers=officer.headers)) == reason
    assert client.get(LOCATES, headers=officer.headers).json() == []
    assert events(registry_of(app).services.engine, "locate.granted") == []


def test_closeout_when_open_then_new_shorts_in_the_threshold_security_are_refused(
    client: TestClient, clock: FixedClock, app: FastAPI, officer: Person, bob: Person
) -> None:
    short = {"symbol": "THR", "side": "sell_short", "limit_price": "20.00"}
    path = "/v1/compliance/closeouts/THR"

    recorded = changed(client, officer, "PUT", path, shares=300, reason="CNS fails report")

    assert (recorded["before"], recorded["after"]) == ({"shares": 0}, {"shares": 300})
    assert reason_of(order(client, clock, bob, quantity=10, **short)) == (422, "RISK_SHO_CLOSEOUT")
    listed = client.get("/v1/compliance/closeouts", headers=officer.headers).json()
    assert [(x["symbol"], x["shares"], x["threshold"]) for x in listed] == [("THR", 300, True)]

    changed(client, officer, "PUT", path, shares=0, reason="closed out")

    assert order(client, clock, bob, quantity=10, **short).status_code == 201
    assert client.get("/v1/compliance/closeouts", headers=officer.headers).json() == []
    audited = events(registry_of(app).services.engine, "closeout.obligation.changed")
    assert [(e["before"]["shares"], e["after"]["shares"]) for e in audited] == [(0, 300), (300, 0)]


def test_instruments_when_listed_by_a_trader_then_the_universe_with_states(
    client: TestClient, officer: Person, alice: Person
) -> None:
    changed(client, officer, "POST", HALTS, scope="symbol", symbol="OTHER", reason=WHY)

    universe = client.get("/v1/instruments", headers=alice.headers).json()

    assert [item["symbol"] for item in universe] == ["ACME", "HTB", "OTHER", "THR"]
    other = universe[2]
    assert other | {"reference_at": None} == {
        "symbol": "OTHER",
        "name": "OTHER Inc.",
        "tier": 1,
        "tick_size": "0.01",
        "lot_size": 1,
        "reference_price": "40.00",
        "reference_at": None,
        "status": "active",
        "trading_state": "HALTED",
        "restricted": False,
        "threshold": False,
        "easy_to_borrow": True,
    }
    page = client.get("/v1/instruments", params={"after": "HTB", "limit": 1}, headers=alice.headers)
    assert [item["symbol"] for item in page.json()] == ["OTHER"]


# -- restarts ----------------------------------------------------------------------------


def controls_in_memory(app: FastAPI) -> dict[str, Any]:
    """Every control the app's desk's checks read, in comparable form."""
    return controls_of(desk_of(app))


def controls_of(desk: TradingDesk) -> dict[str, Any]:
    """Every control ``desk``'s checks read, in comparable form."""
    with desk.lock:
        risk = desk.risk
        return {
            "global": risk.global_state,
            "symbols": dict(risk.symbol_states),
            "accounts": dict(risk.account_states),
            "standing": {
                account_id: (account.status, account.trading_permission, dict(account.locates))
                for account_id, account in risk.accounts.items()
            },
            "flags": {
                symbol: (i.restricted, i.threshold, i.easy_to_borrow)
                for symbol, i in risk.instruments.items()
            },
            "closeouts": dict(risk.closeout_obligations),
            "limits": desk.limits,
        }


def test_restart_when_every_control_is_set_then_all_of_them_survive(
    client: TestClient,
    clock: FixedClock,
    app: FastAPI,
    officer: Person,
    both: tuple[Person, Person],
) -> None:
    alice, bob = both
    alice_id, bob_id = account_of(client, alice), account_of(client, bob)
    compliance = "/v1/compliance"
    changed(client, officer, "POST", HALTS, scope="global", state="REDUCING", reason=WHY)
    changed(client, officer, "POST", HALTS, scope="symbol", symbol="OTHER", reason=WHY)
    changed(client, officer, "PUT", f"{compliance}/accounts/{alice_id}/trading-state",
            state="HALTED", reason=WHY)  # fmt: skip
    changed(client, officer, "PATCH", f"{compliance}/accounts/{bob_id}", status="restricted",
            trading_permission=False, reason=WHY)  # fmt: skip
    changed(client, officer, "PUT", LIMITS, scope="tier:1", name="max_quantity", value=77,
            reason=WHY)  # fmt: skip
    changed(client, officer, "PUT", LIMITS, scope=f"account:{bob_id}", name="credit_threshold",
            value="123.45", reason=WHY)  # fmt: skip
    changed(client, officer, "PATCH", f"{compliance}/instruments/ACME", restricted=True,
            easy_to_borrow=False, reason=WHY)  # fmt: skip
    changed(client, officer, "PUT", f"{compliance}/closeouts/THR", shares=50, reason=WHY)
    changed(client, officer, "POST", LOCATES, account_id=bob_id, symbol="HTB", quantity=40)
    before = controls_in_memory(app)
    assert before["limits"] != RiskLimits()

    desk_of(app).start()
    assert controls_in_memory(app) == before

    services = registry_of(app).services
    assert controls_of(build_trading_desk(services, RiskEngine(clock))) == before  # a new process
    assert reason_of(
        order(client, clock, alice, symbol="HTB", quantity=1, limit_price="50.00")
    ) == (
        422,
        "RISK_TRADING_HALTED",
    )


def test_locate_when_short_sales_filled_then_a_restart_keeps_what_is_left(
    client: TestClient,
    clock: FixedClock,
    app: FastAPI,
    officer: Person,
    both: tuple[Person, Person],
) -> None:
    alice, bob = both
    bob_id = account_of(client, bob)
    changed(client, officer, "POST", LOCATES, account_id=bob_id, symbol="HTB", quantity=10)
    accepted(client, clock, alice, symbol="HTB", quantity=4, limit_price="50.00")
    accepted(client, clock, bob, symbol="HTB", side="sell_short", quantity=4, limit_price="50.00")
    assert desk_of(app).risk.accounts[bob_id].locates["HTB"].quantity == 6

    desk_of(app).start()

    assert desk_of(app).risk.accounts[bob_id].locates["HTB"].quantity == 6


def test_controls_when_the_desk_rebuilds_after_a_failed_write_then_limits_stay_as_stored(
    client: TestClient, app: FastAPI, officer: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit = registry_of(app).services.audit
    original = audit.draft

    def failing(event_type: str, *args: Any, **kwargs: Any) -> Any:
        if event_type == "risk.limit.changed":
            raise OSError("disk full")
        return original(event_type, *args, **kwargs)

    monkeypatch.setattr(audit, "draft", failing)
    refused = client.put(
        LIMITS, json={"scope": "firm", "name": "max_position_shares", "value": 5, "reason": WHY},
        headers=officer.headers,
    )  # fmt: skip

    assert reason_of(refused) == (503, "TRADING_UNAVAILABLE")
    assert desk_of(app).limits == RiskLimits()
    assert desk_of(app).risk.limits == RiskLimits()
    assert desk_of(app).risk.global_state is TradingState.ACTIVE
