"""Detection parameters: defaults from published cases and market structure, all overridable.

Compliance changes them as a JSON document (``tradeguard surveillance replay --parameters``
tests a change on a past day first); the document is validated here, and an unknown
name or a value of the wrong type is refused. Where each default comes from is written
next to it and in docs/surveillance.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class WashParameters:
    """Wash trading: trades with no change in beneficial ownership, or pre-arranged round trips."""

    same_owner_min_trades: int = 2
    """Trades between accounts of one beneficial owner in an episode (one may be an accident)."""
    linked_min_trades: int = 3
    """Trades between accounts tied by device, IP, bank or address (households trade too)."""
    pair_min_trades: int = 4
    """Trades of an unrelated pair, in both directions, for a round-trip alert."""
    pair_max_net_fraction: float = 0.2
    """The pair's net position change over its gross volume: no change in position."""
    prearranged_seconds: int = 60
    """Two orders of one size placed this close in time, filled by each other, look arranged."""
    pair_min_prearranged_fraction: float = 0.75
    """Share of an unrelated pair's trades that look arranged."""
    pair_min_exclusive_fraction: float = 0.5
    """Share of each side's trades in the symbol, during the episode, that were with the other."""


@dataclass(frozen=True, slots=True)
class SpoofParameters:
    """Spoofing and layering (Trillium: order, opposite execution, cancellation)."""

    max_lifetime_seconds: int = 30
    """CFTC cases: spoof orders lived ~12 s, genuine ones ~55 s."""
    max_fill_fraction: float = 0.1
    """CFTC cases: spoof orders filled 2% of the time, genuine ones 89%."""
    min_size_ratio: float = 4.0
    """Open volume on the spoof side over the genuine order and the rest of its side
    (RedDeer: opposite volume 2.5x the fill; CFTC cases: spoof orders 10-50x)."""
    min_order_size_ratio: float = 2.0
    """The cancelled order itself over the genuine order: quoters post equal sizes."""
    min_cancel_ratio: float = 0.8
    """Cancelled share of the spoof side's volume in the cycle (RedDeer 0.8)."""
    max_cancel_after_fill_seconds: int = 30
    """The spoof orders go soon after the genuine order filled."""
    near_touch_bps: int = 100
    """A spoof order sits within this of the best price on its side, or improves it."""
    min_cycles: int = 2
    """Spoofing is a habit: cycles in an episode before it alerts..."""
    single_cycle_min_ratio: float = 10.0
    """...unless one cycle's spoof side was this many times the genuine order (CFTC 10-50x)."""
    layering_min_levels: int = 3
    """Spoof orders at this many price levels or more make it layering."""


@dataclass(frozen=True, slots=True)
class PumpParameters:
    """Pump and dump: accumulate, push price and volume up, sell into the peak."""

    min_price_rise: float = 0.2
    """Peak trade price over the symbol's average price before the group's first buy."""
    min_sell_premium: float = 0.05
    """A member's average sell price over its average buy price: it sold at a profit."""
    min_sold_fraction: float = 0.5
    """Share of the accumulated shares sold at the peak."""
    min_accumulation: float = 0.5
    """The most it held at once over all it bought: it built a position, it did not turn over."""
    min_volume_multiple: float = 3.0
    """Volume per minute during the episode over the symbol's baseline before it."""
    min_buy_share: float = 0.25
    """The group's share of all shares bought from its first buy to the peak."""
    min_member_share: float = 0.05
    """An unlinked account joins the group only if it bought this share of the volume."""
    coordination_seconds: int = 1800
    """Unlinked accounts whose accumulation starts this close together act as one."""
    lookback_seconds: int = 86_400
    """How long an accumulation and the volume baseline are remembered."""


@dataclass(frozen=True, slots=True)
class FrontRunParameters:
    """Front-running: a firm or employee account trades ahead of a large client order."""

    large_order_multiple: float = 10.0
    """A client order this many times the symbol's average order size is large."""
    large_order_min_qty: int = 1000
    """...and at least this many shares."""
    max_ahead_seconds: int = 900
    """The firm-side order follows the client order within this."""
    unwind_seconds: int = 3600
    """The firm side unwinds within this after trading ahead (the client traded between)."""
    min_unwind_fraction: float = 0.5
    """Share of the position taken ahead that is unwound."""


@dataclass(frozen=True, slots=True)
class SurveillanceParameters:
    """Every detector's parameters, and the episode gap they share."""

    episode_gap_seconds: int = 1800
    """Activity of one typology, symbol and group with no gap longer than this is one episode."""
    wash: WashParameters = field(default_factory=WashParameters)
    spoofing: SpoofParameters = field(default_factory=SpoofParameters)
    pump: PumpParameters = field(default_factory=PumpParameters)
    front_running: FrontRunParameters = field(default_factory=FrontRunParameters)

    @property
    def gap_ns(self) -> int:
        """The episode gap in nanoseconds."""
        return self.episode_gap_seconds * NS

    def to_json(self) -> dict[str, Any]:
        """Every parameter, by section."""
        return asdict(self)

    def with_overrides(self, document: dict[str, Any]) -> SurveillanceParameters:
        """These parameters with ``document``'s values; ValueError names a bad one."""
        changes: dict[str, Any] = {}
        for name, value in document.items():
            current = _member(self, name)
            if isinstance(value, dict) and not isinstance(current, int | float):
                changes[name] = _section(current, name, value)
            else:
                changes[name] = _checked(name, current, value)
        return replace(self, **changes)


def _member(owner: object, name: str) -> Any:  # noqa: ANN401 - a parameter or a section
    if name not in {spec.name for spec in fields(owner)}:  # type: ignore[arg-type]
        raise ValueError(f"unknown surveillance parameter {name!r}")
    return getattr(owner, name)


def _section(section: Any, prefix: str, values: dict[str, Any]) -> Any:  # noqa: ANN401 - a frozen section
    changes = {
        name: _checked(f"{prefix}.{name}", _member(section, name), value)
        for name, value in values.items()
    }
    return replace(section, **changes)


def _checked(name: str, current: object, value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"surveillance parameter {name} takes a non-negative number")
    if isinstance(current, float):
        return float(value)
    if not isinstance(value, int):
        raise TypeError(f"surveillance parameter {name} takes a whole number")
    return value
