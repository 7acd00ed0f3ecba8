"""Helpers for the matching engine tests: order builders and a summary of fills."""

from __future__ import annotations

from dataclasses import replace

from tradeguard.core.money import Price
from tradeguard.trading.matching.engine import (
    Order,
    OrderBook,
    OrderType,
    Side,
    SubmitResult,
    TimeInForce,
)

SYMBOL = "ACME"
BUY, SELL, SELL_SHORT = Side.BUY, Side.SELL, Side.SELL_SHORT


def limit(
    order_id: str,
    side: Side,
    quantity: int,
    price: str,
    account: str = "alice",
) -> Order:
    return Order(
        order_id=order_id,
        symbol=SYMBOL,
        account=account,
        side=side,
        quantity=quantity,
        limit_price=Price.parse(price),
    )


def lasting(order: Order, time_in_force: TimeInForce) -> Order:
    return replace(order, time_in_force=time_in_force)


def market(order_id: str, side: Side, quantity: int, account: str = "alice") -> Order:
    return Order(
        order_id=order_id,
        symbol=SYMBOL,
        account=account,
        side=side,
        quantity=quantity,
        order_type=OrderType.MARKET,
    )


def book_with(*orders: Order) -> OrderBook:
    book = OrderBook(SYMBOL)
    for order in orders:
        book.submit(order)
    return book


def trades(result: SubmitResult) -> list[tuple[str, str, str, int]]:
    """(maker, taker, price, quantity) of each fill, in order."""
    return [
        (fill.maker_order_id, fill.taker_order_id, str(fill.price), fill.quantity)
        for fill in result.fills
    ]
