"""Fixed-point money and prices: integers inside, decimal strings at the API edge, never float.

``Money`` counts US cents. ``Price`` counts units of 1/10,000 dollar. Both parse plain
decimal strings (``"12.34"``, ``"-0.5"``, ``"100"``) and refuse anything that would need
rounding, floats, NaN/Infinity, exponents, signs other than a leading ``-``, whitespace
and amounts of 10 trillion dollars or more. Their ``str()`` is the canonical API form:
``Money`` always has 2 decimal places (``"12.30"``); ``Price`` has as few places as its
value needs but at least 2 (``"12.50"``, ``"0.015"``, ``"12.3456"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, ClassVar, Self

from pydantic_core import core_schema

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue

CENTS_PLACES = 2
PRICE_PLACES = 4
CENTS_SCALE = 10**CENTS_PLACES
PRICE_SCALE = 10**PRICE_PLACES
MAX_INTEGER_DIGITS = 13
_MAX_TEXT_LENGTH = 32
_DECIMAL_TEXT = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


class Rounding(StrEnum):
    """Rounding modes for converting to a coarser scale; values match ``decimal``'s names."""

    HALF_EVEN = ROUND_HALF_EVEN
    HALF_UP = ROUND_HALF_UP
    HALF_DOWN = ROUND_HALF_DOWN
    CEILING = ROUND_CEILING
    FLOOR = ROUND_FLOOR
    UP = ROUND_UP
    DOWN = ROUND_DOWN


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount of US dollars as an integer number of cents."""

    cents: int
    currency: ClassVar[str] = "USD"

    def __post_init__(self) -> None:
        _require_int("cents", self.cents)

    @classmethod
    def parse(cls, value: str | Decimal | int) -> Self:
        """Money from a decimal string, ``Decimal`` or whole dollars; never rounds."""
        return cls(_parse_units(value, CENTS_PLACES))

    @classmethod
    def zero(cls) -> Self:
        """No money."""
        return cls(0)

    def to_decimal(self) -> Decimal:
        """The amount in dollars as an exact ``Decimal``."""
        return Decimal(str(self))

    def __str__(self) -> str:
        return _format_units(self.cents, CENTS_PLACES, CENTS_PLACES)

    def __add__(self, other: Money) -> Money:
        if type(other) is not Money:
            return NotImplemented
        return Money(self.cents + other.cents)

    def __sub__(self, other: Money) -> Money:
        if type(other) is not Money:
            return NotImplemented
        return Money(self.cents - other.cents)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.cents * factor)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.cents)

    def __abs__(self) -> Money:
        return Money(abs(self.cents))


@dataclass(frozen=True, slots=True, order=True)
class Price:
    """A per-share price in US dollars as an integer number of 1/10,000 dollar units."""

    units: int

    def __post_init__(self) -> None:
        _require_int("units", self.units)

    @classmethod
    def parse(cls, value: str | Decimal | int) -> Self:
        """Price from a decimal string, ``Decimal`` or whole dollars; never rounds."""
        return cls(_parse_units(value, PRICE_PLACES))

    def to_decimal(self) -> Decimal:
        """The price in dollars as an exact ``Decimal``."""
        return Decimal(str(self))

    def notional(self, quantity: int, rounding: Rounding = Rounding.HALF_EVEN) -> Money:
        """The exact value of ``quantity`` shares, converted to cents with ``rounding``."""
        total = self.units * _require_int("quantity", quantity)
        return Money(divide_rounded(total, PRICE_SCALE // CENTS_SCALE, Rounding(rounding)))

    def __str__(self) -> str:
        return _format_units(self.units, PRICE_PLACES, CENTS_PLACES)


def divide_rounded(numerator: int, divisor: int, rounding: Rounding) -> int:
    """``numerator / divisor`` rounded to an integer with ``rounding``; ``divisor`` > 0."""
    if divisor <= 0:
        raise ValueError("divisor must be positive")
    quotient, remainder = divmod(numerator, divisor)
    if remainder == 0:
        return quotient
    negative = numerator < 0
    directed = _DIRECTED.get(rounding)
    if directed is not None:
        return quotient + directed(negative)
    excess = 2 * remainder - divisor
    if excess:
        return quotient + (excess > 0)
    return quotient + _TIES[rounding](quotient, negative)


# With floor division the exact result lies strictly between quotient and quotient + 1;
# these say whether to step up to quotient + 1.
_DIRECTED: dict[Rounding, Callable[[bool], bool]] = {
    Rounding.FLOOR: lambda _negative: False,
    Rounding.CEILING: lambda _negative: True,
    Rounding.DOWN: lambda negative: negative,
    Rounding.UP: lambda negative: not negative,
}
_TIES: dict[Rounding, Callable[[int, bool], bool]] = {
    Rounding.HALF_EVEN: lambda quotient, _negative: quotient % 2 == 1,
    Rounding.HALF_UP: lambda _quotient, negative: not negative,
    Rounding.HALF_DOWN: lambda _quotient, negative: negative,
}


def _parse_units(value: object, places: int) -> int:
    if isinstance(value, float):
        raise TypeError("floats are never accepted for money or prices; pass a decimal string")
    if isinstance(value, str):
        units = _parse_text(value, places)
    elif isinstance(value, Decimal):
        units = _parse_decimal(value, places)
    elif isinstance(value, int) and not isinstance(value, bool):
        units = value * _pow10(places)
    else:
        raise TypeError(f"cannot parse {type(value).__name__} as a decimal amount")
    if abs(units) >= _pow10(MAX_INTEGER_DIGITS + places):
        raise ValueError(f"amount must be below 10**{MAX_INTEGER_DIGITS} dollars")
    return units


def _parse_text(text: str, places: int) -> int:
    if len(text) > _MAX_TEXT_LENGTH:
        raise ValueError(f"decimal text longer than {_MAX_TEXT_LENGTH} characters")
    match = _DECIMAL_TEXT.fullmatch(text)
    if match is None:
        raise ValueError(f"not a plain decimal number: {text!r}")
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    if len(fraction) > places:
        raise ValueError(f"{text!r} has more than {places} decimal places")
    units = int(whole) * _pow10(places) + int(fraction.ljust(places, "0"))
    return -units if sign else units


def _parse_decimal(value: Decimal, places: int) -> int:
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent < -places:
        raise ValueError(f"{value} has more than {places} decimal places")
    if value.is_zero():
        return 0
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(f"amount must be below 10**{MAX_INTEGER_DIGITS} dollars")
    units = int("".join(map(str, digits))) * _pow10(exponent + places)
    return -units if sign else units


def _format_units(units: int, places: int, min_places: int) -> str:
    whole, fraction = divmod(abs(units), _pow10(places))
    digits = str(fraction).rjust(places, "0").rstrip("0").ljust(min_places, "0")
    sign = "-" if units < 0 else ""
    return f"{sign}{whole}.{digits}"


def _pow10(exponent: int) -> int:
    return int(10**exponent)


def _require_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True)
class _DecimalString:
    """Pydantic metadata: validate from a string via ``parse``; dump as ``str`` in every mode."""

    parse: Callable[[str], object]
    instance_type: type
    pattern: str
    example: str

    def __get_pydantic_core_schema__(
        self, _source: object, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from_text = core_schema.no_info_after_validator_function(
            self.parse, core_schema.str_schema(strict=True, max_length=_MAX_TEXT_LENGTH)
        )
        return core_schema.json_or_python_schema(
            json_schema=from_text,
            python_schema=core_schema.union_schema(
                [core_schema.is_instance_schema(self.instance_type), from_text]
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(
                str, return_schema=core_schema.str_schema()
            ),
        )

    def __get_pydantic_json_schema__(
        self, _schema: core_schema.CoreSchema, _handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": self.pattern, "examples": [self.example]}


def _api_pattern(places: int) -> str:
    return rf"^-?[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{1,{places}}})?$"


MoneyStr = Annotated[Money, _DecimalString(Money.parse, Money, _api_pattern(CENTS_PLACES), "12.34")]
"""``Money`` in a pydantic model: a decimal string in JSON, floats and numbers refused."""

PriceStr = Annotated[
    Price, _DecimalString(Price.parse, Price, _api_pattern(PRICE_PLACES), "12.3456")
]
"""``Price`` in a pydantic model: a decimal string in JSON, floats and numbers refused."""
