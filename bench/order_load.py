"""Order flow over keep-alive HTTPS connections, and what it measured.

Each client thread owns one connection and a share of the traders, and sends their orders
in turn, one at a time: as fast as they are answered (a closed loop: a new order leaves when
the last answer is in), or at a fixed rate (an open loop: each order has its time to leave,
and its latency counts from that time, so an order held up behind a slow answer counts the
wait too).
Per trader, orders go round the symbols; nine in ten are limit DAY orders that rest (buys
below the reference price, short sales above it, a cent to 40 cents away, sizes 1 to 9
shares), every tenth is a limit IOC priced 20 cents through the reference, which trades
with what rests (executions, positions, the reference price moving) and cancels its rest.
Trades happen 1 to 20 cents from the reference the load starts from, so the reference
stays within 20 cents of it and every IOC within the 5% volatility band around the
reference (50 cents through, an IOC fell outside it once trades had moved the reference).
A client order id never holds a run of 13 digits, which the API would refuse as a card
number. Traders start their counts at different places in the mix (``staggered``), so the
crossing orders are spread over time as in real flow: with every trader at the same place,
all of them sent their IOC in the same round, and for most of a second every order in
flight was a crossing one.
No two orders of a trader repeat side, symbol, size and price within the duplicate window,
and no trader comes near its orders-per-second limits while the server stays below
``20 x traders`` orders per second.
"""

from __future__ import annotations

import http.client
import itertools
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from live_server import Workspace
from tradeguard.core.money import Price

CENT = 100  # price units in one cent
CROSS_EVERY = 10
CROSS_CENTS = 20
LEVELS = 40
SIZES = 9


@dataclass
class Trader:
    """Who sends the orders: a bearer token, the account and the trader's order counter."""

    token: str
    account_id: str
    symbols: tuple[str, ...]
    reference: Price
    sent: itertools.count[int] = field(default_factory=itertools.count)

    def staggered(self, index: int) -> Trader:
        """The ``index``-th trader: its first order at place ``index`` in the mix's cycle."""
        return replace(self, sent=itertools.count(index % CROSS_EVERY))

    @property
    def headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.token}",
            "X-Account-Id": self.account_id,  # the bare endpoint's account; TradeGuard ignores it
        }

    def next_order(self) -> bytes:
        """The body of this trader's next order."""
        number = next(self.sent)
        symbol = self.symbols[number % len(self.symbols)]
        in_symbol = number // len(self.symbols)
        buy = in_symbol % 2 == 0
        if number % CROSS_EVERY == CROSS_EVERY - 1:
            cents, quantity, tif = -CROSS_CENTS, 1 + in_symbol % SIZES, "ioc"
        else:
            step = in_symbol // 2
            cents, quantity, tif = 1 + step % LEVELS, 1 + step % SIZES, "day"
        price = Price(self.reference.units + (-cents if buy else cents) * CENT)
        body = {
            "client_order_id": f"{self.account_id[-12:]}-o{number}",
            "symbol": symbol,
            "side": "buy" if buy else "sell_short",
            "type": "limit",
            "quantity": quantity,
            "limit_price": str(price),
            "time_in_force": tif,
        }
        return json.dumps(body).encode()


@dataclass(frozen=True)
class LoadResult:
    """Orders answered within the measured window and their latencies."""

    seconds: float
    latencies_ms: list[float]
    failures: Counter[int]
    failure_sample: str | None
    server_cpu_seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds

    @property
    def cpu_ms_per_order(self) -> float:
        """Server process CPU time per answered order (the database server's not included)."""
        return self.server_cpu_seconds * 1000 / len(self.latencies_ms)

    def percentile(self, cut: int) -> float:
        return statistics.quantiles(self.latencies_ms, n=100)[cut - 1]


@dataclass
class _Window:
    """When answers start counting and when the clients stop sending."""

    start: float
    end: float
    latencies_ms: list[float] = field(default_factory=list)
    failures: Counter[int] = field(default_factory=Counter)
    failure_sample: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, started: float, done: float, status: int, body: bytes) -> None:
        if done < self.start or done > self.end:
            return
        with self.lock:
            if status in {http.client.CREATED, http.client.OK}:
                self.latencies_ms.append((done - started) * 1000)
            else:
                self.failures[status] += 1
                if not self.failure_sample:
                    self.failure_sample.append(f"{status} {body[:300]!r}")


@dataclass(frozen=True)
class LoadPlan:
    """How many connections send orders, and for how long."""

    connections: int
    warmup_seconds: float
    seconds: float
    rate: float | None = None
    """Orders per second from all connections together; ``None`` sends as fast as answered."""

    def at_rate(self, rate: float) -> LoadPlan:
        """The same plan with its orders sent at ``rate`` per second."""
        return replace(self, rate=rate)

    def departures(self, connection: int, start: float) -> Iterator[float]:
        """When each order of ``connection`` is due to leave (never, in a closed loop)."""
        if self.rate is None:
            return itertools.repeat(0.0)
        interval = self.connections / self.rate
        first = start + interval * connection / self.connections
        return (first + interval * number for number in itertools.count())


def run_load(
    workspace: Workspace,
    traders: list[Trader],
    plan: LoadPlan,
    cpu_seconds: Callable[[], float],
) -> LoadResult:
    """Send orders as ``plan`` says; measure after the warm-up.

    ``cpu_seconds`` reads the server's CPU time; it is read as the window opens and closes.
    """
    now = time.perf_counter()
    window = _Window(now + plan.warmup_seconds, now + plan.warmup_seconds + plan.seconds)
    threads = [
        threading.Thread(
            target=_client,
            args=(workspace, traders[i :: plan.connections], window, plan.departures(i, now)),
        )
        for i in range(plan.connections)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, window.start - time.perf_counter()))
    cpu_before = cpu_seconds()
    time.sleep(max(0.0, window.end - time.perf_counter()))
    cpu_used = cpu_seconds() - cpu_before
    for thread in threads:
        thread.join()
    sample = window.failure_sample[0] if window.failure_sample else None
    return LoadResult(plan.seconds, window.latencies_ms, window.failures, sample, cpu_used)


def _client(
    workspace: Workspace, traders: list[Trader], window: _Window, departures: Iterator[float]
) -> None:
    connection = workspace.connection()
    clock = time.perf_counter
    for trader, due in zip(itertools.cycle(traders), departures, strict=False):
        time.sleep(max(0.0, due - clock()))
        started = due or clock()  # an open loop counts from when the order was due
        if started >= window.end:
            break
        try:
            connection.request("POST", "/v1/orders", trader.next_order(), trader.headers)
            response = connection.getresponse()
            status, body = response.status, response.read()
        except (http.client.HTTPException, OSError) as error:
            connection.close()
            connection = workspace.connection()
            status, body = 0, repr(error).encode()
        window.note(started, clock(), status, body)
    connection.close()
