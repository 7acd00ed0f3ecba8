"""Replays recorded market data from a file of JSON lines into a feed.

One event per line, prices as decimal strings::

    {"type": "quote", "venue": "XNAS", "symbol": "AAPL", "bid": "189.50", "bid_size": 100,
     "ask": "189.52", "ask_size": 200, "sequence": 1}
    {"type": "sale", "venue": "XNAS", "symbol": "AAPL", "price": "189.51", "size": 100,
     "sequence": 2}
    {"type": "halt", "venue": "XNAS", "symbol": "AAPL", "halted": true, "reason": "news",
     "sequence": 3}

Events are stamped with the clock as they are replayed. A line that is not a valid event
is counted as ``malformed`` and skipped; the rest of the file still plays.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tradeguard.core.clock import Clock
from tradeguard.core.money import Price
from tradeguard.market.events import DropReason, LastSale, MarketEvent, Quote, VenueHalt

BATCH_EVENTS = 500
MAX_LINE_CHARS = 4096
MAX_NAME_CHARS = 64


class MalformedEventError(ValueError):
    """A line of the file that is not a valid event."""


class ReplayFile:
    """A recorded file played as fast as the feed takes it, or at ``rate`` events a second."""

    def __init__(
        self, path: Path, clock: Clock, drops: Counter[DropReason], *, rate: int = 0
    ) -> None:
        self.path = path
        self.clock = clock
        self.drops = drops
        self.rate = rate

    def batches(self, stop: threading.Event) -> Iterator[list[MarketEvent]]:
        """The file's events in batches, until its end or until ``stop`` is set."""
        batch: list[MarketEvent] = []
        with self.path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if stop.is_set():
                    return
                self._take(line, batch)
                if len(batch) >= BATCH_EVENTS:
                    yield batch
                    batch = []
                    self._pace(stop)
        if batch:
            yield batch

    def _take(self, line: str, batch: list[MarketEvent]) -> None:
        if not line.strip():
            return
        try:
            batch.append(parse_event(line, self.clock.now_ns()))
        except ValueError:
            self.drops[DropReason.MALFORMED] += 1

    def _pace(self, stop: threading.Event) -> None:
        if self.rate > 0:
            stop.wait(BATCH_EVENTS / self.rate)


def parse_event(line: str, at_ns: int) -> MarketEvent:
    """One line as an event stamped ``at_ns``; ``ValueError`` says why it is not one."""
    if len(line) > MAX_LINE_CHARS:
        raise MalformedEventError(f"longer than {MAX_LINE_CHARS} characters")
    try:
        fields = json.loads(line)
    except json.JSONDecodeError as exc:
        raise MalformedEventError(f"not JSON: {exc}") from None
    if not isinstance(fields, dict):
        raise MalformedEventError("not a JSON object")
    kind = fields.get("type")
    if kind == "quote":
        return _quote(fields, at_ns)
    if kind == "sale":
        return _sale(fields, at_ns)
    if kind == "halt":
        return _halt(fields, at_ns)
    raise MalformedEventError(f"unknown type {kind!r}")


def _quote(fields: dict[str, Any], at_ns: int) -> Quote:
    return Quote(
        venue=_text(fields, "venue"),
        symbol=_text(fields, "symbol"),
        bid=_price(fields, "bid"),
        bid_size=_whole(fields, "bid_size"),
        ask=_price(fields, "ask"),
        ask_size=_whole(fields, "ask_size"),
        sequence=_whole(fields, "sequence"),
        at_ns=at_ns,
    )


def _sale(fields: dict[str, Any], at_ns: int) -> LastSale:
    return LastSale(
        venue=_text(fields, "venue"),
        symbol=_text(fields, "symbol"),
        price=_price(fields, "price"),
        size=_whole(fields, "size"),
        sequence=_whole(fields, "sequence"),
        at_ns=at_ns,
    )


def _halt(fields: dict[str, Any], at_ns: int) -> VenueHalt:
    halted = fields.get("halted")
    if not isinstance(halted, bool):
        raise MalformedEventError("halted must be true or false")
    return VenueHalt(
        venue=_text(fields, "venue"),
        symbol=_text(fields, "symbol"),
        halted=halted,
        reason=_text(fields, "reason"),
        sequence=_whole(fields, "sequence"),
        at_ns=at_ns,
    )


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= MAX_NAME_CHARS
        or not value.isprintable()
    ):
        raise MalformedEventError(f"{name} must be 1-{MAX_NAME_CHARS} printable characters")
    return value


def _whole(fields: dict[str, Any], name: str) -> int:
    value = fields.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedEventError(f"{name} must be a whole number")
    return value


def _price(fields: dict[str, Any], name: str) -> int:
    value = fields.get(name)
    if not isinstance(value, str):
        raise MalformedEventError(f"{name} must be a decimal string")
    try:
        return Price.parse(value).units
    except ValueError as exc:
        raise MalformedEventError(f"{name} is not a price: {exc}") from None
