"""Every pre-trade denial through the HTTP API, each with the state that causes it.

State is built through the API where the API can build it (orders, fills between two
traders); the controls staff set (trading states, limits, locates, account standing) are
set on the desk under its lock. Each denial must be a 422 with the check's reason code,
inputs and threshold, leave the trader's account, orders and positions as they were, and
be audited with the same explanation (``TradingFloor.denied``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from denial_flows import Denied, ProblemReply, TradingFloor
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, login, reason_of, sign_up, signed_up_with_totp
from trading_flows import fund_trader, order_terms

from tradeguard.core.clock import NS_PER_SECOND, FixedClock, ns_to_rfc3339
from tradeguard.core.errors import ProblemError
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import DAY_NS, AccountKind, AccountStatus, Locate, RiskLimits
from tradeguard.risk.model import TradingState as State
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.trading.orders.desk import OrderAsk, TradingDesk

ACME = "ACME"
CASH, MARGIN = AccountKind.CASH, AccountKind.MARGIN
MARKET = {"type": "market", "limit_price": None}
TIER_2 = {"tier": 2}
SECOND = NS_PER_SECOND
MODIFY_DENIED = "order.modify.denied"


@pytest.fixture
def floor(
    client: TestClient, app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> TradingFloor:
    return TradingFloor(client, app, mailbox, clock)


@pytest.fixture
def alice(floor: TradingFloor) -> Person:
    """A cash trader with $100,000, and ACME at a fresh reference price of $100.00."""
    trader = floor.trader()
    floor.instrument(ACME, "100.00")
    return trader


@pytest.fixture
def alice_long(floor: TradingFloor, alice: Person) -> Person:
    """Alice, holding 10 ACME she bought from a margin trader."""
    floor.cross(alice, floor.trader(MARGIN), 10)
    return alice


def collar(low: str, top: str) -> str:
    """A collar's threshold as a denial states it: ``low..top``, prices in dollars."""
    return f"{low}..{top}"


# -- checks that need no more than an instrument, an account and the order's terms -------


@dataclass(frozen=True)
class Case:
    """An order that breaks one check, on an account and an instrument set up for it."""

    denied: Denied
    terms: dict[str, Any]
    reference: str | None = "100.00"
    flags: dict[str, Any] = field(default_factory=dict)
    kind: AccountKind = CASH
    deposit: str = "100000.00"


def case(name: str, denied: Denied, terms: dict[str, Any], **setup: Any) -> Any:
    """One row of ``CASES``."""
    return pytest.param(Case(denied, terms, **setup), id=name)


def collar_case(name: str, reference: str, price: str, band: str) -> Any:
    """A limit price just outside the collar (``low..top``) around ``reference``."""
    inputs = {"limit_price": price, "reference_price": reference}
    terms = {"limit_price": price}
    return case(name, Denied("RISK_PRICE_COLLAR", inputs, band), terms, reference=reference)


def bp_cash(needed: str) -> Denied:
    """Not enough settled cash in a $1,000 cash account."""
    return Denied("RISK_BUYING_POWER", {"needed": needed, "settled_cash": "1000.00"}, "1000.00")


CASES = [
    case("symbol", Denied("RISK_UNKNOWN_SYMBOL", {"symbol": "ZZZZ"}), {"symbol": "ZZZZ"}),
    case(
        "lot",
        Denied("RISK_LOT_SIZE", {"quantity": 50}, 100),
        {"quantity": 50},
        flags={"lot_size": 100},
    ),
    case(
        "tick",
        Denied("RISK_TICK_SIZE", {"limit_price": "100.005"}, "0.01"),
        {"limit_price": "100.005"},
    ),
    case(
        "price-0",
        Denied("RISK_INVALID_PRICE", {"limit_price": "0.00"}, "0.0001"),
        {"limit_price": "0.00"},
    ),
    case(
        "price<0",
        Denied("RISK_INVALID_PRICE", {"limit_price": "-1.00"}, "0.0001"),
        {"limit_price": "-1.00"},
    ),
    case(
        "restricted-list",
        Denied("RISK_RESTRICTED_SECURITY", {"symbol": ACME}, threshold=False),
        {},
        flags={"restricted": True},
    ),
    case(
        "instrument-halted",
        Denied("RISK_INSTRUMENT_HALTED", {"symbol": ACME}, threshold=False),
        {},
        flags={"status": "halted"},
    ),
    case(
        "no-reference-limit",
        Denied("RISK_NO_REFERENCE_PRICE", {"symbol": ACME}),
        {},
        reference=None,
    ),
    case(
        "no-reference-market",
        Denied("RISK_NO_REFERENCE_PRICE", {"symbol": ACME}),
        MARKET,
        reference=None,
    ),
    # The three bands with their defaults: 10% up to $25, 5% up to $50, 3% above.
    collar_case("collar-10%-below", "20.00", "17.99", collar("18.00", "22.00")),
    collar_case("collar-10%-above", "20.00", "22.01", collar("18.00", "22.00")),
    collar_case("collar-5%-below", "40.00", "37.99", collar("38.00", "42.00")),
    collar_case("collar-5%-above", "40.00", "42.01", collar("38.00", "42.00")),
    collar_case("collar-3%-below", "100.00", "96.99", collar("97.00", "103.00")),
    collar_case("collar-3%-above", "100.00", "103.01", collar("97.00", "103.00")),
    # A cent past a band's top, the next (narrower) band applies, rounded toward the reference.
    collar_case("collar-5%-from-25.01", "25.01", "23.75", collar("23.7595", "26.2605")),
    collar_case("collar-3%-from-50.01", "50.01", "48.50", collar("48.5097", "51.5103")),
    case(
        "max-qty-tier-1",
        Denied("RISK_MAX_QUANTITY", {"quantity": 100_001}, 100_000),
        {"quantity": 100_001, "limit_price": "1.00"},
        reference="1.00",
    ),
    case(
        "max-qty-tier-2",
        Denied("RISK_MAX_QUANTITY", {"quantity": 25_001}, 25_000),
        {"quantity": 25_001, "limit_price": "1.00"},
        reference="1.00",
        flags=TIER_2,
    ),
    case(
        "max-notional-tier-1",
        Denied("RISK_MAX_NOTIONAL", {"notional": "5000100.00"}, "5000000.00"),
        {"quantity": 50_001},
    ),
    case(
        "max-notional-tier-2",
        Denied("RISK_MAX_NOTIONAL", {"notional": "1000100.00"}, "1000000.00"),
        {"quantity": 10_001},
        flags=TIER_2,
    ),
    # A market order is sized at the collar top: 9,710 x $103.00 > $1,000,000.
    case(
        "max-notional-market",
        Denied("RISK_MAX_NOTIONAL", {"notional": "1000130.00"}, "1000000.00"),
        MARKET | {"quantity": 9_710},
        flags=TIER_2,
    ),
    case(
        "sell-no-position",
        Denied("RISK_SELL_EXCEEDS_POSITION", {"quantity": 10, "position": 0}, 0),
        {"side": "sell"},
    ),
    case(
        "short-in-cash",
        Denied("RISK_SHORT_IN_CASH_ACCOUNT", {"kind": "cash"}, "margin"),
        {"side": "sell_short"},
    ),
    case(
        "locate-hard-to-borrow",
        Denied("RISK_SHO_LOCATE_REQUIRED", {"locate_shares": None, "locate_expires_at": None}, 10),
        {"side": "sell_short"},
        flags={"easy_to_borrow": False},
        kind=MARGIN,
    ),
    case("bp-cash", bp_cash("1100.00"), {"quantity": 11}, deposit="1000.00"),
    # A market buy reserves at the collar top: 10 x $103.00 > $1,000.
    case("bp-cash-market", bp_cash("1030.00"), MARKET, deposit="1000.00"),
    # Reg T: 50% of 21 x $100.00 = $1,050 > $1,000 of equity.
    case(
        "bp-margin",
        Denied(
            "RISK_BUYING_POWER",
            {"requirement": "1050.00", "margin_bps": 5_000, "equity": "1000.00"},
            "1000.00",
        ),
        {"quantity": 21},
        kind=MARGIN,
        deposit="1000.00",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_order_when_it_breaks_a_check_then_denied_explained_nothing_held_and_audited(
    floor: TradingFloor, case: Case
) -> None:
    trader = floor.trader(case.kind, case.deposit)
    floor.instrument(ACME, case.reference, **case.flags)

    floor.deny(trader, case.denied, **case.terms)


EDGES = [
    pytest.param("20.00", {"limit_price": "18.00"}, {}, CASH, "1000.00", id="collar-low"),
    pytest.param("20.00", {"limit_price": "22.00"}, {}, CASH, "1000.00", id="collar-top"),
    pytest.param("25.00", {"limit_price": "22.50"}, {}, CASH, "1000.00", id="10%-at-25.00"),
    pytest.param("50.00", {"limit_price": "47.50"}, {}, CASH, "1000.00", id="5%-at-50.00"),
    pytest.param("100.00", {"limit_price": "103.00"}, {}, CASH, "1030.00", id="3%-all-cash"),
    pytest.param("100.00", {"quantity": 100}, {"lot_size": 100}, CASH, "10000.00", id="lots"),
    pytest.param(
        "1.00",
        {"quantity": 25_000, "limit_price": "1.00"},
        TIER_2,
        CASH,
        "25000.00",
        id="tier-2-max",
    ),
    pytest.param("100.00", {"quantity": 20}, {}, MARGIN, "1000.00", id="reg-t-exactly"),
    pytest.param("100.00", {"side": "sell_short"}, {}, MARGIN, "10000.00", id="easy-to-borrow"),
]


@pytest.mark.parametrize(("reference", "terms", "flags", "kind", "deposit"), EDGES)
def test_order_when_at_the_edge_of_a_check_then_accepted(  # noqa: PLR0913, PLR0917 - a table row
    floor: TradingFloor,
    reference: str,
    terms: dict[str, Any],
    flags: dict[str, Any],
    kind: AccountKind,
    deposit: str,
) -> None:
    trader = floor.trader(kind, deposit)
    floor.instrument(ACME, reference, **flags)

    assert floor.accept(trader, **terms)["status"] == "open"
    assert floor.audit("order.denied") == []


# -- checks that need time, earlier orders or fills --------------------------------------


def test_market_order_when_reference_price_older_than_5s_then_denied_fail_closed(
    floor: TradingFloor, alice: Person
) -> None:
    bob = floor.trader(MARGIN)
    floor.instrument(ACME, "100.00")  # fresh again after the sign-up
    floor.clock.advance(seconds=5)
    on_time = floor.accept(alice, **MARKET, quantity=3)
    assert (on_time["status"], on_time["filled_quantity"]) == ("cancelled", 0)  # no one sells
    floor.clock.advance(seconds=1)

    stale = Denied("RISK_STALE_REFERENCE_PRICE", {"age_ms": 6_000}, 5_000)
    floor.deny(alice, stale, **MARKET, quantity=4)
    floor.accept(alice, quantity=4)  # a limit order needs a reference price, not a fresh one
    floor.cross(alice, bob, 2, "100.50")  # a trade marks a fresh reference
    floor.accept(bob, side="sell_short", quantity=4, limit_price="103.00")
    marked = floor.accept(alice, **MARKET, quantity=4)  # the collar top is now $103.515
    assert (marked["filled_quantity"], marked["average_price"]) == (4, "103.00")


def test_order_when_5_already_this_second_in_the_symbol_then_denied_until_a_second_passed(
    floor: TradingFloor, alice: Person
) -> None:
    floor.instrument("BETA", "50.00")
    for cents in range(5):
        floor.accept(alice, limit_price=f"99.0{cents}")

    rate = Denied("RISK_SYMBOL_ORDER_RATE", {"orders": 5, "symbol": ACME}, 5)
    floor.deny(alice, rate, limit_price="99.05")
    floor.accept(alice, symbol="BETA", limit_price="50.00")
    floor.clock.advance(seconds=1)
    floor.accept(alice, limit_price="99.05")


def test_order_when_20_already_this_second_in_the_account_then_denied_until_a_second_passed(
    floor: TradingFloor, alice: Person
) -> None:
    symbols = ["BETA", "GAMA", "DELT", "EPSI"]
    for symbol in symbols:
        floor.instrument(symbol, "10.00")
    for symbol in symbols:
        for cents in range(5):
            floor.accept(alice, symbol=symbol, limit_price=f"10.0{cents}")

    floor.deny(alice, Denied("RISK_ORDER_RATE", {"orders": 20}, 20))
    floor.clock.advance(seconds=1)
    floor.accept(alice)


def test_order_when_same_terms_again_within_2s_then_denied_as_duplicate(
    floor: TradingFloor, alice: Person
) -> None:
    floor.accept(alice, quantity=7, limit_price="99.00")
    floor.clock.advance(seconds=2)

    duplicate = Denied("RISK_DUPLICATE_ORDER", {"age_ms": 2_000}, 2_000)
    floor.deny(alice, duplicate, quantity=7, limit_price="99.00")
    floor.accept(alice, quantity=8, limit_price="99.00")  # other terms are no duplicate
    floor.clock.advance(nanoseconds=1)
    floor.accept(alice, quantity=7, limit_price="99.00")


def test_sell_when_open_sells_already_cover_the_position_then_denied(
    floor: TradingFloor, alice_long: Person
) -> None:
    floor.accept(alice_long, side="sell", quantity=6, limit_price="101.00")

    uncovered = Denied("RISK_SELL_EXCEEDS_POSITION", {"quantity": 5, "position": 10}, 4)
    floor.deny(alice_long, uncovered, side="sell", quantity=5, limit_price="101.00")
    floor.accept(alice_long, side="sell", quantity=4, limit_price="101.00")


def test_short_sale_when_locate_too_small_or_expired_then_denied_until_a_valid_one(
    floor: TradingFloor,
) -> None:
    trader = floor.trader(MARGIN)
    floor.instrument(ACME, "100.00", easy_to_borrow=False)
    account = floor.account_id(trader)
    now, later = floor.clock.now_ns(), floor.clock.now_ns() + 3_600 * SECOND
    short = {"side": "sell_short", "quantity": 10, "limit_price": "100.00"}

    def locate(shares: int, expires_at_ns: int) -> None:
        floor.on_desk(
            lambda desk: desk.risk.add_locate(account, Locate(ACME, shares, expires_at_ns))
        )

    for shares, expires in ((5, later), (10, now)):
        locate(shares, expires)
        inputs = {"locate_shares": shares, "locate_expires_at": ns_to_rfc3339(expires)}
        floor.deny(trader, Denied("RISK_SHO_LOCATE_REQUIRED", inputs, 10), **short)
    locate(10, later)
    floor.accept(trader, **short)


def test_short_sale_when_threshold_security_has_open_closeout_then_denied(
    floor: TradingFloor,
) -> None:
    trader = floor.trader(MARGIN)
    floor.instrument(ACME, "100.00", threshold=True)
    floor.on_desk(lambda desk: desk.risk.set_closeout_obligation(ACME, 500))

    closeout = Denied("RISK_SHO_CLOSEOUT", {"symbol": ACME, "closeout_shares": 500}, 0)
    floor.deny(trader, closeout, side="sell_short")
    floor.on_desk(lambda desk: desk.risk.set_closeout_obligation(ACME, 0))
    floor.accept(trader, side="sell_short")


def test_order_when_position_limit_would_be_passed_with_open_orders_then_denied(
    floor: TradingFloor, alice: Person
) -> None:
    floor.on_desk(lambda desk: desk.apply_limits(replace(RiskLimits(), max_position_shares=50)))
    floor.accept(alice, quantity=30, limit_price="99.00")

    inputs = {"position": 0, "projected_position": 51}
    floor.deny(alice, Denied("RISK_POSITION_LIMIT", inputs, 50), quantity=21, limit_price="99.00")
    floor.accept(alice, quantity=20, limit_price="99.00")


def test_order_when_gross_exposure_would_pass_20_million_then_denied(floor: TradingFloor) -> None:
    trader = floor.trader(deposit="21000000.00")
    floor.instrument(ACME, "100.00")
    # The account's credit threshold is raised so that the exposure limit is the one met.
    higher = replace(RiskLimits(), account_credit_thresholds={floor.account_id(trader): 10**12})
    floor.on_desk(lambda desk: desk.apply_limits(higher))
    for quantity in (50_000, 49_999, 49_998, 49_997):  # $19,999,400 of open buys
        floor.accept(trader, quantity=quantity)

    exposure = Denied("RISK_GROSS_EXPOSURE", {"exposure": "20000100.00"}, "20000000.00")
    floor.deny(trader, exposure, quantity=7)
    floor.accept(trader, quantity=6)


def test_order_when_executed_plus_open_notional_passes_10_million_a_day_then_denied(
    floor: TradingFloor,
) -> None:
    trader = floor.trader(deposit="12000000.00")
    seller = floor.trader(MARGIN, deposit="3000000.00")
    floor.instrument(ACME, "100.00")
    floor.cross(trader, seller, 50_000)  # $5,000,000 executed today
    floor.accept(trader, quantity=49_999)  # $4,999,900 open

    credit = Denied("RISK_CREDIT_THRESHOLD", {"day_notional": "10000100.00"}, "10000000.00")
    floor.deny(trader, credit, quantity=2)
    floor.accept(trader, quantity=1)


# -- the pattern-day-trader rule ---------------------------------------------------------


def day_trade(floor: TradingFloor, trader: Person, other: Person) -> None:
    """``trader`` buys 10 ACME from ``other`` and sells them back to it: one day trade."""
    floor.cross(trader, other, 10)
    floor.accept(other, side="buy", quantity=10, limit_price="100.00")
    sold = floor.accept(trader, side="sell", quantity=10, limit_price="100.00")
    assert sold["status"] == "filled", sold
    floor.clock.advance(seconds=3)  # the same terms again are no duplicate


@pytest.mark.parametrize(("deposit", "denied"), [("20000.00", True), ("25000.00", False)])
def test_fourth_day_trade_when_margin_account_under_25000_then_denied_as_pdt(
    floor: TradingFloor,
    deposit: str,
    denied: bool,  # noqa: FBT001 - a parameter of the case
) -> None:
    trader, other = floor.trader(MARGIN, deposit), floor.trader(MARGIN, "1000000.00")
    floor.instrument(ACME, "100.00")
    for _ in range(3):
        day_trade(floor, trader, other)
    floor.desk.start()  # day trades are stored: a restart keeps counting them
    assert floor.account(trader)["day_trades"] == 3
    floor.cross(trader, other, 10)  # opening is no day trade: allowed
    floor.accept(other, side="buy", quantity=10, limit_price="100.00")
    closing = {"side": "sell", "quantity": 10, "limit_price": "100.00"}

    if not denied:  # $25,000 of equity may day trade
        assert floor.accept(trader, **closing)["status"] == "filled"
        assert floor.account(trader)["day_trades"] == 4
        assert floor.audit("account.pdt.flagged") == []
        return
    pdt = Denied("RISK_PDT", {"day_trades": 3, "equity": "20000.00"}, 3)
    floor.deny(trader, pdt, **closing)


def test_fourth_day_trade_when_it_executes_from_earlier_orders_then_account_flagged(
    floor: TradingFloor,
) -> None:
    trader, other = floor.trader(MARGIN, "20000.00"), floor.trader(MARGIN, "1000000.00")
    floor.instrument(ACME, "100.00")
    for _ in range(2):
        day_trade(floor, trader, other)
    floor.cross(trader, other, 20)
    # Two closing sells, accepted while the account has made 2 day trades ...
    floor.accept(trader, side="sell", quantity=10, limit_price="100.00")
    floor.accept(trader, side="sell", quantity=10, limit_price="100.01")
    # ... fill at once: day trades 3 and 4.
    taken = floor.accept(other, side="buy", quantity=20, limit_price="100.01")
    assert taken["status"] == "filled", taken

    until = floor.clock.now_ns() + 90 * DAY_NS
    [flagged] = floor.audit("account.pdt.flagged")
    assert flagged["subject"] == floor.account_id(trader)
    equity = 2_000_010  # the second sell made $0.10
    assert flagged["data"] == {
        "day_trades": 4,
        "equity_cents": equity,
        "restricted_until_ns": until,
    }
    account = floor.account(trader)
    assert (account["day_trades"], account["pattern_day_trader_restricted_until"]) == (
        4,
        ns_to_rfc3339(until),
    )
    shown_until = ns_to_rfc3339(until)
    restricted = Denied("RISK_PDT_RESTRICTED", {"restricted_until": shown_until}, shown_until)
    floor.deny(trader, restricted, quantity=1)
    floor.desk.start()  # the flag is stored: it outlives a restart
    floor.deny(trader, restricted, quantity=2)


def test_flagged_pattern_day_trader_when_opening_then_denied_and_when_closing_then_accepted(
    floor: TradingFloor, alice_long: Person
) -> None:
    account = floor.account_id(alice_long)
    floor.on_desk(lambda desk: desk.risk.flag_pattern_day_trader(account))
    until = floor.clock.now_ns() + 90 * DAY_NS
    shown = floor.account(alice_long)["pattern_day_trader_restricted_until"]
    assert shown == ns_to_rfc3339(until)

    restricted = Denied("RISK_PDT_RESTRICTED", {"restricted_until": shown}, shown)
    floor.deny(alice_long, restricted, quantity=5, limit_price="99.00")
    floor.accept(alice_long, side="sell", quantity=5, limit_price="101.00")


# -- the account's standing and the trading states ---------------------------------------

STANDING = [
    pytest.param(
        {"status": AccountStatus.SUSPENDED},
        Denied("RISK_ACCOUNT_SUSPENDED", {"status": "suspended"}, "active"),
        id="suspended",
    ),
    pytest.param(
        {"status": AccountStatus.CLOSED},
        Denied("RISK_ACCOUNT_CLOSED", {"status": "closed"}, "active"),
        id="closed",
    ),
    pytest.param(
        {"trading_permission": False},
        Denied("RISK_NO_TRADING_PERMISSION", {"trading_permission": False}, threshold=True),
        id="no-permission",
    ),
]


@pytest.mark.parametrize(("change", "denied"), STANDING)
def test_order_when_account_may_not_trade_then_denied_even_when_reducing(
    floor: TradingFloor, alice_long: Person, change: dict[str, Any], denied: Denied
) -> None:
    account = floor.account_id(alice_long)
    resting = floor.accept(alice_long, quantity=1, limit_price="99.00")

    def apply(desk: TradingDesk) -> None:
        for name, value in change.items():
            setattr(desk.risk.accounts[account], name, value)

    floor.on_desk(apply)
    floor.deny(alice_long, denied, side="buy")
    floor.deny(alice_long, denied, side="sell", quantity=5)
    cancelled = floor.client.delete(f"/v1/orders/{resting['id']}", headers=alice_long.headers)
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")


def test_order_when_account_restricted_then_only_reducing_orders_accepted(
    floor: TradingFloor, alice_long: Person
) -> None:
    account = floor.account_id(alice_long)
    restrict = AccountStatus.RESTRICTED
    floor.on_desk(lambda desk: setattr(desk.risk.accounts[account], "status", restrict))

    inputs = {"level": "account", "position": 10, "side": "buy", "quantity": 10}
    floor.deny(alice_long, Denied("RISK_ACCOUNT_RESTRICTED", inputs, "reducing"), side="buy")
    floor.accept(alice_long, side="sell", quantity=10, limit_price="101.00")


def set_trading_state(floor: TradingFloor, level: str, account: str, state: State) -> None:
    """Set the platform's, ACME's or ``account``'s trading state on the desk."""

    def change(desk: TradingDesk) -> None:
        if level == "global":
            desk.engine.set_global_state(desk.risk, state)
        elif level == "symbol":
            desk.engine.set_symbol_state(desk.risk, ACME, state)
        else:
            desk.engine.set_account_state(desk.risk, account, state)

    floor.on_desk(change)


LEVELS = ["global", "symbol", "account"]


@pytest.mark.parametrize("level", LEVELS)
def test_order_and_modify_when_halted_then_denied_but_cancel_accepted(
    floor: TradingFloor, alice_long: Person, level: str
) -> None:
    resting = floor.accept(alice_long, quantity=5, limit_price="99.00")
    set_trading_state(floor, level, floor.account_id(alice_long), State.HALTED)
    if level != "symbol":
        assert floor.account(alice_long)["trading_state"] == "HALTED"

    halted = Denied("RISK_TRADING_HALTED", {"level": level}, "ACTIVE")
    floor.deny(alice_long, halted, side="buy")
    floor.deny(alice_long, halted, side="sell", quantity=5)
    change = replace(halted, event=MODIFY_DENIED)
    floor.denied(alice_long, lambda: floor.modify(alice_long, resting, quantity=4), change)
    cancelled = floor.client.delete(f"/v1/orders/{resting['id']}", headers=alice_long.headers)
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")


@pytest.mark.parametrize("level", LEVELS)
def test_order_when_reducing_then_only_orders_that_shrink_the_position_accepted(
    floor: TradingFloor, alice_long: Person, level: str
) -> None:
    set_trading_state(floor, level, floor.account_id(alice_long), State.REDUCING)

    for side, quantity in (("buy", 10), ("sell", 11)):
        inputs = {"level": level, "position": 10, "side": side, "quantity": quantity}
        reducing = Denied("RISK_TRADING_REDUCING", inputs, "reducing")
        floor.deny(alice_long, reducing, side=side, quantity=quantity)
    floor.accept(alice_long, side="sell", quantity=6, limit_price="101.00")
    floor.accept(alice_long, side="sell", quantity=4, limit_price="101.01")


# -- modify ------------------------------------------------------------------------------

MODIFIES = [
    pytest.param(
        {"limit_price": "103.01"},
        Denied(
            "RISK_PRICE_COLLAR",
            {"limit_price": "103.01", "reference_price": "100.00"},
            collar("97.00", "103.00"),
            MODIFY_DENIED,
        ),
        id="collar",
    ),
    pytest.param(
        {"limit_price": "99.005"},
        Denied("RISK_TICK_SIZE", {"limit_price": "99.005"}, "0.01", MODIFY_DENIED),
        id="tick",
    ),
    pytest.param(
        {"limit_price": "0.00"},
        Denied("RISK_INVALID_PRICE", {"limit_price": "0.00"}, "0.0001", MODIFY_DENIED),
        id="price",
    ),
    pytest.param(
        {"quantity": 21},
        Denied(
            "RISK_BUYING_POWER",
            {"needed": "2079.00", "settled_cash": "2000.00"},
            "2000.00",
            MODIFY_DENIED,
        ),
        id="buying-power",
    ),
    pytest.param(
        {"quantity": 100_001},
        Denied("RISK_MAX_QUANTITY", {"quantity": 100_001}, 100_000, MODIFY_DENIED),
        id="max-quantity",
    ),
]


@pytest.mark.parametrize(("change", "denied"), MODIFIES)
def test_modify_when_the_new_terms_break_a_check_then_denied_and_order_unchanged(
    floor: TradingFloor, change: dict[str, Any], denied: Denied
) -> None:
    trader = floor.trader(deposit="2000.00")
    floor.instrument(ACME, "100.00")
    order = floor.accept(trader, quantity=10, limit_price="99.00")

    data = floor.denied(trader, lambda: floor.modify(trader, order, **change), denied)

    assert data["order"] == order["id"]
    assert floor.client.get(f"/v1/orders/{order['id']}", headers=trader.headers).json() == order
    assert floor.account(trader)["reserved_cash"] == "990.00"


@pytest.mark.parametrize(
    "change",
    [{"quantity": 0}, {"quantity": -1}, {"limit_price": 99.5}, {}, {"limit_price": "9.123456"}],
)
def test_modify_when_malformed_then_422_validation_failed_before_any_check(
    floor: TradingFloor, alice: Person, change: dict[str, Any]
) -> None:
    order = floor.accept(alice, quantity=10, limit_price="99.00")

    answer = floor.modify(alice, order, **change)

    assert reason_of(answer) == (422, "VALIDATION_FAILED")
    assert floor.audit(MODIFY_DENIED) == []
    assert floor.client.get(f"/v1/orders/{order['id']}", headers=alice.headers).json() == order


def test_modify_when_order_unknown_or_filled_then_404_or_409_not_a_risk_denial(
    floor: TradingFloor, alice: Person
) -> None:
    unknown = floor.modify(alice, {"id": "nope"}, quantity=2)
    assert reason_of(unknown) == (404, "ORDER_NOT_FOUND")
    floor.accept(floor.trader(MARGIN), side="sell_short", quantity=10, limit_price="100.00")
    filled = floor.accept(alice, quantity=10, limit_price="100.00")
    assert reason_of(floor.modify(alice, filled, quantity=20)) == (409, "ORDER_NOT_OPEN")


# -- fail closed -------------------------------------------------------------------------


def test_order_when_the_checks_cannot_decide_then_denied_as_internal_error_not_5xx(
    floor: TradingFloor, alice: Person
) -> None:
    floor.instrument("ODD", "100.00", tier=3)  # reference data of a tier without limits

    floor.deny(alice, Denied("RISK_INTERNAL_ERROR", {"error": "KeyError"}), symbol="ODD")


def test_order_when_account_risk_state_lost_then_refused_503_and_retry_sees_open_orders(
    floor: TradingFloor,
) -> None:
    trader = floor.trader(deposit="1000.00")
    floor.instrument(ACME, "100.00")
    floor.accept(trader, quantity=8)  # $800 of $1,000 reserved
    before = floor.holdings(trader)
    account = floor.account_id(trader)
    floor.on_desk(lambda desk: desk.risk.accounts.pop(account))
    terms = order_terms(quantity=8, limit_price="99.00")  # $792 more

    def send() -> Any:
        return floor.client.post("/v1/orders", json=terms, headers=trader.headers)

    lost = send()

    assert reason_of(lost) == (503, "TRADING_UNAVAILABLE"), lost.text
    assert lost.headers["retry-after"] == "1"
    assert floor.holdings(trader) == before  # rebuilt from the database, open order included
    inputs = {"needed": "1592.00", "settled_cash": "1000.00"}
    floor.denied(trader, send, Denied("RISK_BUYING_POWER", inputs, "1000.00"))


# -- the layers before the checks: request validation and the gateway --------------------

MALFORMED = [
    pytest.param({"quantity": 0}, id="quantity-zero"),
    pytest.param({"quantity": -10}, id="quantity-negative"),
    pytest.param({"quantity": "10"}, id="quantity-string"),
    pytest.param({"quantity": 10.0}, id="quantity-float"),
    pytest.param({"quantity": 10**9 + 1}, id="quantity-huge"),
    pytest.param({"limit_price": None}, id="limit-without-price"),
    pytest.param({"type": "market"}, id="market-with-price"),
    pytest.param(MARKET | {"time_in_force": "gtc"}, id="market-gtc"),
    pytest.param({"limit_price": 100.0}, id="price-number"),
    pytest.param({"limit_price": "100.00001"}, id="price-5-places"),
    pytest.param({"symbol": "acme"}, id="symbol-lowercase"),
    pytest.param({"side": "short"}, id="side-unknown"),
    pytest.param({"client_order_id": "a b"}, id="client-id-space"),
]


@pytest.mark.parametrize("terms", MALFORMED)
def test_order_when_malformed_then_422_validation_failed_before_any_check(
    floor: TradingFloor, alice: Person, terms: dict[str, Any]
) -> None:
    before = floor.holdings(alice)

    answer = floor.client.post("/v1/orders", json=order_terms(**terms), headers=alice.headers)

    assert reason_of(answer) == (422, "VALIDATION_FAILED"), answer.text
    assert floor.holdings(alice) == before
    assert floor.audit("order.denied") == []


ASK = OrderAsk("desk-1", ACME, Side.BUY, OrderType.LIMIT, TimeInForce.DAY, 10, 1_000_000)
MARKET_ASK = replace(ASK, type=OrderType.MARKET, time_in_force=TimeInForce.IOC)
BELOW_SCHEMA = [
    pytest.param(
        replace(ASK, quantity=0),
        Denied("RISK_INVALID_QUANTITY", {"quantity": 0}, 1),
        id="quantity-zero",
    ),
    pytest.param(
        replace(ASK, quantity=-5),
        Denied("RISK_INVALID_QUANTITY", {"quantity": -5}, 1),
        id="quantity-negative",
    ),
    pytest.param(
        replace(ASK, limit_price=None),
        Denied("RISK_INVALID_PRICE", {"limit_price": None}, "0.0001"),
        id="limit-without-price",
    ),
    pytest.param(
        MARKET_ASK, Denied("RISK_INVALID_PRICE", {"limit_price": "100.00"}), id="market-with-price"
    ),
]


@pytest.mark.parametrize(("ask", "denied"), BELOW_SCHEMA)
def test_desk_when_handed_what_the_schema_refuses_then_the_checks_deny_it_too(
    floor: TradingFloor, alice: Person, ask: OrderAsk, denied: Denied
) -> None:
    def send() -> ProblemReply:
        with pytest.raises(ProblemError) as refused:
            floor.desk.place(floor.caller(alice), ask)
        return ProblemReply(refused.value)

    floor.denied(alice, send, denied)


def test_order_when_no_brokerage_account_then_403_not_a_risk_denial(floor: TradingFloor) -> None:
    person = signed_up_with_totp(
        floor.client, floor.mailbox, floor.clock, Person("nobroker", "nobroker@example.com")
    )

    assert reason_of(floor.place(person)) == (403, "TRADING_NO_ACCOUNT")
    assert floor.audit("order.denied") == []


def test_order_when_no_second_factor_then_gateway_refuses_and_desk_denies_mfa_required(
    floor: TradingFloor, alice: Person
) -> None:
    newcomer = Person(username="newcomer", email="newcomer@example.com")
    sign_up(floor.client, floor.mailbox, newcomer)
    newcomer.tokens = login(floor.client, newcomer).json()
    assert newcomer.tokens["enrollment_only"] is True
    fund_trader(floor.app, newcomer, "1000.00")

    assert reason_of(floor.place(newcomer)) == (403, "AUTH_MFA_ENROLLMENT_REQUIRED")

    def send() -> ProblemReply:
        with pytest.raises(ProblemError) as refused:
            floor.desk.place(floor.caller(alice, enrollment_only=True), ASK)
        return ProblemReply(refused.value)

    floor.denied(alice, send, Denied("RISK_MFA_REQUIRED", {"mfa_enrolled": False}, threshold=True))
