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
from pathlib import Path
from typing import Any, TextIO

import orjson

from tradeguard.cases.model import AlertDraft
from tradeguard.surveillance.accounts import LINK_KINDS, AccountDirectory
from tradeguard.surveillance.engine import Surveillance, UnknownOrderError
from tradeguard.surveillance.events import (
    MarketEvent,
    OrderCancelled,
    OrderModified,
    OrderPlaced,
    TradeExecuted,
    price_units,
    side_of,
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
    result = ReplayResult()
    with (directory / "events.jsonl").open(encoding="utf-8") as handle:
        for number, event in parsed_lines(handle, result, report):
            try:
                drafts = engine.process(event)
            except UnknownOrderError as error:
                _skip(result, report, (number, str(error)))
                continue
            result.events += 1
            for draft in drafts:
                result.alerts[draft.key("replay")] = draft
    return result


def parsed_lines(
    lines: Iterable[str], result: ReplayResult, report: Callable[[Problem], None] | None
) -> Iterator[tuple[int, MarketEvent]]:
    """The events of ``lines`` with their line numbers; malformed lines are reported."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = parse_event(orjson.loads(line))
        except (ValueError, KeyError, TypeError) as error:
            _skip(result, report, (number, _reason(error)))
            continue
        if event is not None:
            yield number, event


def parse_event(document: Any) -> MarketEvent | None:  # noqa: ANN401 - parsed JSON
    """One event line as an event; None for a type the detectors do not read."""
    if not isinstance(document, dict):
        raise TypeError("a line is a JSON object")
    parse = PARSERS.get(document.get("type"))  # type: ignore[arg-type]
    return None if parse is None else parse(document)


def _order(d: dict[str, Any]) -> OrderPlaced:
    price = price_units(d.get("price"))
    if d["order_type"] not in {"limit", "market"} or (d["order_type"] == "limit") != (
        price is not None
    ):
        raise ValueError("a limit order has a price, a market order none")
    return OrderPlaced(
        _ts(d),
        _text(d, "order_id"),
        _text(d, "account"),
        _text(d, "symbol"),
        side_of(d["side"]),
        _qty(d),
        price,
    )


def _modify(d: dict[str, Any]) -> OrderModified:
    return OrderModified(_ts(d), _text(d, "order_id"), _qty(d), price_units(d.get("price")))


def _cancel(d: dict[str, Any]) -> OrderCancelled:
    return OrderCancelled(_ts(d), _text(d, "order_id"))


def _trade(d: dict[str, Any]) -> TradeExecuted:
    price = price_units(d["price"])
    if price is None:
        raise ValueError("a trade has a price")
    return TradeExecuted(
        _ts(d),
        _text(d, "trade_id"),
        _text(d, "symbol"),
        _qty(d),
        price,
        _text(d, "buy_order_id"),
        _text(d, "sell_order_id"),
    )


PARSERS: dict[str, Callable[[dict[str, Any]], MarketEvent]] = {
    "order": _order,
    "modify": _modify,
    "cancel": _cancel,
    "trade": _trade,
}


def _ts(d: dict[str, Any]) -> int:
    value = d["ts"]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("ts is a non-negative integer of nanoseconds")
    return value


def _qty(d: dict[str, Any]) -> int:
    value = d["qty"]
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError("qty is a positive integer")
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
