"""A batch's rows written with one multi-row statement per table, from the desk's memory.

The desk already holds everything a batch changed: its new orders, the stored orders it
filled or cancelled, the risk state of every touched account and position, the last
sale of each traded symbol. Writing them through the ORM's unit of work cost a read per
account and position, an identity-map entry and change tracking per row, and one flush
that sorted it all out again. Here each table gets one ``executemany`` (its SQL compiled
once and cached): the rows' values come straight from memory, and only the stored cash
of the touched accounts is read, in one statement, for the cash journal.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Connection,
    Delete,
    Insert,
    Select,
    Table,
    Update,
    bindparam,
    delete,
    insert,
    select,
)
from sqlalchemy.orm import Session

from tradeguard.db.pipeline import Read, read_together
from tradeguard.risk.context import RiskContext
from tradeguard.trading.models import (
    ExecutionRow,
    InstrumentRow,
    OrderRow,
    PositionRow,
    TradingAccount,
)
from tradeguard.trading.orders.order_rows import order_row_of
from tradeguard.trading.orders.risk_state import account_values

ORDERS: Table = OrderRow.__table__  # type: ignore[assignment]
EXECUTIONS: Table = ExecutionRow.__table__  # type: ignore[assignment]
ACCOUNTS: Table = TradingAccount.__table__  # type: ignore[assignment]
POSITIONS: Table = PositionRow.__table__  # type: ignore[assignment]
INSTRUMENTS: Table = InstrumentRow.__table__  # type: ignore[assignment]

ORDER_COLUMNS = tuple(column.name for column in ORDERS.columns)
EXECUTION_COLUMNS = tuple(column.name for column in EXECUTIONS.columns)
_ORDER_VALUES = itemgetter(*ORDER_COLUMNS)
ORDER_CHANGES = (
    "quantity",
    "limit_price",
    "reserve_price",
    "filled_quantity",
    "filled_units",
    "status",
    "cancel_reason",
    "book_sequence",
    "updated_at_ns",
)
"""What a stored order can change after it is placed (modify, fills, cancellation)."""

Cash = tuple[int, int]
ObserveCash = Callable[[str, Cash, Cash], None]
"""Told each written account's settled and unsettled cash, before and after."""


def load_order(connection: Connection, order_id: str) -> OrderRow | None:
    """A stored order as a row outside the session (the batch writes it back itself)."""
    found = connection.execute(_select_order(), {"key_id": order_id}).one_or_none()
    return None if found is None else order_row_of(**found._asdict())


def insert_orders(connection: Connection, rows: Iterable[OrderRow]) -> None:
    """The batch's new orders, as they stand after the whole batch (fills included).

    A new row never enters the session and holds every column in its ``__dict__``
    (``order_row_of``): its values are read there as one tuple, without an instrumented
    attribute per value, and go to the driver as they are (plain str, int and None), so
    no statement is compiled and no parameter processed per row.
    """
    values = [_ORDER_VALUES(vars(row)) for row in rows]
    if values:
        sql = _positional_insert(ORDERS.name, ORDER_COLUMNS, connection.dialect.paramstyle)
        connection.exec_driver_sql(sql, values)


def detach_orders(db: Session, rows: Iterable[OrderRow]) -> list[dict[str, Any]]:
    """The changes of stored orders the batch read or changed, for ``update_orders``.

    Any of them in the session leaves it: the batch writes them itself.
    """
    values = []
    for row in rows:
        change = {name: getattr(row, name) for name in ORDER_CHANGES}
        change["key_id"] = row.id
        values.append(change)
        if row in db:
            db.expunge(row)
    return values


def update_orders(connection: Connection, changes: list[dict[str, Any]]) -> None:
    """Write the stored orders' changes (``detach_orders``)."""
    _execute_many(connection, _update_by_id(ORDERS), changes)


def insert_executions(connection: Connection, rows: Iterable[ExecutionRow]) -> None:
    """The batch's executions (after its orders: they refer to them)."""
    values = [{name: getattr(row, name) for name in EXECUTION_COLUMNS} for row in rows]
    if values:
        connection.execute(_insert(EXECUTIONS), values)


@dataclass(frozen=True, slots=True)
class Stored:
    """What the batch's writes depend on, read before any of them is sent.

    Which touched positions are stored (updated or deleted rather than inserted), and
    each touched account's stored cash (the journal posts the change from it).
    """

    positions: set[tuple[str, str]]
    cash: dict[str, Cash]


def read_stored(
    connection: Connection,
    account_ids: Collection[str],
    positions: Collection[tuple[str, str]],
    lock: str,
) -> tuple[Stored, Any]:
    """The stored state the writes of these accounts and positions depend on, then ``lock``.

    ``lock`` is a read without parameters that takes a lock (the audit sequencer's); its
    row is returned. On PostgreSQL the reads go in one round trip.
    """
    owners = sorted({account_id for account_id, _ in positions})
    accounts = sorted(account_ids)
    if connection.dialect.name != "postgresql":
        stored = Stored(
            _stored_positions(connection, owners) if owners else set(),
            _stored_cash(connection, accounts) if accounts else {},
        )
        return stored, connection.exec_driver_sql(lock).one_or_none()
    reads: list[Read] = []
    if owners:
        reads.append((_STORED_POSITIONS, {"ids": owners}))
    if accounts:
        reads.append((_STORED_CASH, {"ids": accounts}))
    answers = iter(read_together(connection, [*reads, (lock, None)]))
    position_rows = next(answers) if owners else []
    cash_rows = next(answers) if accounts else []
    lock_rows = next(answers)  # none on a trail that has no head row yet
    stored = Stored(
        {(row.account_id, row.symbol) for row in position_rows},
        {row.id: (row.settled_cash_cents, row.unsettled_cash_cents) for row in cash_rows},
    )
    return stored, lock_rows[0] if lock_rows else None


def write_accounts(  # noqa: PLR0913 - the rows, from memory, against what is stored
    connection: Connection,
    risk: RiskContext,
    account_ids: Collection[str],
    stored: Stored,
    *,
    now_ns: int,
    observe: ObserveCash,
) -> None:
    """Each touched account's row from its risk state; ``observe`` sees its cash change."""
    if not account_ids:
        return
    window = risk.limits.pdt_window_business_days
    values = []
    for account_id in account_ids:
        row = account_values(risk.accounts[account_id], now_ns, window)
        after = row["settled_cash_cents"], row["unsettled_cash_cents"]
        observe(account_id, stored.cash[account_id], after)
        row["key_id"] = account_id
        values.append(row)
    connection.execute(_update_by_id(ACCOUNTS), values)


def write_positions(
    connection: Connection,
    risk: RiskContext,
    touched: Collection[tuple[str, str]],
    stored: Stored,
    now_ns: int,
) -> None:
    """Each touched position as memory holds it: inserted, updated, or deleted when flat."""
    inserts, updates, deletes = [], [], []
    for account_id, symbol in touched:
        position = risk.accounts[account_id].positions.get(symbol)
        key = {"key_account": account_id, "key_symbol": symbol}
        if position is None or position.quantity == 0:
            if (account_id, symbol) in stored.positions:
                deletes.append(key)
            continue
        values = {
            "quantity": position.quantity,
            "cost_cents": position.cost_cents,
            "updated_at_ns": now_ns,
        }
        if (account_id, symbol) in stored.positions:
            updates.append(values | key)
        else:
            inserts.append(values | {"account_id": account_id, "symbol": symbol})
    _execute_many(connection, _delete_positions(), deletes)
    _execute_many(connection, _update_positions(), updates)
    _execute_many(connection, _insert(POSITIONS), inserts)


def write_references(connection: Connection, marks: dict[str, tuple[int, int]]) -> None:
    """The last sale of each traded symbol (price and time) on its stored instrument."""
    values = [
        {"key_id": symbol, "reference_price": price, "reference_at_ns": at_ns}
        for symbol, (price, at_ns) in marks.items()
    ]
    _execute_many(connection, _update_by_id(INSTRUMENTS, key="symbol"), values)


def _stored_cash(connection: Connection, account_ids: list[str]) -> dict[str, Cash]:
    query = select(
        ACCOUNTS.c.id, ACCOUNTS.c.settled_cash_cents, ACCOUNTS.c.unsettled_cash_cents
    ).where(ACCOUNTS.c.id.in_(account_ids))
    return {row[0]: (row[1], row[2]) for row in connection.execute(query)}


def _stored_positions(connection: Connection, account_ids: list[str]) -> set[tuple[str, str]]:
    query = select(POSITIONS.c.account_id, POSITIONS.c.symbol).where(
        POSITIONS.c.account_id.in_(account_ids)
    )
    return {(row[0], row[1]) for row in connection.execute(query)}


_STORED_CASH = (
    f"SELECT id, settled_cash_cents, unsettled_cash_cents FROM {ACCOUNTS.name} "  # noqa: S608 - the table's own name
    "WHERE id = ANY(%(ids)s)"
)
_STORED_POSITIONS = (
    f"SELECT account_id, symbol FROM {POSITIONS.name} WHERE account_id = ANY(%(ids)s)"  # noqa: S608 - the table's own name
)
"""The same reads in psycopg's style, sent together (``read_together``)."""


def _execute_many(
    connection: Connection, statement: Insert | Update | Delete, values: list[dict[str, Any]]
) -> None:
    if values:
        connection.execute(statement, values)


@cache
def _select_order() -> Select[Any]:
    return select(ORDERS).where(ORDERS.c.id == bindparam("key_id"))


@cache
def _positional_insert(table: str, columns: tuple[str, ...], paramstyle: str) -> str:
    """An INSERT of ``columns`` with the driver's positional markers (values as tuples)."""
    marker = "%s" if paramstyle in {"pyformat", "format"} else "?"
    markers = ", ".join(marker for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({markers})"  # noqa: S608 - the table's own names


@cache
def _insert(table: Table) -> Insert:
    return insert(table)


@cache
def _update_by_id(table: Table, key: str = "id") -> Update:
    """UPDATE where ``key`` equals the parameter ``key_id``, setting the other parameters."""
    return table.update().where(table.c[key] == bindparam("key_id"))


@cache
def _update_positions() -> Update:
    return (
        POSITIONS.update()
        .where(POSITIONS.c.account_id == bindparam("key_account"))
        .where(POSITIONS.c.symbol == bindparam("key_symbol"))
    )


@cache
def _delete_positions() -> Delete:
    return delete(POSITIONS).where(
        POSITIONS.c.account_id == bindparam("key_account"),
        POSITIONS.c.symbol == bindparam("key_symbol"),
    )
