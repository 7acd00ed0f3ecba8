"""The matching engine (issue: trading core): one book, a realistic mix of requests.

The stream, fixed by a seed, is 55% limit orders that rest away from the touch, 20%
limit orders priced through the touch (a third of them IOC), 5% market orders and 20%
cancels of recently rested orders (some already filled: those are refused, as they
would be in production). Orders come from 1,000 accounts, so self-trade prevention
fires now and then. Orders are built before timing: the caller builds them anyway.
Reported: requests per second through the book (median over rounds) and the time of one
submit, p50 and p99, over every submit of every round.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from measure import Measurement
from tradeguard.core.money import Price
from tradeguard.trading.matching.engine import (
    MatchingError,
    Order,
    OrderBook,
    OrderType,
    Side,
    TimeInForce,
)

SYMBOL = "BENCH"
REQUESTS = 100_000
ROUNDS = 5
MID = 1_000_000  # $100.00 in 1/10,000 dollar
TICK = 100  # one cent
SEED = 20261121

Request = Order | str  # an order to submit, or the id of an order to cancel


def _limit(rng: random.Random, order_id: str, *, crossing: bool) -> Order:
    side = rng.choice((Side.BUY, Side.SELL))
    ticks = rng.randint(0, 5) if crossing else rng.randint(1, 50)
    toward = 1 if (side is Side.BUY) == crossing else -1  # through the touch or away
    price = Price(MID + toward * ticks * TICK)
    tif = TimeInForce.IOC if crossing and rng.random() < 1 / 3 else TimeInForce.DAY
    account = f"acct-{rng.randrange(1000)}"
    quantity = rng.randint(1, 10) * 100
    return Order(order_id, SYMBOL, account, side, quantity, limit_price=price, time_in_force=tif)


def _market(rng: random.Random, order_id: str) -> Order:
    side = rng.choice((Side.BUY, Side.SELL))
    account = f"acct-{rng.randrange(1000)}"
    return Order(order_id, SYMBOL, account, side, rng.randint(1, 5) * 100, OrderType.MARKET)


def _requests() -> list[Request]:
    rng = random.Random(SEED)  # noqa: S311 - a reproducible load, not a secret
    stream: list[Request] = []
    rested: list[str] = []
    for number in range(REQUESTS):
        order_id = f"o{number}"
        roll = rng.random()
        if roll < 0.55:
            stream.append(_limit(rng, order_id, crossing=False))
            rested.append(order_id)
        elif roll < 0.75:
            stream.append(_limit(rng, order_id, crossing=True))
        elif roll < 0.80:
            stream.append(_market(rng, order_id))
        else:
            stream.append(rested[-rng.randint(1, min(200, len(rested)))] if rested else order_id)
    return stream


def _handle(book: OrderBook) -> Callable[[Request], object]:
    def handle(request: Request) -> object:
        if isinstance(request, Order):
            return book.submit(request)
        try:
            return book.cancel(request)
        except MatchingError as refused:
            return refused

    return handle


def _round(stream: list[Request], submit_ns: list[int]) -> float:
    """One pass over ``stream`` through a fresh book; returns requests per second."""
    handle = _handle(OrderBook(SYMBOL))
    clock = time.perf_counter_ns
    started = clock()
    for request in stream:
        before = clock()
        handle(request)
        if isinstance(request, Order):
            submit_ns.append(clock() - before)
    return len(stream) / ((clock() - started) / 1e9)


def _throughput(stream: list[Request]) -> float:
    """Requests per second without per-request timing, median over rounds."""
    rates = []
    for _ in range(ROUNDS):
        handle = _handle(OrderBook(SYMBOL))
        started = time.perf_counter_ns()
        for request in stream:
            handle(request)
        rates.append(len(stream) / ((time.perf_counter_ns() - started) / 1e9))
    return statistics.median(rates)


def run() -> list[Measurement]:
    stream = _requests()
    submit_ns: list[int] = []
    for _ in range(ROUNDS):
        _round(stream, submit_ns)
    cuts = statistics.quantiles(submit_ns, n=100)
    return [
        Measurement(
            "matching: requests/s through one book (submits and cancels)",
            _throughput(stream),
            "req/s",
            lower_is_better=False,
        ),
        Measurement("matching: one submit, p50", cuts[49] / 1000, "µs"),
        Measurement("matching: one submit, p99", cuts[98] / 1000, "µs"),
    ]
