"""The simulator's quotes and the replay file's events."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

from tradeguard.core.clock import FixedClock
from tradeguard.market.consolidation import QuoteBook, QuoteRules
from tradeguard.market.events import DropReason, LastSale, Quote, VenueHalt
from tradeguard.market.replay import ReplayFile, parse_event
from tradeguard.market.simulator import QuoteSimulator, SimulatedSymbol

SYMBOLS = [SimulatedSymbol("ACME", 100, 1_000_000), SimulatedSymbol("PENNY", 1, 5_000)]


def simulator(clock: FixedClock, seed: int = 7) -> QuoteSimulator:
    made = QuoteSimulator(lambda: SYMBOLS, clock, rate=1000, spread_bps=4, seed=seed)
    made.refresh()
    return made


def test_simulated_quotes_are_on_the_tick_grid_with_a_spread_and_never_cross(
    clock: FixedClock,
) -> None:
    book = QuoteBook({"ACME", "PENNY"}, QuoteRules())
    ticks = {spec.symbol: spec.tick for spec in SYMBOLS}
    for quote in simulator(clock).quotes(5000):
        tick = ticks[quote.symbol]
        assert quote.bid % tick == 0
        assert quote.ask % tick == 0
        assert quote.ask - quote.bid >= 2 * tick
        assert book.accept_quote(quote, clock.now_ns())
        nbbo = book.nbbo(quote.symbol, clock.now_ns())
        assert nbbo is not None
        assert not nbbo.crossed
    assert book.dropped() == 0


def test_the_walk_moves_prices_and_a_seed_repeats_it(clock: FixedClock) -> None:
    first = simulator(clock).quotes(3000)
    assert first == simulator(clock).quotes(3000)
    acme = {quote.bid for quote in first if quote.symbol == "ACME"}
    assert len(acme) > 10


def test_the_simulator_sends_its_rate_in_batches_until_stopped(clock: FixedClock) -> None:
    stop = threading.Event()
    batches = QuoteSimulator(lambda: SYMBOLS, clock, rate=1000, spread_bps=4).batches(stop)
    first = next(batches)
    assert 50 <= len(first) <= 52  # 1000 a second in 50 ms batches, whole steps of 3 venues
    stop.set()
    assert list(batches) == []


def test_replay_parses_quotes_sales_and_halts(clock: FixedClock) -> None:
    now = clock.now_ns()
    line = json.dumps(
        {
            "type": "quote",
            "venue": "XNAS",
            "symbol": "ACME",
            "bid": "100.00",
            "bid_size": 100,
            "ask": "100.02",
            "ask_size": 300,
            "sequence": 1,
        }
    )
    assert parse_event(line, now) == Quote("XNAS", "ACME", 1_000_000, 100, 1_000_200, 300, 1, now)
    sale = '{"type":"sale","venue":"XNAS","symbol":"ACME","price":"100.01","size":5,"sequence":2}'
    assert parse_event(sale, now) == LastSale("XNAS", "ACME", 1_000_100, 5, 2, now)
    halt = (
        '{"type":"halt","venue":"XNAS","symbol":"ACME","halted":true,"reason":"news","sequence":3}'
    )
    assert parse_event(halt, now) == VenueHalt("XNAS", "ACME", True, "news", 3, now)  # noqa: FBT003


def test_replay_counts_malformed_lines_and_plays_the_rest(
    clock: FixedClock, tmp_path: Path
) -> None:
    good = '{"type":"sale","venue":"X","symbol":"ACME","price":"1.00","size":1,"sequence":1}'
    bad = [
        "not json",
        "[1, 2]",
        '{"type":"trade"}',
        '{"type":"sale","venue":"X","symbol":"ACME","price":1.0,"size":1,"sequence":2}',
        '{"type":"sale","venue":"X","symbol":"ACME","price":"1.00001","size":1,"sequence":2}',
        '{"type":"sale","venue":"X","symbol":"ACME","price":"1.00","size":true,"sequence":2}',
        '{"type":"halt","venue":"X","symbol":"ACME","halted":"yes","reason":"r","sequence":2}',
        '{"type":"sale","venue":"","symbol":"ACME","price":"1.00","size":1,"sequence":2}',
    ]
    path = tmp_path / "day.jsonl"
    path.write_text("\n".join([good, *bad, "", good]) + "\n", encoding="utf-8")
    drops: Counter[DropReason] = Counter()
    batches = list(ReplayFile(path, clock, drops).batches(threading.Event()))
    assert [len(batch) for batch in batches] == [2]
    assert drops == {DropReason.MALFORMED: len(bad)}


def test_the_simulator_takes_in_symbols_listed_after_it_started(clock: FixedClock) -> None:
    listed: list[SimulatedSymbol] = []
    made = QuoteSimulator(lambda: listed, clock, rate=1000, spread_bps=4, seed=1)
    assert made.refresh() == 0
    assert made.quotes(10) == []
    listed.append(SYMBOLS[0])
    assert made.refresh() == 1
    assert made.refresh() == 0
    assert {quote.symbol for quote in made.quotes(10)} == {"ACME"}
