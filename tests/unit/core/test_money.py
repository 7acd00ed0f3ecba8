from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from tradeguard.core.money import PRICE_SCALE, Money, MoneyStr, Price, PriceStr, Rounding

AMOUNTS = st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1)


class Order(BaseModel):
    limit_price: PriceStr
    cash: MoneyStr


@pytest.mark.parametrize(
    ("text", "cents"),
    [("12.34", 1234), ("-0.5", -50), ("100", 10000), ("0", 0), ("-0", 0), ("007.10", 710)],
)
def test_money_parse_when_plain_decimal_then_exact_cents(text: str, cents: int) -> None:
    assert Money.parse(text) == Money(cents)


@pytest.mark.parametrize(
    "text",
    ["12.345", "1.230", "NaN", "Infinity", "1e3", "+1", " 1", "1.", ".5", "1,5", "", "--1", "٣"],
)
def test_money_parse_when_not_plain_or_too_precise_then_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="decimal"):
        Money.parse(text)


def test_money_parse_when_absurdly_long_then_value_error() -> None:
    with pytest.raises(ValueError, match="longer than"):
        Money.parse("1" * 1000)


def test_money_parse_when_ten_trillion_dollars_then_value_error() -> None:
    assert Money.parse("9999999999999.99").cents == 999_999_999_999_999
    with pytest.raises(ValueError, match="below 10\\*\\*13"):
        Money.parse("10000000000000")


@pytest.mark.parametrize("value", [1.5, 0.0, float("nan")])
def test_money_parse_when_float_then_type_error(value: float) -> None:
    with pytest.raises(TypeError, match="floats are never accepted"):
        Money.parse(value)  # type: ignore[arg-type]


def test_money_parse_when_bool_then_type_error() -> None:
    with pytest.raises(TypeError, match="cannot parse bool"):
        Money.parse(True)  # noqa: FBT003 - the bool is the bad input under test


def test_money_parse_when_decimal_then_exact() -> None:
    assert Money.parse(Decimal("12.30")) == Money(1230)
    assert Money.parse(Decimal("1E+3")) == Money(100_000)
    assert Money.parse(Decimal("-0.00")) == Money(0)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "0.001", "1E+20", "0E-3"])
def test_money_parse_when_decimal_not_finite_or_too_precise_then_value_error(value: str) -> None:
    with pytest.raises(ValueError, match=r"finite|places|below"):
        Money.parse(Decimal(value))


def test_money_parse_when_int_then_whole_dollars() -> None:
    assert Money.parse(7) == Money(700)


def test_money_when_constructed_with_float_then_type_error() -> None:
    with pytest.raises(TypeError, match="cents must be an int"):
        Money(1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cents", "text"), [(1234, "12.34"), (5, "0.05"), (-5, "-0.05"), (1230, "12.30"), (0, "0.00")]
)
def test_money_str_when_formatted_then_always_two_places(cents: int, text: str) -> None:
    assert str(Money(cents)) == text


def test_money_arithmetic_when_money_and_int_then_exact() -> None:
    assert Money(150) + Money(25) == Money(175)
    assert Money(150) - Money(200) == Money(-50)
    assert Money(150) * 3 == Money(450)
    assert 3 * Money(150) == Money(450)
    assert -Money(150) == Money(-150)
    assert abs(Money(-150)) == Money(150)
    assert Money.zero() == Money(0)


@pytest.mark.parametrize("other", [1, 1.5, Decimal(1), Price(100), "1"])
def test_money_add_when_not_money_then_type_error(other: object) -> None:
    with pytest.raises(TypeError, match="unsupported operand"):
        Money(100) + other  # type: ignore[operator]
    with pytest.raises(TypeError, match=r"unsupported operand|can only concatenate"):
        other + Money(100)  # type: ignore[operator]


@pytest.mark.parametrize("factor", [1.5, True, Decimal(2), Money(2)])
def test_money_mul_when_not_int_then_type_error(factor: object) -> None:
    with pytest.raises(TypeError, match="unsupported operand"):
        Money(100) * factor  # type: ignore[operator]


def test_money_compare_when_other_type_then_type_error_or_unequal() -> None:
    assert Money(100) < Money(101)
    assert Money(100) != 100  # type: ignore[comparison-overlap]
    assert Money(100) != Price(100)  # type: ignore[comparison-overlap]
    with pytest.raises(TypeError, match="not supported"):
        _ = Money(100) < 101  # type: ignore[operator]


def test_money_to_decimal_when_converted_then_exact() -> None:
    assert Money(-1234).to_decimal() == Decimal("-12.34")


@pytest.mark.parametrize(
    ("text", "units"), [("12.5", 125_000), ("0.015", 150), ("12.3456", 123_456), ("-1", -10_000)]
)
def test_price_parse_when_plain_decimal_then_exact_units(text: str, units: int) -> None:
    assert Price.parse(text) == Price(units)


def test_price_parse_when_five_places_then_value_error() -> None:
    with pytest.raises(ValueError, match="more than 4 decimal places"):
        Price.parse("1.00001")


@pytest.mark.parametrize(
    ("units", "text"),
    [
        (125_000, "12.50"),
        (150, "0.015"),
        (123_456, "12.3456"),
        (1_000_000, "100.00"),
        (-5, "-0.0005"),
    ],
)
def test_price_str_when_formatted_then_minimal_places_but_at_least_two(
    units: int, text: str
) -> None:
    assert str(Price(units)) == text


def test_price_compare_when_prices_then_by_value() -> None:
    assert Price.parse("1.0001") > Price.parse("1")
    assert sorted([Price(3), Price(1), Price(2)]) == [Price(1), Price(2), Price(3)]


def test_price_notional_when_exact_cents_then_no_rounding() -> None:
    assert Price.parse("12.345").notional(3) == Money.parse("37.04")
    assert Price.parse("12.34").notional(100) == Money.parse("1234.00")


@pytest.mark.parametrize(
    ("price", "quantity", "rounding", "cents"),
    [
        ("0.005", 1, Rounding.HALF_EVEN, 0),
        ("0.015", 1, Rounding.HALF_EVEN, 2),
        ("0.005", 1, Rounding.HALF_UP, 1),
        ("0.0001", 1, Rounding.CEILING, 1),
        ("0.0099", 1, Rounding.FLOOR, 0),
        ("-0.0001", 1, Rounding.CEILING, 0),
        ("-0.0001", 1, Rounding.FLOOR, -1),
        ("0.0001", -1, Rounding.UP, -1),
        ("0.0099", -1, Rounding.DOWN, 0),
        ("0.005", -1, Rounding.HALF_DOWN, 0),
    ],
)
def test_price_notional_when_rounding_mode_given_then_applied(
    price: str, quantity: int, rounding: Rounding, cents: int
) -> None:
    assert Price.parse(price).notional(quantity, rounding) == Money(cents)


def test_price_notional_when_decimal_module_constant_then_accepted() -> None:
    assert Price(1).notional(1, "ROUND_CEILING") == Money(1)  # type: ignore[arg-type]


def test_price_notional_when_float_quantity_then_type_error() -> None:
    with pytest.raises(TypeError, match="quantity must be an int"):
        Price(100).notional(1.0)  # type: ignore[arg-type]


def test_pydantic_when_json_strings_then_parsed_and_dumped_canonically() -> None:
    order = Order.model_validate_json('{"limit_price": "12.5", "cash": "100"}')
    assert order.limit_price == Price(125_000)
    assert order.cash == Money(10_000)
    assert order.model_dump_json() == '{"limit_price":"12.50","cash":"100.00"}'
    assert order.model_dump() == {"limit_price": "12.50", "cash": "100.00"}


@pytest.mark.parametrize(
    "body",
    [
        '{"limit_price": 12.5, "cash": "1"}',
        '{"limit_price": 12, "cash": "1"}',
        '{"limit_price": "1", "cash": 1.5}',
        '{"limit_price": "1.00001", "cash": "1"}',
        '{"limit_price": "1", "cash": "NaN"}',
    ],
)
def test_pydantic_when_number_or_bad_string_then_validation_error(body: str) -> None:
    with pytest.raises(ValidationError):
        Order.model_validate_json(body)


def test_pydantic_when_python_objects_then_kept() -> None:
    order = Order(limit_price=Price(1), cash=Money(2))
    assert (order.limit_price, order.cash) == (Price(1), Money(2))
    with pytest.raises(ValidationError):
        Order(limit_price=Price(1), cash=1.5)


def test_pydantic_json_schema_when_generated_then_string_with_pattern() -> None:
    properties = Order.model_json_schema()["properties"]
    assert properties["cash"]["type"] == "string"
    assert properties["cash"]["pattern"] == r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$"
    assert properties["limit_price"]["pattern"] == r"^-?[0-9]{1,13}(\.[0-9]{1,4})?$"


@given(AMOUNTS)
def test_money_when_round_tripped_through_str_then_equal(cents: int) -> None:
    assert Money.parse(str(Money(cents))) == Money(cents)


@given(st.integers(min_value=-(10**17) + 1, max_value=10**17 - 1))
def test_price_when_round_tripped_through_str_then_equal(units: int) -> None:
    assert Price.parse(str(Price(units))) == Price(units)


@given(AMOUNTS, AMOUNTS, AMOUNTS)
def test_money_addition_when_regrouped_or_swapped_then_equal(a: int, b: int, c: int) -> None:
    x, y, z = Money(a), Money(b), Money(c)
    assert (x + y) + z == x + (y + z)
    assert x + y == y + x
    assert x + y - y == x


@given(
    st.integers(min_value=-(10**8), max_value=10**8),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.sampled_from(list(Rounding)),
)
def test_price_notional_when_compared_with_decimal_then_same_result(
    units: int, quantity: int, rounding: Rounding
) -> None:
    with localcontext() as context:
        context.prec = 100
        exact = Decimal(units * quantity) / PRICE_SCALE
        expected = exact.quantize(Decimal("0.01"), rounding=rounding.value)
    assert Price(units).notional(quantity, rounding).to_decimal() == expected
