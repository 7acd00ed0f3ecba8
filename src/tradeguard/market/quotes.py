"""The consolidated quote of each symbol as customers read it (``GET /v1/market/quotes``).

The desk's sink keeps the last NBBO of every symbol it marked, under the desk's lock, so
a quote and the symbol's reference price, band and halt are read together. With gateway
workers the feed runs in the desk process and workers ask it over the desk channel
(``market.quotes``); the answer is plain JSON values, as the API shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.errors import CONFLICT, NOT_FOUND, ProblemError, ProblemType
from tradeguard.core.money import Price
from tradeguard.market.events import Nbbo
from tradeguard.risk.model import Instrument

MAX_SYMBOLS = 200
"""The most quotes one request returns (the first symbols in order when none are named)."""
QuoteRows = list[dict[str, Any]]
RemoteQuotes = Callable[[list[str] | None], object]
UNAVAILABLE = ProblemType("market-data-unavailable", "Market data unavailable", 503)


class MarketReason(StrEnum):
    """Reason codes of refused market-data requests."""

    UNAVAILABLE = "MARKET_DATA_UNAVAILABLE"
    OFF = "MARKET_DATA_OFF"
    UNKNOWN_SYMBOL = "MARKET_UNKNOWN_SYMBOL"


def unavailable(detail: str) -> ProblemError:
    """A 503: no feed here, or the desk process that runs it cannot be reached."""
    return ProblemError(UNAVAILABLE, MarketReason.UNAVAILABLE, detail, headers={"Retry-After": "1"})


def market_data_off() -> ProblemError:
    """A 409: this installation runs without a market data feed (``market_data=off``)."""
    return ProblemError(CONFLICT, MarketReason.OFF, "no market data feed is configured")


def unknown_symbols(symbols: list[str]) -> ProblemError:
    """A 404 naming the symbols the desk does not list."""
    return ProblemError(
        NOT_FOUND,
        MarketReason.UNKNOWN_SYMBOL,
        "no such symbol",
        {"symbols": symbols[:MAX_SYMBOLS]},
    )


def quote_row(
    instrument: Instrument, nbbo: Nbbo | None, now_ns: int, max_age_ns: int
) -> dict[str, Any]:
    """One symbol's NBBO (null sides before its first quote) with its price, band and halt."""
    fresh = nbbo is not None and not nbbo.crossed and now_ns - nbbo.at_ns <= max_age_ns
    return {
        "symbol": instrument.symbol,
        "bid": None if nbbo is None else str(Price(nbbo.bid)),
        "bid_size": None if nbbo is None else nbbo.bid_size,
        "bid_venue": None if nbbo is None else nbbo.bid_venue,
        "ask": None if nbbo is None else str(Price(nbbo.ask)),
        "ask_size": None if nbbo is None else nbbo.ask_size,
        "ask_venue": None if nbbo is None else nbbo.ask_venue,
        "bid_venues": [] if nbbo is None else list(nbbo.bid_venues or (nbbo.bid_venue,)),
        "ask_venues": [] if nbbo is None else list(nbbo.ask_venues or (nbbo.ask_venue,)),
        "quoted_at": None if nbbo is None else ns_to_rfc3339(nbbo.at_ns),
        "fresh": fresh,
        "reference_price": _price(instrument.reference_price),
        "band_low": _price(instrument.band_low),
        "band_high": _price(instrument.band_high),
        "halted": instrument.halted,
    }


def _price(units: int | None) -> str | None:
    return None if units is None else str(Price(units))


def chosen(listed: list[str], asked: list[str] | None) -> list[str]:
    """The symbols to show: those asked for (404 if one is not listed), or the first listed."""
    if asked is None:
        return sorted(listed)[:MAX_SYMBOLS]
    known = set(listed)
    missing = [symbol for symbol in asked if symbol not in known]
    if missing:
        raise unknown_symbols(missing)
    return list(dict.fromkeys(asked))
