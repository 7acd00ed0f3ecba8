"""A provider's WebSocket stream as a market source: connect, authenticate, subscribe, read.

``ProviderStream`` speaks Alpaca's market data v2 protocol (``market.alpaca``) and keeps
at it: a connection that fails, is refused or drops is tried again after a back-off that
doubles from ``BACKOFF_START_SECONDS`` up to ``max_backoff`` (with jitter), and starts
afresh once a connection has subscribed. While it is down no quote arrives, so the
reference prices age past their limit: market orders fail closed and the feed's stalled
alert goes up (``FeedRunner.check``). Refused credentials are logged at error level
every time and retried at the longest back-off. Symbols listed after the start are
subscribed to as they appear.
"""

from __future__ import annotations

import random
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from tradeguard.config import Settings
from tradeguard.core.errors import ConfigurationError
from tradeguard.logs import get_logger
from tradeguard.market.alpaca import (
    AUTH_FAILED,
    AlpacaDecoder,
    StreamProtocolError,
    auth_message,
    control,
    subscribe_message,
)
from tradeguard.market.events import DropReason, MarketEvent

log = get_logger("tradeguard.market")
BACKOFF_START_SECONDS = 0.25
HANDSHAKE_SECONDS = 10.0
"""How long the server may take to answer the connection, the auth and the subscribe."""
READ_SECONDS = 0.5
"""How long one read waits before the stream looks at ``stop`` and new symbols again."""
SYMBOLS_EVERY_SECONDS = 5.0
MAX_FRAME_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class StreamAccess:
    """Where the stream is and how to sign in to it."""

    url: str
    key_id: str
    secret: str = field(repr=False)
    ssl_context: ssl.SSLContext | None = None


class ProviderStream:
    """Batches of events from the provider's stream, reconnecting until ``stop``."""

    def __init__(
        self,
        access: StreamAccess,
        symbols: Callable[[], Collection[str]],
        drops: Counter[DropReason],
        *,
        venue: str,
        max_backoff: float,
    ) -> None:
        self.access = access
        self.symbols = symbols
        self.decoder = AlpacaDecoder(venue, drops)
        self.max_backoff = max_backoff
        self.connections = 0
        """Connections that authenticated and subscribed (a reconnect adds one)."""
        self._random = random.Random()  # noqa: S311 - jitter, not a secret
        self._subscribed: set[str] = set()

    def batches(self, stop: threading.Event) -> Iterator[list[MarketEvent]]:
        """The events of each frame, across reconnects, until ``stop`` is set."""
        backoff = BACKOFF_START_SECONDS
        while not stop.is_set():
            try:
                with self._connect() as connection:
                    self._handshake(connection)
                    backoff = BACKOFF_START_SECONDS
                    yield from self._read(connection, stop)
            except StreamProtocolError as error:
                backoff = self._refused(error, backoff)
            except (OSError, WebSocketException, TimeoutError) as error:
                log.warning("market.stream.disconnected", error=type(error).__name__)
            if not stop.is_set():
                stop.wait(self._jittered(backoff))
                backoff = min(backoff * 2, self.max_backoff)

    def _connect(self) -> ClientConnection:
        return connect(
            self.access.url,
            ssl=self.access.ssl_context,
            open_timeout=HANDSHAKE_SECONDS,
            max_size=MAX_FRAME_BYTES,
            proxy=None,
            compression=None,
        )

    def _handshake(self, connection: ClientConnection) -> None:
        """Authenticate and subscribe to every listed symbol."""
        _expect(connection, "success", "connected")
        connection.send(auth_message(self.access.key_id, self.access.secret))
        _expect(connection, "success", "authenticated")
        self._subscribed = set(self.symbols())
        connection.send(subscribe_message(self._subscribed))
        _expect(connection, "subscription", None)
        self.connections += 1
        log.info("market.stream.connected", symbols=len(self._subscribed))

    def _read(
        self, connection: ClientConnection, stop: threading.Event
    ) -> Iterator[list[MarketEvent]]:
        looked = time.monotonic()
        while not stop.is_set():
            try:
                frame = connection.recv(timeout=READ_SECONDS)
            except TimeoutError:
                frame = None
            if frame is not None:
                yield self.decoder.decode(frame)
            if time.monotonic() - looked >= SYMBOLS_EVERY_SECONDS:
                looked = time.monotonic()
                self._subscribe_new(connection)

    def _subscribe_new(self, connection: ClientConnection) -> None:
        """Subscribe to symbols listed since the connection subscribed (the answer follows)."""
        new = set(self.symbols()) - self._subscribed
        if new:
            connection.send(subscribe_message(new))
            self._subscribed |= new

    def _refused(self, error: StreamProtocolError, backoff: float) -> float:
        if error.code == AUTH_FAILED:
            log.error("market.stream.auth_failed", detail=str(error))
            return self.max_backoff
        log.warning("market.stream.refused", code=error.code, detail=str(error))
        return backoff

    def _jittered(self, seconds: float) -> float:
        return seconds * (0.5 + self._random.random() / 2)


def _expect(connection: ClientConnection, kind: str, msg: str | None) -> None:
    """Read the next control message; it must be ``kind`` (with ``msg`` when given)."""
    message = control(connection.recv(timeout=HANDSHAKE_SECONDS))
    if message.get("T") != kind or (msg is not None and message.get("msg") != msg):
        raise StreamProtocolError(f"expected {kind} {msg or ''} from the stream".strip())


ALPACA_VENUE = "ALPACA"
"""The venue the provider's consolidated quotes stand for in the book."""


def alpaca_stream(
    settings: Settings, symbols: Callable[[], Collection[str]], drops: Counter[DropReason]
) -> ProviderStream:
    """The configured Alpaca stream; ``ConfigurationError`` without its credentials."""
    key_id, secret = settings.market_alpaca_key_id, settings.market_alpaca_secret_key
    if key_id is None or secret is None:
        raise ConfigurationError(
            "TRADEGUARD_MARKET_DATA=alpaca needs TRADEGUARD_MARKET_ALPACA_KEY_ID and "
            "TRADEGUARD_MARKET_ALPACA_SECRET_KEY"
        )
    url = settings.market_alpaca_url
    context = None
    if url.startswith("wss://"):
        context = ssl.create_default_context(cafile=settings.market_alpaca_ca_file)
    access = StreamAccess(url, key_id.get_secret_value(), secret.get_secret_value(), context)
    return ProviderStream(
        access,
        symbols,
        drops,
        venue=ALPACA_VENUE,
        max_backoff=settings.market_stream_max_backoff_seconds,
    )
