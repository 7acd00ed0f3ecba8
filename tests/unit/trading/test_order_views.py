"""The feed's order and execution JSON is exactly the API's views, whatever the state."""

from __future__ import annotations

import pytest

from tradeguard.trading.models import ExecutionRow, OrderRow
from tradeguard.trading.orders.order_rows import order_row_of
from tradeguard.trading.orders.views import (
    execution_json,
    execution_view,
    order_json,
    order_status,
    order_view,
)

CREATED_NS = 1_795_000_000_123_456_789


def _row(**changes: object) -> OrderRow:
    values: dict[str, object] = {
        "id": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "account_id": "acct",
        "client_order_id": "c-1",
        "symbol": "AAPL",
        "side": "buy",
        "type": "limit",
        "time_in_force": "day",
        "quantity": 10,
        "limit_price": 2_295_000,
        "placed_quantity": 10,
        "placed_limit_price": 2_295_000,
        "reserve_price": 2_295_000,
        "filled_quantity": 0,
        "filled_units": 0,
        "status": "open",
        "cancel_reason": None,
        "book_sequence": 1,
        "created_at_ns": CREATED_NS,
        "updated_at_ns": CREATED_NS + 1_000_000_001,
        "placed_via": "session",
    }
    row = order_row_of(**(values | changes))
    row.status = order_status(row)
    return row


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"filled_quantity": 3, "filled_units": 3 * 2_290_000 + 1},
        {"filled_quantity": 10, "filled_units": 10 * 2_295_000},
        {"cancel_reason": "user", "filled_quantity": 2, "filled_units": 2 * 2_291_234},
        {"type": "market", "time_in_force": "ioc", "limit_price": None, "side": "sell_short"},
    ],
)
def test_order_json_when_built_directly_then_equals_the_views_json(
    changes: dict[str, object],
) -> None:
    row = _row(**changes)

    assert order_json(row) == order_view(row).model_dump(mode="json")


def test_order_row_of_when_values_change_later_then_reads_see_them() -> None:
    row = _row()

    row.filled_quantity += 4

    assert (row.filled_quantity, row.quantity, row.symbol) == (4, 10, "AAPL")


@pytest.mark.parametrize(("side", "liquidity"), [("buy", "maker"), ("sell_short", "taker")])
def test_execution_json_when_built_directly_then_equals_the_views_json(
    side: str, liquidity: str
) -> None:
    row = ExecutionRow(
        id="0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
        trade_sequence=7,
        order_id="0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        account_id="acct",
        symbol="AAPL",
        side=side,
        quantity=3,
        price=2_290_001,
        liquidity=liquidity,
        executed_at_ns=CREATED_NS,
    )

    assert execution_json(row) == execution_view(row).model_dump(mode="json")
