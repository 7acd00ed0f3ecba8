"""Where the feed's prices go: the ``ReferencePrices`` sink the desk's process owns.

The desk is the single writer of reference prices; a feed hands it NBBO updates and venue
halts through this interface and never touches the desk's state itself.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol

from tradeguard.market.events import Nbbo, VenueHalt


class ReferencePrices(Protocol):
    """Takes consolidated quotes and venue halts into the reference prices."""

    def mark(self, quotes: Collection[Nbbo]) -> int:
        """Take each symbol's latest NBBO; returns how many reference prices changed."""
        ...

    def halt(self, halt: VenueHalt) -> None:
        """Halt or resume trading in a symbol as a venue announced."""
        ...

    def ticks(self) -> dict[str, int]:
        """Every listed symbol with its tick size."""
        ...

    def quotes(self, symbols: list[str] | None) -> list[dict[str, Any]]:
        """Each symbol's last NBBO with its reference price, band and halt, as the API shows."""
        ...


def reference_of(nbbo: Nbbo, tick: int) -> int | None:
    """The reference price an NBBO gives: its midpoint down to the tick; None if crossed."""
    if nbbo.crossed:
        return None
    midpoint = nbbo.midpoint
    return max(midpoint - midpoint % tick, tick)
