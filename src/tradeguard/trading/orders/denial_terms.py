"""A pre-trade denial's inputs and threshold as the API shows them.

The risk checks explain a denial in the core's units: cents, prices in 1/10,000 dollar,
nanoseconds. The audit trail keeps those; a client sees the API's: money and prices as
decimal strings, durations in whole milliseconds, instants as RFC 3339 UTC. Inputs are
converted by the checks' naming convention (``*_cents``: money, named without the
suffix; ``*_price``: a price; ``*_at_ns`` / ``*_until_ns``: an instant, named without
``_ns``; any other ``*_ns``: a duration, renamed ``*_ms``). A threshold has the unit of
the input it bounds, which the reason code says (``THRESHOLD_UNITS``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from types import MappingProxyType

from tradeguard.core.clock import NS_PER_MILLISECOND, ns_to_rfc3339
from tradeguard.core.money import Money, Price
from tradeguard.risk.model import RiskInput, RiskReason

PRICE_RANGE_SEPARATOR = ".."
"""A collar's threshold is ``low..top``."""


class Unit(Enum):
    """What a denial's integer counts, when it is not a plain number."""

    MONEY = "money"
    PRICE = "price"
    PRICE_RANGE = "price_range"
    DURATION = "duration"
    INSTANT = "instant"


INPUT_SUFFIXES: tuple[tuple[str, Unit, str], ...] = (
    ("_at_ns", Unit.INSTANT, "_at"),
    ("_until_ns", Unit.INSTANT, "_until"),
    ("_ns", Unit.DURATION, "_ms"),
    ("_cents", Unit.MONEY, ""),
    ("_price", Unit.PRICE, "_price"),
)
"""An input's name suffix, its unit and the suffix of its public name (first match wins)."""

THRESHOLD_UNITS: Mapping[str, Unit] = MappingProxyType(
    {
        RiskReason.INVALID_PRICE: Unit.PRICE,
        RiskReason.TICK_SIZE: Unit.PRICE,
        RiskReason.PRICE_COLLAR: Unit.PRICE_RANGE,
        RiskReason.PRICE_BAND: Unit.PRICE_RANGE,
        RiskReason.STALE_REFERENCE_PRICE: Unit.DURATION,
        RiskReason.DUPLICATE_ORDER: Unit.DURATION,
        RiskReason.MAX_NOTIONAL: Unit.MONEY,
        RiskReason.BUYING_POWER: Unit.MONEY,
        RiskReason.GROSS_EXPOSURE: Unit.MONEY,
        RiskReason.CREDIT_THRESHOLD: Unit.MONEY,
        RiskReason.PDT_RESTRICTED: Unit.INSTANT,
    }
)
"""Reasons whose threshold is not a plain number, flag or word (shares, counts, states)."""


def public_inputs(inputs: Mapping[str, RiskInput]) -> dict[str, RiskInput]:
    """The check's inputs with API names and values."""
    return dict(public_input(name, value) for name, value in inputs.items())


def public_input(name: str, value: RiskInput) -> tuple[str, RiskInput]:
    """One input's API name and value."""
    for suffix, unit, public_suffix in INPUT_SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix) + public_suffix, in_unit(unit, value)
    return name, value


def public_threshold(reason: str, threshold: RiskInput) -> RiskInput:
    """The threshold in the unit of the input it bounds."""
    unit = THRESHOLD_UNITS.get(reason)
    return threshold if unit is None else in_unit(unit, threshold)


def in_unit(unit: Unit, value: RiskInput) -> RiskInput:
    """``value`` (an integer of the core, or a collar's ``low..top``) as the API shows it."""
    if unit is Unit.PRICE_RANGE and isinstance(value, str):
        low, top = value.split(PRICE_RANGE_SEPARATOR)
        return f"{Price(int(low))}{PRICE_RANGE_SEPARATOR}{Price(int(top))}"
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    return _CONVERTERS[unit](value)


def _milliseconds(ns: int) -> int:
    return ns // NS_PER_MILLISECOND


_CONVERTERS: Mapping[Unit, Callable[[int], RiskInput]] = MappingProxyType(
    {
        Unit.MONEY: lambda cents: str(Money(cents)),
        Unit.PRICE: lambda units: str(Price(units)),
        Unit.PRICE_RANGE: lambda units: str(Price(units)),
        Unit.DURATION: _milliseconds,
        Unit.INSTANT: ns_to_rfc3339,
    }
)
