"""The desk's ``ReferencePrices`` sink: market data into the risk context's instruments.

It lives beside the desk and is built by the process that owns the desk, the single
writer of reference prices. Marking takes the desk's lock once per batch and replaces
the marked instruments in memory (the feed re-marks them within moments of a restart);
a venue halt or resumption is a state change, so it runs as a unit of work of the desk
with its audit event.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from tradeguard.audit.records import Actor
from tradeguard.market.events import Nbbo, VenueHalt
from tradeguard.market.reference import reference_of
from tradeguard.trading.models import InstrumentRow
from tradeguard.trading.orders.booking import Booking
from tradeguard.trading.orders.desk import TradingDesk

MARKET_DATA = Actor.system("market-data")


class DeskReferencePrices:
    """Marks the desk's instruments from the NBBO; halts and resumes them for venues."""

    def __init__(self, desk: TradingDesk) -> None:
        self.desk = desk
        self.withdrawn = 0

    def ticks(self) -> dict[str, int]:
        """Every instrument the desk lists, with its tick size."""
        with self.desk.lock:
            return {symbol: item.tick_size for symbol, item in self.desk.risk.instruments.items()}

    def mark(self, quotes: Collection[Nbbo]) -> int:
        """Each NBBO's midpoint becomes its symbol's reference; a crossed one withdraws it."""
        changed = 0
        with self.desk.lock:
            instruments = self.desk.risk.instruments
            for nbbo in quotes:
                instrument = instruments.get(nbbo.symbol)
                if instrument is None:
                    continue
                price = reference_of(nbbo, instrument.tick_size)
                if price is None:  # crossed: market orders fail closed until it uncrosses
                    self.withdrawn += 1
                    instruments[nbbo.symbol] = replace(instrument, reference_at_ns=None)
                    continue
                instruments[nbbo.symbol] = replace(
                    instrument, reference_price=price, reference_at_ns=nbbo.at_ns
                )
                changed += 1
        return changed

    def halt(self, halt: VenueHalt) -> None:
        """Halt (or resume) trading in the symbol, with a ``market.halt.*`` audit event."""

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

        self.desk.run(MARKET_DATA, None, work)
