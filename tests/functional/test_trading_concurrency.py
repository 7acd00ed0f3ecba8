"""Concurrent order entry against the real HTTPS server never overspends an account.

The server runs as users run it (``tradeguard init`` + ``tradeguard serve``), on SQLite
and on PostgreSQL; accounts are opened with ``tradeguard accounts open``. Orders go out
from 16 threads at once in bursts. The desk's own limits of 20 orders a second per
account and 5 per account and symbol (and the 2-second duplicate window) are real here,
so a burst holds at most 16 orders, at most 4 per symbol, with distinct terms, and the
next burst leaves a second after the last answer: every refusal left is about money.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from live_trading import UNTHROTTLED_ORDER_ENTRY, postgres_database, reserved_by, tradable

from live_api import Api, Person
from support import TRADEGUARD, LiveServer, running_server
from tradeguard.core.money import Money, Price

pytestmark = pytest.mark.live_server

THREADS = 16
BURST_PER_SYMBOL = 4
"""Below the desk's 5 orders a second per account and symbol."""
BURST_PAUSE_SECONDS = 1.1
"""Longer than the desk's one-second order-rate window."""
CASH = Money.parse("10000.00")
OVERSUBSCRIBED = 5


@dataclass(frozen=True)
class Trader:
    """A person signed up over HTTPS, with an access token and an opened account."""

    person: Person
    token: str


@dataclass(frozen=True)
class Ask:
    """One order to send: who, and its terms."""

    trader: Trader
    symbol: str
    side: str
    quantity: int
    price: Price

    @property
    def cost_cents(self) -> int:
        """What the order reserves (prices are whole cents here, so exactly)."""
        return self.price.units * self.quantity // 100

    def body(self, client_order_id: str | None = None) -> dict[str, Any]:
        """The JSON of ``POST /v1/orders``."""
        return {
            "client_order_id": client_order_id or f"cc-{uuid.uuid4().hex[:20]}",
            "symbol": self.symbol,
            "side": self.side,
            "type": "limit",
            "quantity": self.quantity,
            "limit_price": str(self.price),
        }


@dataclass(frozen=True)
class Answer:
    """What the server answered to one ask."""

    ask: Ask
    status: int
    body: Any

    @property
    def reason(self) -> str | None:
        """The problem's reason code, if a problem."""
        return self.body.get("reason_code") if isinstance(self.body, dict) else None


@dataclass(frozen=True)
class TradingServer:
    """The live server, where it runs, and the instruments to trade."""

    server: LiveServer
    workdir: Path
    symbols: dict[str, Price]

    @property
    def api(self) -> Api:
        """The JSON API over TLS."""
        return Api(self.server)

    def tradeguard(self, *args: str) -> str:
        """Run a ``tradeguard`` command on the server's installation; its standard output."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEGUARD_")}
        env["TRADEGUARD_VAR_DIR"] = str(self.workdir / "var")
        done = subprocess.run(
            [TRADEGUARD, *args], cwd=self.workdir, env=env, capture_output=True, check=False
        )
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode()

    def trader(self, kind: str, deposit: Money) -> Trader:
        """Sign up over HTTPS, then open the account with ``tradeguard accounts open``."""
        person = Person()
        tokens = self.api.sign_up_with_totp(person)
        self.tradeguard("accounts", "open", person.email, "--kind", kind, "--deposit", str(deposit))
        return Trader(person, tokens["access_token"])

    def get(self, trader: Trader, path: str) -> Any:
        """A read that must succeed."""
        return self.api.expect("GET", path, token=trader.token)

    def send(self, ask: Ask, client_order_id: str | None = None) -> Answer:
        """Place one order."""
        status, body = self.api.call(
            "POST", "/v1/orders", ask.body(client_order_id), ask.trader.token
        )
        return Answer(ask, status, body)

    def fire(self, asks: Sequence[Ask]) -> list[Answer]:
        """Send every ask, a burst of up to 16 at a time from 16 threads."""
        answers: list[Answer] = []
        with ThreadPoolExecutor(THREADS) as pool:
            for burst in bursts(asks):
                answers.extend(pool.map(self.send, burst))
                time.sleep(BURST_PAUSE_SECONDS)
        return answers


def bursts(asks: Sequence[Ask]) -> Iterator[list[Ask]]:
    """The asks in bursts the desk's order-rate limits let through whole."""
    pending = list(asks)
    while pending:
        burst: list[Ask] = []
        per_symbol: Counter[tuple[str, str]] = Counter()
        for ask in list(pending):
            key = (ask.trader.token, ask.symbol)
            if len(burst) < THREADS and per_symbol[key] < BURST_PER_SYMBOL:
                burst.append(ask)
                per_symbol[key] += 1
                pending.remove(ask)
        yield burst


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def trading(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TradingServer]:
    """The live server on each database backend, with the sample universe loaded.

    Without the market simulator: prices stay at the reference data's, so a buy is refused
    only for buying power, never because a moving price left it outside the collar.
    """
    workdir = tmp_path_factory.mktemp(f"concurrency-{request.param}")
    settings = dict(UNTHROTTLED_ORDER_ENTRY) | {"MARKET_DATA": "off"}
    with ExitStack() as stack:
        if request.param == "postgresql":
            settings["DATABASE_URL"] = stack.enter_context(postgres_database())
        lines = [f"TRADEGUARD_{name}={value}" for name, value in settings.items()]
        (workdir / ".env").write_text("\n".join(lines) + "\n")
        server = stack.enter_context(running_server(workdir))
        bare = TradingServer(server, workdir, {})
        listing = json.loads(bare.tradeguard("instruments", "list", "--json"))
        symbols = tradable(listing)
        assert len(symbols) >= THREADS // BURST_PER_SYMBOL, listing
        yield TradingServer(server, workdir, symbols)


def buys(trading: TradingServer, buyer: Trader, count: int, *, below: int = 0) -> list[Ask]:
    """``count`` buys of about $250 each over the symbols, ``below`` cents under reference.

    Order ``i`` buys one share more than order ``i - len(symbols)``, so no two share terms
    (the desk refuses the same terms twice within 2 seconds as a duplicate).
    """
    target = CASH.cents * OVERSUBSCRIBED // count
    symbols = sorted(trading.symbols.items())
    asks = []
    for index in range(count):
        symbol, reference = symbols[index % len(symbols)]
        price = Price(reference.units - below * 100)
        quantity = math.ceil(target * 100 / price.units) + index // len(symbols)
        asks.append(Ask(buyer, symbol, "buy", quantity, price))
    return asks


def interleaved(first: list[Ask], second: list[Ask]) -> list[Ask]:
    """One of each in turn, then the rest of the longer list."""
    mixed = [ask for pair in zip(first, second, strict=False) for ask in pair]
    shorter = min(len(first), len(second))
    return mixed + first[shorter:] + second[shorter:]


def open_orders(trading: TradingServer, trader: Trader) -> list[dict[str, Any]]:
    """The trader's open orders."""
    found: list[dict[str, Any]] = trading.get(trader, "/v1/orders?state=open&limit=500")
    return found


def assert_only_buying_power_refused(answers: list[Answer]) -> list[Answer]:
    """Every answer is an accepted order or a buying-power denial; returns the accepted."""
    outcomes = Counter((answer.status, answer.reason) for answer in answers)
    assert set(outcomes) <= {(201, None), (422, "RISK_BUYING_POWER")}, outcomes
    return [answer for answer in answers if answer.status == 201]


def test_concurrent_buys_when_5x_the_cash_then_never_more_reserved_than_the_cash(
    trading: TradingServer,
) -> None:
    buyer = trading.trader("cash", CASH)
    asks = buys(trading, buyer, 200)
    assert sum(ask.cost_cents for ask in asks) >= OVERSUBSCRIBED * CASH.cents

    answers = trading.fire(asks)

    taken = assert_only_buying_power_refused(answers)
    taken_cents = sum(answer.ask.cost_cents for answer in taken)
    assert taken_cents <= CASH.cents
    # Refusals began only once what was left could not pay for an order.
    assert CASH.cents - taken_cents < max(ask.cost_cents for ask in asks)
    account = trading.get(buyer, "/v1/account")
    assert (account["settled_cash"], account["reserved_cash"]) == (
        str(CASH),
        str(Money(taken_cents)),
    )
    held = open_orders(trading, buyer)
    assert sorted(order["id"] for order in held) == sorted(a.body["id"] for a in taken)
    assert reserved_by(held) == taken_cents


def test_concurrent_buys_and_crossing_sells_then_cash_never_below_zero(
    trading: TradingServer,
) -> None:
    buyer = trading.trader("cash", CASH)
    seller = trading.trader("margin", Money.parse("1000000.00"))
    first = assert_only_buying_power_refused(trading.fire(buys(trading, buyer, 100)))
    sells = [
        Ask(seller, answer.ask.symbol, "sell_short", answer.ask.quantity, answer.ask.price)
        for answer in first
    ]
    more = buys(trading, buyer, 100, below=1)  # other terms than the first round's
    mixed = interleaved(sells, more)

    answers = trading.fire(mixed)

    by_seller = [answer for answer in answers if answer.ask.trader is seller]
    assert {answer.status for answer in by_seller} == {201}, [a.body for a in by_seller]
    assert_only_buying_power_refused([a for a in answers if a.ask.trader is buyer])
    account = trading.get(buyer, "/v1/account")
    cash, reserved = Money.parse(account["settled_cash"]), Money.parse(account["reserved_cash"])
    assert 0 <= reserved.cents <= cash.cents
    assert reserved.cents == reserved_by(open_orders(trading, buyer))
    positions = trading.get(buyer, "/v1/positions")
    bought = sum(Money.parse(position["cost"]).cents for position in positions)
    assert bought > 0  # the sells crossed
    assert cash.cents + bought == CASH.cents
    assert Money.parse(account["equity"]) == CASH


def test_concurrent_retries_of_one_client_order_id_then_exactly_one_order(
    trading: TradingServer,
) -> None:
    buyer = trading.trader("cash", CASH)
    symbol, price = next(iter(sorted(trading.symbols.items())))
    ask = Ask(buyer, symbol, "buy", 1, price)
    start = threading.Barrier(THREADS)

    def retry(_: int) -> Answer:
        start.wait()
        return trading.send(ask, client_order_id="retried-once")

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(retry, range(THREADS)))

    assert sorted(answer.status for answer in answers) == [200] * (THREADS - 1) + [201]
    assert len({answer.body["id"] for answer in answers}) == 1
    orders = trading.get(buyer, "/v1/orders?state=all")
    assert [order["client_order_id"] for order in orders] == ["retried-once"]
    assert trading.get(buyer, "/v1/account")["reserved_cash"] == str(Money(ask.cost_cents))
