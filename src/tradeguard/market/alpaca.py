"""Alpaca's market data v2 stream for stocks: the messages both ways, as events of the feed.

The protocol, as Alpaca documents it publicly: the client opens
``wss://stream.data.alpaca.markets/v2/{feed}`` and the server sends
``[{"T": "success", "msg": "connected"}]``; the client sends
``{"action": "auth", "key": ..., "secret": ...}`` and gets ``authenticated`` (or an
``error`` with a code: 402 auth failed, 404 auth timeout, 406 connection limit, 409
insufficient subscription...); ``{"action": "subscribe", "quotes": [...], "trades":
[...], "statuses": [...]}`` is answered with a ``subscription`` message listing the
channels in force. Then every frame is a JSON array of data messages:

- a quote ``{"T": "q", "S": symbol, "bx", "bp", "bs", "ax", "ap", "as", "t", "c", "z"}``:
  the best bid and offer of the feed (the NBBO on the SIP feed), with the bid's and the
  offer's exchange codes, prices as JSON numbers and an RFC 3339 time to the nanosecond;
- a trade ``{"T": "t", "S", "i", "x", "p", "s", "t", "c", "z"}``;
- a trading status ``{"T": "s", "S", "sc", "sm", "rc", "rm", "t", "z"}``: a halt
  (``sc`` ``H`` or ``2``, a volatility pause ``P``) or a resumption (``T`` or ``3``).

The feed is one venue of the consolidated quote, named by ``venue``. Its messages carry
no sequence numbers, so the decoder numbers the events it keeps and drops one older
than the symbol's last (``out_of_sequence``): the book then sees one ordered venue.
Event times are the provider's, so a delayed feed ages out as ``stale`` and fails closed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from tradeguard.audit.search import parse_rfc3339_ns
from tradeguard.core.money import PRICE_SCALE
from tradeguard.logs import get_logger
from tradeguard.market.events import (
    DropReason,
    LastSale,
    MarketEvent,
    Quote,
    QuoteFields,
    QuoteRun,
    VenueHalt,
)

log = get_logger("tradeguard.market")
HALT_CODES = frozenset({"H", "P", "2"})
"""Trading status codes that halt trading (UTP halt and volatility pause, CTA halt)."""
RESUME_CODES = frozenset({"T", "3"})
"""Trading status codes that resume it (UTP and CTA trading resumption)."""
QUOTE, TRADE, STATUS = "q", "t", "s"
DATA_KINDS = frozenset({QUOTE, TRADE, STATUS})
MAX_SYMBOL_CHARS = 16
MAX_REASON_CHARS = 64
SECOND_END = len("2026-01-01T00:00:00")
STREAM_STAMP_CHARS = len("2026-01-01T00:00:00.000000000Z")
NANO_DIGITS = 9
MAX_PRICE_UNITS = 10**12
"""$100,000,000 a share: anything above is not a quote."""
OFF_GRID = 1e-6
"""How far from a whole price unit a scaled JSON number may be (binary floating point)."""
AUTH_FAILED = 402
"""The error code of refused credentials: no use retrying them quickly."""
EXCHANGE_MICS = {
    "A": "XASE",
    "B": "XBOS",
    "C": "XCIS",
    "D": "XADF",
    "H": "MPRL",
    "I": "XISX",
    "J": "EDGA",
    "K": "EDGX",
    "L": "LTSE",
    "M": "XCHI",
    "N": "XNYS",
    "P": "ARCX",
    "Q": "XNAS",
    "T": "XNAS",
    "U": "MEMX",
    "V": "IEXG",
    "X": "XPSX",
    "Y": "BATY",
    "Z": "BATS",
}
"""The exchange (participant) codes of quotes and trades as MICs; another code names none."""


class MalformedMessageError(ValueError):
    """A data message that is not what the protocol says (counted as ``malformed``)."""


class StreamProtocolError(Exception):
    """The server answered out of protocol, or refused us (its ``error`` code and text)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def auth_message(key_id: str, secret: str) -> str:
    """The ``auth`` action with the API key's id and secret."""
    return json.dumps({"action": "auth", "key": key_id, "secret": secret})


def subscribe_message(symbols: Collection[str]) -> str:
    """Quotes, trades and trading statuses of ``symbols``."""
    listed = sorted(symbols)
    return json.dumps(
        {"action": "subscribe", "quotes": listed, "trades": listed, "statuses": listed}
    )


def control(frame: str | bytes) -> dict[str, Any]:
    """The one control message of a frame (they always come alone); raises on an ``error``."""
    messages = _messages(frame)
    if len(messages) != 1 or not isinstance(messages[0], dict):
        raise StreamProtocolError("expected one control message")
    message: dict[str, Any] = messages[0]
    if message.get("T") == "error":
        code = message.get("code")
        raise StreamProtocolError(
            f"the stream refused: {message.get('msg')!s:.80}",
            code if isinstance(code, int) else None,
        )
    return message


@dataclass
class AlpacaDecoder:
    """Turns data frames into feed events, dropping and counting what is not usable."""

    venue: str
    drops: Counter[DropReason]
    sequence: int = 0

    def __post_init__(self) -> None:
        self._last_ns: dict[str, dict[str, int]] = {kind: {} for kind in DATA_KINDS}
        """The time of the last message of each kind, by symbol."""
        self._last_quote_ns = self._last_ns[QUOTE]
        self._symbols: set[str] = set()
        """Symbols of messages already taken: their form need not be checked again."""

    def decode(self, frame: str | bytes) -> list[MarketEvent]:
        """The events of one frame, in order; malformed messages are counted and skipped.

        Consecutive quotes taken the short way come as one ``QuoteRun`` (fields, no
        object per quote); anything else as its own event, between runs.
        """
        try:
            messages = _messages(frame)
        except StreamProtocolError:
            self.drops[DropReason.MALFORMED] += 1
            return []
        events: list[MarketEvent] = []
        rows: list[QuoteFields] = []
        fast_row = self._fast_row
        for message in messages:
            row = fast_row(message) if type(message) is dict else None
            if row is not None:
                rows.append(row)
                continue
            event = self._event(message)
            if event is not None:
                rows = self._flush(rows, events)
                events.append(event)
        self._flush(rows, events)
        return events

    def _flush(self, rows: list[QuoteFields], events: list[MarketEvent]) -> list[QuoteFields]:
        """Close the run of ``rows`` into ``events``; the list for the next run."""
        if not rows:
            return rows
        events.append(QuoteRun(self.venue, rows))
        return []

    def _fast_row(self, message: dict[str, Any]) -> QuoteFields | None:
        """A well-formed, in-order quote the short way; None sends it the long way.

        Nearly every message is one: its fields typed as expected, its symbol seen
        before, its time ``...SS.fffffffffZ``, its prices on the grid. Anything else takes
        ``_event``, which decides what the message is and counts it when it is dropped.
        One function, fields by subscript: this runs for every quote of a busy stream.
        """
        try:
            kind, symbol, stamp = message["T"], message["S"], message["t"]
            bid, ask, bid_size, ask_size = (
                message["bp"],
                message["ap"],
                message["bs"],
                message["as"],
            )
        except KeyError:
            return None
        if (
            kind != QUOTE
            or symbol not in self._symbols
            or type(stamp) is not str
            or type(bid) is not float
            or type(ask) is not float
            or type(bid_size) is not int
            or type(ask_size) is not int
            or len(stamp) != STREAM_STAMP_CHARS
            or stamp[SECOND_END] != "."
            or stamp[-1] != "Z"
        ):
            return None
        nanos, bid, ask = stamp[SECOND_END + 1 : -1], bid * PRICE_SCALE, ask * PRICE_SCALE
        if not (nanos.isdigit() and abs(bid) <= MAX_PRICE_UNITS and abs(ask) <= MAX_PRICE_UNITS):
            return None  # also NaN
        bid_units, ask_units = round(bid), round(ask)
        at_ns = _second_ns(stamp[:SECOND_END]) + int(nanos)
        last = self._last_quote_ns
        if (
            abs(bid - bid_units) > OFF_GRID
            or abs(ask - ask_units) > OFF_GRID
            or at_ns < last.get(symbol, 0)
        ):
            return None  # the long way counts it
        last[symbol] = at_ns
        self.sequence = sequence = self.sequence + 1
        bid_market, ask_market = message.get("bx"), message.get("ax")
        return (
            symbol,
            bid_units,
            bid_size,
            ask_units,
            ask_size,
            sequence,
            at_ns,
            EXCHANGE_MICS.get(bid_market, "") if type(bid_market) is str else "",
            EXCHANGE_MICS.get(ask_market, "") if type(ask_market) is str else "",
        )

    def _event(self, message: object) -> MarketEvent | None:
        if not isinstance(message, dict):
            self.drops[DropReason.MALFORMED] += 1
            return None
        kind = message.get("T")
        if kind not in DATA_KINDS:
            if kind == "error":  # such as 407 slow client, before the server hangs up
                log.warning(
                    "market.stream.error",
                    code=message.get("code"),
                    detail=str(message.get("msg"))[:80],
                )
            return None  # control messages, bars and the like: not market events
        try:
            symbol, at_ns = _symbol(message), _time(message)
        except ValueError:
            self.drops[DropReason.MALFORMED] += 1
            return None
        self._symbols.add(symbol)
        if not self._in_order(kind, symbol, at_ns):
            return None
        try:
            return self._build(kind, message, symbol, at_ns)
        except ValueError:
            self.drops[DropReason.MALFORMED] += 1
            return None

    def _in_order(self, kind: str, symbol: str, at_ns: int) -> bool:
        """Whether the message is no older than the last of its kind for the symbol."""
        last = self._last_ns[kind]
        if at_ns < last.get(symbol, 0):
            self.drops[DropReason.OUT_OF_SEQUENCE] += 1
            return False
        last[symbol] = at_ns
        return True

    def _build(
        self, kind: str, message: dict[str, Any], symbol: str, at_ns: int
    ) -> MarketEvent | None:
        if kind == QUOTE:
            return self._quote(message, symbol, at_ns)
        if kind == TRADE:
            return self._trade(message, symbol, at_ns)
        return self._status(message, symbol, at_ns)

    def _next(self) -> int:
        self.sequence += 1
        return self.sequence

    def _quote(self, message: dict[str, Any], symbol: str, at_ns: int) -> Quote:
        return Quote(
            venue=self.venue,
            symbol=symbol,
            bid=_price(message, "bp"),
            bid_size=_size(message, "bs"),
            ask=_price(message, "ap"),
            ask_size=_size(message, "as"),
            sequence=self._next(),
            at_ns=at_ns,
            bid_market=_market(message, "bx"),
            ask_market=_market(message, "ax"),
        )

    def _trade(self, message: dict[str, Any], symbol: str, at_ns: int) -> LastSale:
        return LastSale(
            venue=self.venue,
            symbol=symbol,
            price=_price(message, "p"),
            size=_size(message, "s"),
            sequence=self._next(),
            at_ns=at_ns,
        )

    def _status(self, message: dict[str, Any], symbol: str, at_ns: int) -> VenueHalt | None:
        code = message.get("sc")
        if code not in HALT_CODES and code not in RESUME_CODES:
            return None  # imbalances, price indications and the like change nothing
        reason = message.get("rc") or message.get("sm") or code
        if not isinstance(reason, str) or not reason.isprintable():
            raise MalformedMessageError("a status reason must be printable text")
        halted = code in HALT_CODES
        return VenueHalt(self.venue, symbol, halted, reason[:MAX_REASON_CHARS], self._next(), at_ns)


def _messages(frame: str | bytes) -> list[Any]:
    try:
        messages = orjson.loads(frame)
    except orjson.JSONDecodeError as exc:
        raise StreamProtocolError(f"not JSON: {exc}") from None
    if not isinstance(messages, list):
        raise StreamProtocolError("a frame is a JSON array")
    return messages


def _symbol(message: dict[str, Any]) -> str:
    symbol = message.get("S")
    if not isinstance(symbol, str) or not 0 < len(symbol) <= MAX_SYMBOL_CHARS:
        raise MalformedMessageError("S must be a symbol")
    if not symbol.isprintable():
        raise MalformedMessageError("S must be printable")
    return symbol


def _time(message: dict[str, Any]) -> int:
    stamp = message.get("t")
    if not isinstance(stamp, str):
        raise MalformedMessageError("t must be an RFC 3339 time")
    return _utc_ns(stamp)


@lru_cache(maxsize=4096)
def _second_ns(prefix: str) -> int:
    """``YYYY-MM-DDTHH:MM:SS`` (UTC) as epoch nanoseconds; a stream repeats each second often."""
    return parse_rfc3339_ns(prefix + "Z")


def _utc_ns(stamp: str) -> int:
    """An RFC 3339 time as epoch nanoseconds; the stream's ``...SS.fffffffffZ`` the fast way."""
    fraction = stamp[SECOND_END + 1 : -1]
    if (
        len(stamp) > SECOND_END
        and stamp[-1] == "Z"
        and stamp[SECOND_END] in ".Z"
        and len(fraction) <= NANO_DIGITS
        and (fraction.isdigit() or stamp[SECOND_END] == "Z")
    ):
        whole = _second_ns(stamp[:SECOND_END])
        return whole + (int(fraction.ljust(NANO_DIGITS, "0")) if fraction else 0)
    return parse_rfc3339_ns(stamp)


def _price(message: dict[str, Any], name: str) -> int:
    """A JSON number as price units (1/10,000 dollar); a finer price is not a price here."""
    value = message.get(name)
    kind = type(value)
    if kind is not float and kind is not int:
        raise MalformedMessageError(f"{name} must be a number")
    scaled: float = value * PRICE_SCALE
    if not abs(scaled) <= MAX_PRICE_UNITS:  # also NaN
        raise MalformedMessageError(f"{name} is out of range")
    units = round(scaled)
    if abs(scaled - units) > OFF_GRID:
        raise MalformedMessageError(f"{name} has more than four decimal places")
    return units


def _market(message: dict[str, Any], name: str) -> str:
    """The MIC of an exchange code (empty for a code that names none, or none given)."""
    code = message.get(name)
    return EXCHANGE_MICS.get(code, "") if isinstance(code, str) else ""


def _size(message: dict[str, Any], name: str) -> int:
    value = message.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedMessageError(f"{name} must be a whole number")
    return value
