"""The market-data feed: events from a source, screened, into the reference prices.

``MarketFeed.process`` takes one batch: each quote goes through the consolidated quote
book, and each symbol's latest NBBO of the batch goes to the ``ReferencePrices`` sink in
one call. ``FeedRunner`` runs a source on a thread of its own and notices a feed that
stopped: then market orders fail closed on their stale reference price, and the
operations alert (log and metric) says why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, Protocol

from tradeguard.core.clock import Clock
from tradeguard.core.errors import ProblemError
from tradeguard.logs import get_logger
from tradeguard.market.consolidation import QuoteBook
from tradeguard.market.events import LastSale, MarketEvent, Quote, QuoteRun, VenueHalt
from tradeguard.market.metrics import MarketMetrics
from tradeguard.market.quotes import QuoteRows, RemoteQuotes, market_data_off, unavailable
from tradeguard.market.reference import ReferencePrices

log = get_logger("tradeguard.market")
SYMBOL_REFRESH_SECONDS = 5


class MarketSource(Protocol):
    """Where events come from: a simulator, a recorded file, a provider's stream."""

    def batches(self, stop: threading.Event) -> Iterator[list[MarketEvent]]:
        """Batches of events until the source ends or ``stop`` is set."""
        ...


class MarketFeed:
    """Screens events and hands each symbol's latest good NBBO to the reference prices."""

    def __init__(
        self,
        book: QuoteBook,
        sink: ReferencePrices,
        clock: Clock,
        metrics: MarketMetrics | None = None,
    ) -> None:
        self.book = book
        self.sink = sink
        self.clock = clock
        self.metrics = metrics
        self.last_sales: dict[str, LastSale] = {}
        self.last_good_ns: int | None = None

    def process(self, events: Iterable[MarketEvent]) -> int:
        """Take in one batch; returns how many events were good."""
        now = self.clock.now_ns()
        quoted: set[str] = set()
        accepted = 0
        accept_quote, accept_run = self.book.accept_quote, self.book.accept_run
        for event in events:
            if type(event) is QuoteRun:
                accepted += accept_run(event, now, quoted)
            elif type(event) is Quote:
                if accept_quote(event, now):
                    quoted.add(event.symbol)
                    accepted += 1
            else:
                accepted += self._other(event, now)  # type: ignore[arg-type] # not a quote
        self._mark(quoted, now)
        self._note(accepted, now)
        return accepted

    def _mark(self, symbols: set[str], now: int) -> None:
        """Hand the sink the NBBO of each symbol the batch quoted, once per symbol."""
        consolidated = (self.book.nbbo(symbol, now) for symbol in symbols)
        quotes = [nbbo for nbbo in consolidated if nbbo is not None]
        if quotes:
            self.sink.mark(quotes)

    def refresh_symbols(self) -> None:
        """Take the listed symbols from the sink (instruments listed since start included)."""
        self.book.symbols = set(self.sink.ticks())

    def stalled(self) -> bool:
        """Whether no good event arrived within the age limit (or none ever did)."""
        last = self.last_good_ns
        return last is None or self.clock.now_ns() - last > self.book.rules.max_age_ns

    def _other(self, event: LastSale | VenueHalt, now: int) -> int:
        if isinstance(event, LastSale):
            if not self.book.accept_sale(event, now):
                return 0
            self.last_sales[event.symbol] = event
            return 1
        if not self.book.accept_halt(event, now):
            return 0
        self.sink.halt(event)
        return 1

    def _note(self, accepted: int, now: int) -> None:
        if accepted:
            self.last_good_ns = now
        if self.metrics is not None:
            self.metrics.observe(accepted, self.book.drops)


class FeedRunner:
    """Runs a source into a feed on a daemon thread; ``check`` raises the stalled alert."""

    def __init__(self, feed: MarketFeed, source: MarketSource) -> None:
        self.feed = feed
        self.source = source
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="market-feed", daemon=True)
        self._alerted = False
        self._refreshed = time.monotonic()

    def start(self) -> None:
        """Start taking events in."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the source and wait for the thread to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def check(self) -> bool:
        """Whether the feed is stalled; logs the operations alert once per stall."""
        stalled = self.feed.stalled()
        if stalled and not self._alerted:
            log.error("market.feed.stalled", max_age_ns=self.feed.book.rules.max_age_ns)
        elif not stalled and self._alerted:
            log.info("market.feed.recovered")
        self._alerted = stalled
        if self.feed.metrics is not None:
            self.feed.metrics.stalled.set(1 if stalled else 0)
        return stalled

    def _refresh_if_due(self) -> None:
        if time.monotonic() - self._refreshed >= SYMBOL_REFRESH_SECONDS:
            self._refreshed = time.monotonic()
            self.feed.refresh_symbols()

    def _run(self) -> None:
        try:
            self.feed.refresh_symbols()
            for batch in self.source.batches(self._stop):
                self._refresh_if_due()
                self.feed.process(batch)
        except Exception:
            log.exception("market.feed.failed")
        log.info("market.feed.ended")


class MarketData:
    """The application's market-data feed, when one is configured.

    ``remote`` asks the desk process for quotes when the feed runs there (gateway workers).
    """

    def __init__(
        self,
        runner: FeedRunner | None,
        remote: RemoteQuotes | None = None,
        on_stall: Callable[[], None] | None = None,
    ) -> None:
        self.runner = runner
        self.remote = remote
        self.on_stall = on_stall
        self._stalled = False

    def quotes(self, symbols: list[str] | None) -> QuoteRows:
        """Quotes of ``symbols`` (or the first listed); 409 without a feed, 404 for unknowns."""
        if self.runner is not None:
            return self.runner.feed.sink.quotes(symbols)
        if self.remote is None:
            raise market_data_off()
        try:
            answer = self.remote(symbols)
        except ProblemError:
            raise
        except Exception as error:
            raise unavailable("the market data feed cannot be reached; retry") from error
        if not isinstance(answer, list):
            raise unavailable("the market data feed answered out of form")
        return answer

    def start(self) -> None:
        """Start the feed (nothing when none is configured)."""
        if self.runner is not None:
            self.runner.start()

    def stop(self) -> None:
        """Stop the feed and wait for it."""
        if self.runner is not None:
            self.runner.stop()

    def check(self) -> bool:
        """Whether a configured feed is stalled (raising the operations alert once a stall)."""
        stalled = self.runner is not None and self.runner.check()
        if stalled and not self._stalled and self.on_stall is not None:
            self.on_stall()
        self._stalled = stalled
        return stalled


class _Caller(Protocol):
    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - the desk's answer
        """``method`` run in the desk process."""
        ...


def remote_quotes(channel: _Caller | None) -> RemoteQuotes | None:
    """Quotes asked of the desk process over ``channel`` (None: the feed is here, or off)."""
    if channel is None:
        return None
    return partial(channel.call, "market.quotes")
