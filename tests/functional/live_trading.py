"""Helpers of the tests against a live trading server: a scratch PostgreSQL database per
server, the instruments worth trading, and what open orders reserve."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from support import POSTGRES_ADMIN_URL, require_service
from tradeguard.core.money import Price

UNTHROTTLED_ORDER_ENTRY = {
    # One user sends hundreds of orders a minute here; the desk's own limits stay as they are.
    "RATE_LIMIT_USER_ORDER_ENTRY": "100000/minute",
    "RATE_LIMIT_IP_ORDER_ENTRY": "100000/minute",
    "RATE_LIMIT_USER_READ": "100000/minute",
    "RATE_LIMIT_IP_READ": "100000/minute",
}
"""Server settings of the live trading tests (``.env`` names without the prefix)."""


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one server; dropped afterwards."""
    admin = make_url(POSTGRES_ADMIN_URL)
    name = f"tradeguard_live_{uuid.uuid4().hex[:12]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        require_service(f"PostgreSQL not reachable at {admin.host}:{admin.port}: {exc}")
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def tradable(listing: list[dict[str, Any]]) -> dict[str, Price]:
    """Active, unrestricted, easy-to-borrow instruments in whole shares and cents, to $250."""
    found = {}
    for item in listing:
        price = item["reference_price"]
        if (
            price is not None
            and item["status"] == "active"
            and not item["restricted"]
            and item["easy_to_borrow"]
            and item["lot_size"] == 1
            and item["tick_size"] == "0.01"
            and Price.parse(price) <= Price.parse("250.00")
        ):
            found[item["symbol"]] = Price.parse(price)
    return found


def reserved_by(orders: list[dict[str, Any]]) -> int:
    """Cents the open buy orders hold: their remaining shares at their limit (whole cents)."""
    return sum(
        Price.parse(order["limit_price"]).units * order["remaining_quantity"] // 100
        for order in orders
        if order["side"] == "buy"
    )
