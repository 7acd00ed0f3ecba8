"""The desk's ``ReferencePrices`` sink: market data into the risk context's instruments.

It lives beside the desk and is built by the process that owns the desk, the single
writer of reference prices. Marking takes the desk's lock once per batch and replaces
the marked instruments in memory (the feed re-marks them within moments of a restart);
a venue halt or resumption is a state change, so it runs as a unit of work of the desk
with its audit event. The halts the feed holds (venue halts and volatility pauses) are
put back on the instruments whenever the desk loads its memory again, and after a
restart they are read back from the audit trail (``market.halt_record``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from typing import Any

from tradeguard.audit.records import Actor
from tradeguard.logs import get_logger
from tradeguard.market.bands import LULD, PAUSE_NS, VOLATILITY, BandEvent, VolatilityBands
from tradeguard.market.events import Nbbo, VenueHalt
from tradeguard.market.halt_record import RecordedHalt, recorded_halts
from tradeguard.market.quotes import QuoteRows, chosen, quote_row
from tradeguard.market.reference import reference_of
from tradeguard.risk.model import Instrument
from tradeguard.trading.models import InstrumentRow
from tradeguard.trading.orders.booking import Booking
from tradeguard.trading.orders.desk import TradingDesk

MARKET_DATA = Actor.system("market-data")
__all__ = ["LULD", "MARKET_DATA", "VOLATILITY", "Announce", "DeskReferencePrices"]
log = get_logger("tradeguard.market")
Announce = Callable[[Mapping[str, Any]], None]


class DeskReferencePrices:
    """Marks the desk's instruments from the NBBO; halts and resumes them for venues.

    With ``bands``, each mark also moves the symbol's volatility band, and a symbol held
    at its band pauses: a halt with the reason ``volatility``, audited and announced.
    """

    def __init__(
        self,
        desk: TradingDesk,
        bands: VolatilityBands | None = None,
        announce: Announce | None = None,
    ) -> None:
        self.desk = desk
        self.bands = bands
        self.announce = announce
        self.withdrawn = 0
        self.latest: dict[str, Nbbo] = {}
        """Each symbol's last NBBO (under the desk's lock), for the quotes customers read."""
        self.held: set[str] = set()
        """Symbols the feed holds halted (a venue halt or a volatility pause); desk's lock."""
        desk.after_load(self.reapply_halts)

    def restore_halts(self) -> list[RecordedHalt]:
        """Halt again what the audit trail says the feed left halted (at start-up)."""
        with self.desk.sessions() as db:
            recorded = recorded_halts(db, self.desk.clock.now_ns())
        restored = [halt for halt in recorded.values() if self._restorable(halt)]
        with self.desk.lock:
            for halt in restored:
                if halt.venue == LULD and self.bands is not None:
                    self.bands.restore_pause(halt.symbol, halt.started_ns + PAUSE_NS)
                self.held.add(halt.symbol)
            self.reapply_halts()
        for halt in restored:
            log.info("market.halt.restored", symbol=halt.symbol, venue=halt.venue)
        return restored

    def _restorable(self, halt: RecordedHalt) -> bool:
        """A listed symbol; a pause only where bands run (nothing else would end it)."""
        listed = halt.symbol in self.desk.risk.instruments
        return listed and (halt.venue != LULD or self.bands is not None)

    def reapply_halts(self) -> None:
        """Mark every symbol the feed holds halted as halted (the desk's lock held)."""
        instruments = self.desk.risk.instruments
        for symbol in self.held:
            instrument = instruments.get(symbol)
            if instrument is not None and not instrument.halted:
                instruments[symbol] = replace(instrument, halted=True)

    def ticks(self) -> dict[str, int]:
        """Every instrument the desk lists, with its tick size."""
        with self.desk.lock:
            return {symbol: item.tick_size for symbol, item in self.desk.risk.instruments.items()}

    def mark(self, quotes: Collection[Nbbo]) -> int:
        """Each NBBO's midpoint becomes its symbol's reference; a crossed one withdraws it."""
        changed = 0
        pauses: list[tuple[str, BandEvent]] = []
        with self.desk.lock:
            instruments, now = self.desk.risk.instruments, self.desk.clock.now_ns()
            for nbbo in quotes:
                instrument = instruments.get(nbbo.symbol)
                if instrument is None:
                    continue
                self.latest[nbbo.symbol] = nbbo
                marked = self._marked(instrument, nbbo)
                changed += marked.reference_at_ns is not None
                instruments[nbbo.symbol] = self._banded(marked, nbbo, now, pauses)
        for symbol, event in pauses:
            self.halt(VenueHalt(LULD, symbol, event is BandEvent.PAUSE, VOLATILITY, 0, now))
        return changed

    def quotes(self, symbols: list[str] | None) -> QuoteRows:
        """The NBBO, reference price, band and halt of ``symbols`` (or the first listed)."""
        with self.desk.lock:
            instruments, now = self.desk.risk.instruments, self.desk.clock.now_ns()
            max_age = self.desk.limits.max_reference_age_ns
            return [
                quote_row(instruments[symbol], self.latest.get(symbol), now, max_age)
                for symbol in chosen(list(instruments), symbols)
            ]

    def _marked(self, instrument: Instrument, nbbo: Nbbo) -> Instrument:
        price = reference_of(nbbo, instrument.tick_size)
        if price is None:  # crossed: market orders fail closed until it uncrosses
            self.withdrawn += 1
            return replace(instrument, reference_at_ns=None)
        return replace(instrument, reference_price=price, reference_at_ns=nbbo.at_ns)

    def _banded(
        self, instrument: Instrument, nbbo: Nbbo, now: int, pauses: list[tuple[str, BandEvent]]
    ) -> Instrument:
        if self.bands is None:
            return instrument
        event = self.bands.observe(nbbo, instrument.tier, instrument.tick_size, now)
        if event is not BandEvent.NONE:
            pauses.append((nbbo.symbol, event))
        band = self.bands.band(nbbo.symbol)
        low, high = (None, None) if band is None else (band.low, band.high)
        return replace(instrument, band_low=low, band_high=high)

    def halt(self, halt: VenueHalt) -> None:
        """Halt (or resume) trading in the symbol, audited (``market.halt.*``) and announced."""

        def work(booking: Booking) -> None:
            instrument = self.desk.risk.instruments.get(halt.symbol)
            if instrument is None:
                return
            row = booking.context.db.get(InstrumentRow, halt.symbol)
            listed_halted = row is not None and row.status != "active"
            halted = halt.halted or listed_halted
            event = "market.halt.started" if halt.halted else "market.halt.ended"
            data = {"venue": halt.venue, "reason": halt.reason, "halted": halted}
            booking.record(event, halt.symbol, data, MARKET_DATA)
            self.desk.risk.instruments[halt.symbol] = replace(instrument, halted=halted)
            (self.held.add if halt.halted else self.held.discard)(halt.symbol)

        self.desk.run(MARKET_DATA, None, work)
        if self.announce is not None:
            self.announce(_halt_event(halt))


def _halt_event(halt: VenueHalt) -> dict[str, Any]:
    """The feed event that tells customers a symbol halted or resumed, and why."""
    return {
        "type": "market.halt" if halt.halted else "market.resume",
        "symbol": halt.symbol,
        "venue": halt.venue,
        "reason": halt.reason,
    }
