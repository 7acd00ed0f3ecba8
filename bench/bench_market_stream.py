"""Market data from a provider's stream (Alpaca market data v2): wire frames to reference prices.

The sample universe is loaded into a real application's desk; the simulator (fixed seed)
makes 200,000 quotes, written as the provider's JSON frames of 100 quote messages each
(prices as JSON numbers, RFC 3339 times to the nanosecond). Timed: ``AlpacaDecoder``
turning each frame into events and ``MarketFeed.process`` taking each frame's events
into the book and the desk's reference prices (volatility bands on, as by default).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter

import orjson

from apps import scratch_app
from bench_market import QUOTES, ROUNDS, _feed, _quotes
from measure import Measurement
from tradeguard.audit.records import Actor
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.money import Price
from tradeguard.db.session import transaction
from tradeguard.market.alpaca import AlpacaDecoder
from tradeguard.market.events import MarketEvent, Quote
from tradeguard.registry import Registry
from tradeguard.trading.reference_data import load_sample_if_empty

PER_FRAME = 1000


def _message(quote: Quote) -> str:
    return (
        f'{{"T":"q","S":"{quote.symbol}","bx":"V","bp":{Price(quote.bid).to_decimal()},'
        f'"bs":{quote.bid_size},"ax":"Q","ap":{Price(quote.ask).to_decimal()},'
        f'"as":{quote.ask_size},"t":"{ns_to_rfc3339(quote.at_ns)}","c":["R"],"z":"C"}}'
    )


def _frames(quotes: list[MarketEvent]) -> list[str]:
    messages = [_message(quote) for quote in quotes if isinstance(quote, Quote)]
    frames = [
        "[" + ",".join(messages[start : start + PER_FRAME]) + "]"
        for start in range(0, len(messages), PER_FRAME)
    ]
    json.loads(frames[0])  # well formed
    return frames


def _rate(registry: Registry, frames: list[str]) -> tuple[float, float]:
    """Quotes/s of wall time and of the thread's CPU time (what a loaded machine leaves)."""
    rates, cpu_rates = [], []
    for _ in range(ROUNDS):
        feed = _feed(registry, bands=True)
        decoder = AlpacaDecoder("ALPACA", Counter())
        started, cpu = time.perf_counter_ns(), time.thread_time_ns()
        for frame in frames:
            feed.process(decoder.decode(frame))
        cpu_rates.append(QUOTES / ((time.thread_time_ns() - cpu) / 1e9))
        rates.append(QUOTES / ((time.perf_counter_ns() - started) / 1e9))
        assert not decoder.drops, decoder.drops
        assert not feed.book.drops, feed.book.drops
    return statistics.median(rates), statistics.median(cpu_rates)


def _decode_rate(frames: list[str]) -> tuple[float, float]:
    """Quotes/s of the decoder alone, and of parsing the JSON alone (orjson)."""
    decoding, parsing = [], []
    for _ in range(ROUNDS):
        decoder = AlpacaDecoder("ALPACA", Counter())
        started = time.perf_counter_ns()
        for frame in frames:
            decoder.decode(frame)
        decoding.append(QUOTES / ((time.perf_counter_ns() - started) / 1e9))
        started = time.perf_counter_ns()
        for frame in frames:
            orjson.loads(frame)
        parsing.append(QUOTES / ((time.perf_counter_ns() - started) / 1e9))
    return statistics.median(decoding), statistics.median(parsing)


def run() -> list[Measurement]:
    with scratch_app(market_data="off") as app:
        registry: Registry = app.state.registry
        services = registry.services
        with transaction(services.sessions) as db:
            load_sample_if_empty(db, services.audit, services.clock, Actor.system("bench"))
        registry.trading_desk.start()
        frames = _frames(_quotes(registry, services.clock))
        rate, cpu_rate = _rate(registry, frames)
        decoded, parsed = _decode_rate(frames)
    return [
        Measurement(
            f"market stream: provider quotes/s into the reference prices ({PER_FRAME} a frame)",
            rate,
            "quotes/s",
            target=100_000,
            lower_is_better=False,
        ),
        Measurement(
            "market stream: the same per second of the thread's CPU time",
            cpu_rate,
            "quotes/s",
            target=100_000,
            lower_is_better=False,
        ),
        Measurement("market stream: the decoder alone", decoded, "quotes/s", lower_is_better=False),
        Measurement("market stream: JSON parsing alone", parsed, "quotes/s", lower_is_better=False),
    ]
