"""Bulk reads of the trail below the ORM: the verifiers stream millions of rows."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from sqlalchemy import Engine

FETCH_BATCH = 20_000


def fetch_batches(
    engine: Engine, query: str, params: Sequence[object] = ()
) -> Generator[Sequence[Sequence[Any]], None, None]:
    """Rows of ``query`` in batches; ``{}`` in the query marks a parameter.

    PostgreSQL reads through a server-side cursor in binary format (bytea arrives
    without hex decoding); SQLite's cursor streams by itself.
    """
    connection = engine.raw_connection()
    postgres = engine.dialect.name == "postgresql"
    cursor = connection.cursor(name="audit_rows", binary=True) if postgres else connection.cursor()
    try:
        cursor.execute(query.replace("{}", "%s" if postgres else "?"), tuple(params))
        while batch := cursor.fetchmany(FETCH_BATCH):
            yield batch
    finally:
        cursor.close()
        connection.close()
