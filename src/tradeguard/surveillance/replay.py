"""Replay a market day from files through the surveillance engine (docs/surveillance.md).

Input per /shared contract: ``DIR/accounts.csv``, optional ``DIR/links.csv`` and
``DIR/events.jsonl``; output one alert per line. A malformed line is reported with its
line number and skipped; unknown event types and unknown fields are ignored.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

import orjson

from tradeguard.cases.model import AlertDraft
from tradeguard.core.collector import collector_paused
from tradeguard.surveillance.accounts import LINK_KINDS, AccountDirectory
from tradeguard.surveillance.engine import Surveillance, UnknownOrderError
from tradeguard.surveillance.events import (
    BUY,
    SELL,
    TradeExecuted,
    price_units,
)
from tradeguard.surveillance.parameters import SurveillanceParameters

Problem = tuple[int, str]
"""A skipped line: its number and what is wrong with it."""


@dataclass(slots=True)
class ReplayResult:
    """What a replay saw and raised."""

    events: int = 0
    skipped: list[Problem] = field(default_factory=list)
    alerts: dict[str, AlertDraft] = field(default_factory=dict)

    def final_alerts(self) -> list[AlertDraft]:
        """One alert per episode, in order of their start."""
        return sorted(
            self.alerts.values(), key=lambda a: (a.start_ns, a.typology, a.subject.symbol or "")
        )


def load_directory(directory: Path) -> AccountDirectory:
    """Account kinds and owners from ``accounts.csv``, ties from ``links.csv`` if present."""
    accounts = AccountDirectory()
    with (directory / "accounts.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            accounts.add_account(row["account"], row["kind"].strip(), row["owner"])
    links = directory / "links.csv"
    if links.exists():
        with links.open(newline="", encoding="utf-8") as handle:
            accounts.add_links(
                (row["account_a"], row["account_b"])
                for row in csv.DictReader(handle)
                if row.get("kind", "").strip() in LINK_KINDS
            )
    return accounts


def replay(
    directory: Path,
    params: SurveillanceParameters,
    report: Callable[[Problem], None] | None = None,
) -> ReplayResult:
    """Run every event of ``directory`` through the engine; the episodes' final alerts."""
    engine = Surveillance(load_directory(directory), params)
    feeds = feeds_of(engine)
    result = ReplayResult()
    alerts = result.alerts
    with (directory / "events.jsonl").open("rb") as handle, collector_paused():
        for number, kind, arguments in parsed_lines(handle, result, report):
            try:
                drafts = feeds[kind](*arguments)
            except UnknownOrderError as error:
                _skip(result, report, (number, str(error)))
                continue
            result.events += 1
            for draft in drafts:
                alerts[draft.key("replay")] = draft
    return result


Feed = Callable[..., list[AlertDraft]]
"""One of the engine's entry points, called with a parsed line's arguments."""


def feeds_of(engine: Surveillance) -> dict[str, Feed]:
    """The engine's entry point for each event type."""
    return {
        "order": engine.place,
        "modify": engine.modify,
        "cancel": engine.cancel,
        "trade": engine.trade,
    }


def parsed_lines(
    lines: Iterable[bytes | str],
    result: ReplayResult,
    report: Callable[[Problem], None] | None,
) -> Iterator[tuple[int, str, tuple[Any, ...]]]:
    """Each event of ``lines``: its line number, type and the engine's arguments.

    A line is parsed straight into the arguments of the engine's entry point for its type
    (no event object in between); malformed lines are reported and skipped, lines of a
    type the detectors do not read are skipped silently.
    """
    for number, line in enumerate(lines, start=1):
        try:
            parsed = _parse(line)
        except (ValueError, KeyError, TypeError) as error:
            if line.strip():  # a blank line is no event, and no error
                _skip(result, report, (number, _reason(error)))
            continue
        if parsed is not None:
            yield number, parsed[0], parsed[1]


def _parse(line: bytes | str) -> tuple[str, tuple[Any, ...]] | None:
    document = orjson.loads(line)
    if type(document) is not dict:
        raise TypeError("a line is a JSON object")
    kind = document.get("type")
    if not isinstance(kind, str):
        return None
    parse = PARSERS.get(kind)
    return None if parse is None else (kind, parse(document))


SIDES = {"buy": BUY, "sell": SELL, "short": SELL, "sell_short": SELL}
ORDER_TYPES = frozenset({"limit", "market"})
TS_ERROR = "ts is a non-negative integer of nanoseconds"
QTY_ERROR = "qty is a positive integer"


def _order(d: dict[str, Any]) -> tuple[Any, ...]:
    price = _price(d.get("price"))
    order_type = d["order_type"]
    if order_type not in ORDER_TYPES or (order_type == "limit") != (price is not None):
        raise ValueError("a limit order has a price, a market order none")
    ts, qty = d["ts"], d["qty"]
    if type(ts) is not int or ts < 0:
        raise ValueError(TS_ERROR)
    order_id, account, symbol = d["order_id"], d["account"], d["symbol"]
    if not (type(order_id) is str and order_id and type(account) is str and account):
        order_id, account = _text(d, "order_id"), _text(d, "account")
    if not (type(symbol) is str and symbol):
        symbol = _text(d, "symbol")
    side = SIDES.get(d["side"]) if type(d["side"]) is str else None
    if side is None:
        raise ValueError(f"unknown side {d['side']!r}")
    if type(qty) is not int or qty <= 0:
        raise ValueError(QTY_ERROR)
    return ts, order_id, account, symbol, side, qty, price


def _modify(d: dict[str, Any]) -> tuple[Any, ...]:
    return _ts(d), _text(d, "order_id"), _qty(d), _price(d.get("price"))


def _cancel(d: dict[str, Any]) -> tuple[Any, ...]:
    ts, order_id = d["ts"], d["order_id"]
    if type(ts) is not int or ts < 0:
        raise ValueError(TS_ERROR)
    if not (type(order_id) is str and order_id):
        order_id = _text(d, "order_id")
    return ts, order_id


def _trade(d: dict[str, Any]) -> tuple[Any, ...]:
    price = _price(d["price"])
    if price is None:
        raise ValueError("a trade has a price")
    trade = TradeExecuted(
        _ts(d),
        _text(d, "trade_id"),
        _text(d, "symbol"),
        _qty(d),
        price,
        _text(d, "buy_order_id"),
        _text(d, "sell_order_id"),
    )
    return (trade,)


PARSERS: dict[str, Callable[[dict[str, Any]], tuple[Any, ...]]] = {
    "order": _order,
    "modify": _modify,
    "cancel": _cancel,
    "trade": _trade,
}


def _price(value: object) -> int | None:
    """``price_units``, remembered for the decimal strings a day repeats."""
    return _price_text(value) if type(value) is str else price_units(value)


@lru_cache(maxsize=65_536)
def _price_text(text: str) -> int | None:
    return price_units(text)


def _ts(d: dict[str, Any]) -> int:
    value = d["ts"]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(TS_ERROR)
    return value


def _qty(d: dict[str, Any]) -> int:
    value = d["qty"]
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(QTY_ERROR)
    return value


def _text(d: dict[str, Any], name: str) -> str:
    value = d[name]
    if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
        raise ValueError(f"{name} is a non-empty string")
    return str(value)


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing field {error.args[0]}"
    return str(error) or type(error).__name__


def _skip(result: ReplayResult, report: Callable[[Problem], None] | None, problem: Problem) -> None:
    result.skipped.append(problem)
    if report is not None:
        report(problem)


def alert_line(draft: AlertDraft) -> dict[str, Any]:
    """An alert as the replay output writes it."""
    return {
        "typology": draft.typology,
        "symbol": draft.subject.symbol,
        "accounts": list(draft.subject.accounts),
        "start_ts": draft.start_ns,
        "end_ts": draft.end_ns,
        "score": draft.score,
        "rule": draft.rule,
        "evidence": dict(draft.evidence) | {"thresholds": dict(draft.parameters)},
    }


def write_alerts(out: TextIO, drafts: Iterable[AlertDraft]) -> int:
    """Write one alert per line; how many."""
    count = 0
    for draft in drafts:
        out.write(json.dumps(alert_line(draft), separators=(",", ":"), default=str) + "\n")
        count += 1
    return count
