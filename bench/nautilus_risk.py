"""NautilusTrader's RiskEngine on its submit-order path, the reference for bench_risk.py.

Set up the way NautilusTrader's own risk-engine tests do: a ``Cache`` without a database,
a ``MessageBus``, a ``Portfolio`` and a ``RiskEngine`` on one ``LiveClock``. Loaded:
5,000 equities on XNAS, each with a max notional per order (so that check runs), and as
many cash accounts as we load, one per venue because NautilusTrader keys an account by
its venue; every order uses the XNAS cash account, so the free-balance checks run (a
margin account would skip them). The max submit rate equals the order count, so the
throttler passes every order instead of dropping it.

Downstream, ``ExecEngine.execute`` is a stub that only counts the commands it receives
and ``ExecEngine.process`` one that keeps denials: no execution engine, client or venue
is timed, and the run fails unless every order reached the stub.

Timed per order: ``RiskEngine.execute(SubmitOrder)`` - command dispatch, instrument
lookup, price and quantity precision and min/max checks, max notional per order,
instrument min/max notional, balance impact against the free balance and the cumulative
notional, the trading-state gate, the submit-rate throttler and the message-bus send to
the stub. Orders and commands are built before timing starts.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

from nautilus_trader.accounting.factory import AccountFactory
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.enums import AccountType, OrderSide, TimeInForce
from nautilus_trader.model.events import AccountState, OrderDenied
from nautilus_trader.model.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    Symbol,
    TraderId,
    Venue,
)
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import AccountBalance, Money, Price, Quantity
from nautilus_trader.model.orders import LimitOrder
from nautilus_trader.portfolio.portfolio import Portfolio
from nautilus_trader.risk.config import RiskEngineConfig
from nautilus_trader.risk.engine import RiskEngine

VENUE = "XNAS"
TRADER = TraderId("BENCH-001")
STRATEGY = StrategyId("BENCH-001")
MAX_NOTIONAL_USD = 1_000_000
BALANCE_USD = 1_000_000_000
REFERENCE_CENTS = 5_000  # $50.00, the same reference price as our side


class _ExecutionStub:
    """Stands in for the execution engine: counts commands, keeps denial events."""

    def __init__(self) -> None:
        self.commands = 0
        self.denials: list[OrderDenied] = []

    def execute(self, _command: SubmitOrder) -> None:
        self.commands += 1

    def process(self, event: object) -> None:
        if isinstance(event, OrderDenied):
            self.denials.append(event)


def _symbol(index: int) -> str:
    return f"S{index:04d}"


def _equity(index: int) -> Equity:
    symbol = Symbol(_symbol(index))
    return Equity(
        instrument_id=InstrumentId(symbol, Venue(VENUE)),
        raw_symbol=symbol,
        currency=USD,
        price_precision=2,
        price_increment=Price.from_str("0.01"),
        lot_size=Quantity.from_int(1),
        ts_event=0,
        ts_init=0,
        max_quantity=Quantity.from_int(1_000_000),
        min_quantity=Quantity.from_int(1),
    )


def _cash_account_state(venue: str) -> AccountState:
    balance = Money(BALANCE_USD, USD)
    return AccountState(
        account_id=AccountId(f"{venue}-001"),
        account_type=AccountType.CASH,
        base_currency=USD,
        reported=True,
        balances=[AccountBalance(balance, Money(0, USD), balance)],
        margins=[],
        info={},
        event_id=UUID4(),
        ts_event=0,
        ts_init=0,
    )


def _engine(
    clock: LiveClock, orders: int, instruments: int, accounts: int
) -> tuple[RiskEngine, _ExecutionStub]:
    msgbus = MessageBus(trader_id=TRADER, clock=clock)
    cache = Cache(database=None)
    portfolio = Portfolio(msgbus=msgbus, cache=cache, clock=clock)
    for index in range(instruments):
        cache.add_instrument(_equity(index))
    cache.add_account(AccountFactory.create(_cash_account_state(VENUE)))
    for index in range(accounts - 1):
        cache.add_account(AccountFactory.create(_cash_account_state(f"V{index:05d}")))
    config = RiskEngineConfig(
        max_order_submit_rate=f"{orders}/00:00:01",
        max_notional_per_order={
            f"{_symbol(index)}.{VENUE}": MAX_NOTIONAL_USD for index in range(instruments)
        },
    )
    engine = RiskEngine(portfolio=portfolio, msgbus=msgbus, cache=cache, clock=clock, config=config)
    stub = _ExecutionStub()
    msgbus.register(endpoint="ExecEngine.execute", handler=stub.execute)
    msgbus.register(endpoint="ExecEngine.process", handler=stub.process)
    return engine, stub


def _commands(clock: LiveClock, orders: int, instruments: int, seed: int) -> list[SubmitOrder]:
    rng = random.Random(seed)  # noqa: S311 - a seeded order mix, not a secret
    commands = []
    for index in range(orders):
        order = LimitOrder(
            trader_id=TRADER,
            strategy_id=STRATEGY,
            instrument_id=InstrumentId(Symbol(_symbol(rng.randrange(instruments))), Venue(VENUE)),
            client_order_id=ClientOrderId(f"O-{index}"),
            order_side=OrderSide.SELL if rng.random() < 0.3 else OrderSide.BUY,
            quantity=Quantity.from_int(rng.randrange(1, 500)),
            price=Price(Decimal(REFERENCE_CENTS + rng.randrange(-100, 100)) / 100, 2),
            init_id=UUID4(),
            ts_init=clock.timestamp_ns(),
            time_in_force=TimeInForce.DAY,
        )
        commands.append(
            SubmitOrder(
                trader_id=TRADER,
                strategy_id=STRATEGY,
                order=order,
                command_id=UUID4(),
                ts_init=clock.timestamp_ns(),
            )
        )
    return commands


def submit_order_nanoseconds(
    *, orders: int, instruments: int, accounts: int, seed: int
) -> list[int]:
    """Time ``RiskEngine.execute(SubmitOrder)`` for each of ``orders`` passing limit orders."""
    clock = LiveClock()
    engine, stub = _engine(clock, orders, instruments, accounts)
    commands = _commands(clock, orders, instruments, seed)
    execute = engine.execute
    samples = []
    for command in commands:
        started = time.perf_counter_ns()
        execute(command)
        samples.append(time.perf_counter_ns() - started)
    assert not stub.denials, stub.denials[:3]
    assert stub.commands == orders, (stub.commands, orders)
    return samples
