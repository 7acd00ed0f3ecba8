"""New orders as asked and as stored: the ask, its row, its terms in audit events.

Pure helpers of the desk (``desk.py``): the risk request of an ask, the order row it
becomes, the stored order a repeated client order id names, and the terms an audit
event carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, configure_mappers
from sqlalchemy.orm.instrumentation import manager_of_class

from tradeguard.access.caller import Caller
from tradeguard.core.money import Price
from tradeguard.risk.model import OrderRequest
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.trading.models import OrderRow
from tradeguard.trading.orders.problems import TradingReason, order_conflict

_ORDER_ROWS = manager_of_class(OrderRow)
PRICE_TEXTS = 4096


@dataclass(frozen=True, slots=True)
class OrderAsk:
    """A new order as the caller asked for it (prices in 1/10,000 dollar)."""

    client_order_id: str
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    quantity: int
    limit_price: int | None


def placed_via(caller: Caller) -> str:
    """How the caller places orders: ``session``, or its API key's public id."""
    return caller.principal.api_key_id or "session"


def new_order_row(  # noqa: PLR0913 - an accepted order's own terms
    order_id: str, account_id: str, ask: OrderAsk, *, via: str, reserve_price: int, now_ns: int
) -> OrderRow:
    """The row of a new, accepted order (reserving at ``reserve_price``): nothing filled yet."""
    return order_row_of(
        id=order_id,
        account_id=account_id,
        client_order_id=ask.client_order_id,
        symbol=ask.symbol,
        side=ask.side.value,
        type=ask.type.value,
        time_in_force=ask.time_in_force.value,
        quantity=ask.quantity,
        limit_price=ask.limit_price,
        placed_quantity=ask.quantity,
        placed_limit_price=ask.limit_price,
        reserve_price=reserve_price,
        filled_quantity=0,
        filled_units=0,
        status="open",
        cancel_reason=None,
        book_sequence=0,
        created_at_ns=now_ns,
        updated_at_ns=now_ns,
        placed_via=via,
    )


def order_row_of(**values: Any) -> OrderRow:  # noqa: ANN401 - the columns' own types
    """An order row outside any session, from all its columns' values.

    The desk keeps new and changed orders out of the session and writes them itself
    (``batch_rows``), so their values go in as they are: no change tracking on the way.
    """
    if not _ORDER_ROWS.mapper.configured:  # the constructor would configure it first
        configure_mappers()
    row: OrderRow = _ORDER_ROWS.new_instance()
    vars(row).update(values)
    return row


def request_of_ask(account_id: str, ask: OrderAsk) -> OrderRequest:
    """The pre-trade checks' request for ``ask`` by ``account_id``."""
    return OrderRequest(
        account_id=account_id,
        symbol=ask.symbol,
        side=ask.side,
        type=ask.type,
        quantity=ask.quantity,
        limit_price=ask.limit_price,
        tif=ask.time_in_force,
        client_order_id=ask.client_order_id,
    )


def stored_by_client_id(db: Session, account_id: str, client_order_id: str) -> OrderRow | None:
    """The stored order of the account with this client order id, if any."""
    query = select(OrderRow).where(
        OrderRow.account_id == account_id, OrderRow.client_order_id == client_order_id
    )
    return db.scalars(query).one_or_none()


def same_terms(row: OrderRow, ask: OrderAsk) -> OrderRow:
    """The stored order if ``ask`` repeats the terms it was placed with, else a 409."""
    placed = (row.symbol, row.side, row.type, row.time_in_force, row.placed_quantity)
    asked = (ask.symbol, ask.side.value, ask.type.value, ask.time_in_force.value, ask.quantity)
    if placed != asked or row.placed_limit_price != ask.limit_price:
        raise order_conflict(
            TradingReason.CLIENT_ORDER_ID_REUSED,
            "that client order id belongs to an order with other terms",
        )
    return row


def placed_terms(account_id: str, ask: OrderAsk, via: str) -> dict[str, Any]:
    """What ``order.placed`` records of an order: from its ask, not read back from its row."""
    return {
        "account": account_id,
        "client_order_id": ask.client_order_id,
        "symbol": ask.symbol,
        "side": ask.side.value,
        "type": ask.type.value,
        "time_in_force": ask.time_in_force.value,
        "quantity": ask.quantity,
        "limit_price": price_text(ask.limit_price),
        "via": via,
    }


def request_terms(request: OrderRequest) -> dict[str, Any]:
    """What a denial records of the request."""
    return {
        "account": request.account_id,
        "client_order_id": request.client_order_id,
        "symbol": request.symbol,
        "side": request.side.value,
        "type": request.type.value,
        "time_in_force": request.tif.value,
        "quantity": request.quantity,
        "limit_price": price_text(request.limit_price),
    }


@lru_cache(maxsize=PRICE_TEXTS)
def price_text(units: int | None) -> str | None:
    """A price as the API and the audit events write it.

    The recent ones are kept: orders cluster around a few prices, and every order event
    writes one.
    """
    return None if units is None else str(Price(units))
