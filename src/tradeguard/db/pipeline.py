"""Statements that read nothing back, sent to PostgreSQL with their commit at once.

A statement waits for its answer before the next one is sent: a transaction of five
statements and a commit is six round trips to the server. On a loaded machine each one
also waits for the server's process and then this one to be scheduled again. In
psycopg's pipeline mode, statements are queued on the connection and the commit sends
them together and waits once for every answer. An error in any of them aborts the
transaction, and the commit raises it.

Only statements whose results are not read belong in the block. SQLAlchemy reads a
result's description as soon as a statement is sent, before a pipeline has received
it, so a SELECT in the block would find no rows. A row count is not known until the
commit either. SQLite has no round trips; there the block runs as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection


@contextmanager
def sent_together(connection: Connection) -> Iterator[None]:
    """Queue the block's statements (PostgreSQL); a commit in it sends and waits for all."""
    if connection.dialect.name != "postgresql":
        yield
        return
    driver = connection.connection.driver_connection
    with driver.pipeline():  # type: ignore[union-attr] # psycopg's connection
        yield
