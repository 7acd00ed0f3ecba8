"""A risk engine and context on a fixed clock, with builders for accounts, instruments, orders."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from tradeguard.core.clock import FixedClock
from tradeguard.risk.account import AccountRisk
from tradeguard.risk.checks import CHECKS
from tradeguard.risk.context import RiskContext
from tradeguard.risk.engine import RiskEngine
from tradeguard.risk.model import (
    AccountKind,
    AccountStatus,
    Denial,
    Instrument,
    OrderRequest,
    RiskLimits,
    TradingState,
)
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.risk.screen import passes_every_check

MONDAY = datetime(2026, 11, 23, 14, 30, tzinfo=UTC)
REFERENCE = 1_000_000  # $100.0000
ACCOUNT = "acct-1"
SYMBOL = "ACME"
ONE_BY_ONE = (*CHECKS,)  # the same checks, but not the same tuple: the engine skips its screen
_client_ids = itertools.count(1)


@dataclass
class Kit:
    """An engine, its context and the clock they share."""

    clock: FixedClock
    engine: RiskEngine
    ctx: RiskContext

    @property
    def account(self) -> AccountRisk:
        return self.ctx.accounts[ACCOUNT]

    def check(self, order: OrderRequest) -> Denial | None:
        return self.engine.check(self.ctx, order)

    def reason(self, order: OrderRequest) -> str | None:
        denial = self.check(order)
        return None if denial is None else denial.reason_code

    def place(self, order: OrderRequest) -> str:
        denial = self.check(order)
        assert denial is None, denial
        return self.ctx.accept(order)

    def hold(self, symbol: str, quantity: int, price: int = REFERENCE) -> None:
        """Give the account a position bought (or shorted) yesterday at ``price``."""
        side = Side.BUY if quantity > 0 else Side.SELL_SHORT
        account = self.account
        account.settled_cash_cents += abs(quantity) * price // 100
        account.equity_cents += abs(quantity) * price // 100
        order_id = self.ctx.accept(order(symbol=symbol, side=side, quantity=abs(quantity)))
        self.ctx.fill(order_id, abs(quantity), price)
        account.opened_today.clear()
        account.recent_order_ns.clear()
        account.recent_symbol_ns.clear()
        account.recent_fingerprints.clear()


def kit(
    *, limits: RiskLimits | None = None, start: datetime = MONDAY, **account_fields: Any
) -> Kit:
    clock = FixedClock(start)
    engine = RiskEngine(clock)
    ctx = engine.new_context(limits or RiskLimits())
    ctx.add_instrument(instrument(clock))
    ctx.add_account(account(**account_fields))
    return Kit(clock, engine, ctx)


def instrument(clock: FixedClock, symbol: str = SYMBOL, **fields: Any) -> Instrument:
    values: dict[str, Any] = {
        "tier": 1,
        "tick_size": 100,
        "lot_size": 1,
        "reference_price": REFERENCE,
        "reference_at_ns": clock.now_ns(),
    }
    values.update(fields)
    return Instrument(symbol=symbol, **values)


def account(**fields: Any) -> AccountRisk:
    values: dict[str, Any] = {
        "kind": AccountKind.CASH,
        "settled_cash_cents": 10_000_000,
        "equity_cents": 10_000_000,
    }
    values.update(fields)
    return AccountRisk(account_id=ACCOUNT, **values)


def order(**fields: Any) -> OrderRequest:
    values: dict[str, Any] = {
        "account_id": ACCOUNT,
        "symbol": SYMBOL,
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "quantity": 10,
        "limit_price": REFERENCE,
        "tif": TimeInForce.DAY,
        "client_order_id": f"c-{next(_client_ids)}",
    }
    values.update(fields)
    if values["type"] is OrderType.MARKET and "limit_price" not in fields:
        values["limit_price"] = None
    return OrderRequest(**values)


def market(**fields: Any) -> OrderRequest:
    return order(type=OrderType.MARKET, **fields)


def with_reference(kit_: Kit, **fields: Any) -> None:
    """Replace the instrument's fields (reference price, flags)."""
    kit_.ctx.add_instrument(replace(kit_.ctx.instruments[SYMBOL], **fields))


def agreed_answer(risk: Kit, candidate: OrderRequest) -> Denial | None:
    """The checks' answer, one by one, after asserting the engine and its screen agree.

    The engine must give exactly that answer; the screen may pass the order only if the
    checks do, and must pass it whenever they do unless it leaves the case to them on
    purpose (see ``screenable``).
    """
    limits = risk.ctx.limits
    explained = RiskEngine(risk.clock, checks=ONE_BY_ONE).check(risk.ctx, candidate)
    assert risk.engine.check(risk.ctx, candidate) == explained
    try:
        screened = passes_every_check(risk.ctx, limits, candidate, risk.clock.now_ns())
    except Exception:  # noqa: BLE001 - a screen that cannot judge leaves it to the checks
        screened = False
    if screened:
        assert explained is None, explained
    elif explained is None:
        assert not screenable(risk, candidate), "the screen missed an order the checks pass"
    return explained


def screenable(risk: Kit, candidate: OrderRequest) -> bool:
    """Whether the screen is meant to judge this order itself (see screen.py)."""
    ctx, account = risk.ctx, risk.account
    replaced = account.open_orders.get(candidate.modifies or "")
    stamps = [account.recent_order_ns, account.recent_symbol_ns.get(candidate.symbol, ())]
    return (
        account.status is AccountStatus.ACTIVE
        and ctx.global_state is TradingState.ACTIVE
        and ctx.symbol_states.get(candidate.symbol, TradingState.ACTIVE) is TradingState.ACTIVE
        and ctx.account_states.get(ACCOUNT, TradingState.ACTIVE) is TradingState.ACTIVE
        and (
            candidate.modifies is None
            or (
                replaced is not None
                and (replaced.symbol, replaced.side) == (candidate.symbol, candidate.side)
            )
        )
        and all(list(times) == sorted(times) for times in stamps)
    )
