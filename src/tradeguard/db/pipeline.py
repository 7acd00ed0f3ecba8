"""Statements that read nothing back, sent to PostgreSQL with their commit at once.

A statement waits for its answer before the next one is sent: a transaction of five
statements and a commit is six round trips to the server. On a loaded machine each one
also waits for the server's process and then this one to be scheduled again. In
psycopg's pipeline mode, statements are queued on the connection and the commit sends
them together and waits once for every answer. An error in any of them aborts the
transaction, and the commit raises it.

Only statements whose results are not read belong in ``sent_together``'s block.
SQLAlchemy reads a result's description as soon as a statement is sent, before a
pipeline has received it, so a SELECT in the block would find no rows. A row count is
not known until the commit either. Reads that do not depend on one another go through
``read_together`` instead: it sends them in a pipeline of their own and reads their rows
from the driver once all are answered. (A transaction's BEGIN is not saved this way:
psycopg sends it and waits for its answer before the pipeline's first statement.)
SQLite has no round trips; there both run statement by statement.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

Read = tuple[str, Mapping[str, Any] | None]
"""A statement in the driver's own parameter style, and its parameters."""


@contextmanager
def sent_together(connection: Connection) -> Iterator[None]:
    """Queue the block's statements (PostgreSQL); a commit in it sends and waits for all."""
    if connection.dialect.name != "postgresql":
        yield
        return
    driver = connection.connection.driver_connection
    with driver.pipeline():  # type: ignore[union-attr] # psycopg's connection
        yield


def read_together(connection: Connection, reads: Sequence[Read]) -> list[Sequence[Any]]:
    """The rows of each read, whose columns are attributes as on SQLAlchemy's rows.

    On PostgreSQL all of them go in one round trip and their rows are read straight
    from the driver: no result metadata is built for them. A failure is raised as
    SQLAlchemy raises it (a ``DBAPIError``), and a connection found lost is invalidated,
    as SQLAlchemy does. Elsewhere each read runs in turn.
    """
    driver = connection.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        return [connection.exec_driver_sql(sql, params).all() for sql, params in reads]
    try:
        with ExitStack() as cursors:
            sent = [cursors.enter_context(driver.cursor(row_factory=namedtuple_row)) for _ in reads]
            with driver.pipeline():
                for cursor, (sql, params) in zip(sent, reads, strict=True):
                    cursor.execute(sql, params)
            return [cursor.fetchall() for cursor in sent]
    except psycopg.Error as error:
        raise _as_sqlalchemy_error(connection, [sql for sql, _ in reads], error) from error


def _as_sqlalchemy_error(
    connection: Connection, statements: list[str], error: psycopg.Error
) -> BaseException:
    lost = connection.dialect.is_disconnect(error, connection.connection.dbapi_connection, None)  # type: ignore[arg-type] # psycopg's error is the DB-API's
    if lost:
        connection.invalidate(error)
    return DBAPIError.instance(
        "; ".join(statements),
        None,
        error,
        psycopg.Error,
        connection_invalidated=lost,
        dialect=connection.dialect,
    )
