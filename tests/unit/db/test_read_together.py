"""Reads sent together: one round trip on PostgreSQL, errors as SQLAlchemy raises them."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.pq import Trace
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from support import TestDatabase
from tradeguard.db.pipeline import read_together


@pytest.fixture
def connection(database: TestDatabase) -> Iterator[Connection]:
    with database.engine.connect() as connection:
        yield connection


@pytest.fixture
def postgres(connection: Connection, database: TestDatabase) -> Connection:
    if database.backend != "postgresql":
        pytest.skip("SQLite has no round trips to save")
    return connection


def test_each_reads_rows_come_back_in_order_with_their_columns_as_attributes(
    connection: Connection,
) -> None:
    with connection.begin():
        numbers, letters = read_together(
            connection, [("SELECT 1 AS one, 2 AS two", None), ("SELECT 'a' AS letter", None)]
        )
    assert [(row.one, row.two) for row in numbers] == [(1, 2)]
    assert [row.letter for row in letters] == ["a"]


def test_on_postgresql_every_read_is_sent_before_any_answer_is_awaited(
    postgres: Connection,
) -> None:
    with postgres.begin():
        postgres.exec_driver_sql("SELECT 0")  # the transaction is open: its BEGIN is behind
        driver = postgres.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        with tempfile.TemporaryFile("w+") as trace:
            driver.pgconn.trace(trace.fileno())
            driver.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)
            try:
                answers = read_together(
                    postgres,
                    [
                        ("SELECT %(n)s::int AS n", {"n": 1}),
                        ("SELECT %(n)s::int AS n", {"n": 2}),
                        ("SELECT %(n)s::int AS n", {"n": 3}),
                    ],
                )
            finally:
                driver.pgconn.untrace()
            trace.seek(0)
            messages = [line.split("\t")[0] + " " + line.split("\t")[2] for line in trace]
    assert [[row.n for row in rows] for rows in answers] == [[1], [2], [3]]
    first_answer = next(i for i, message in enumerate(messages) if message.startswith("B"))
    sent = messages[:first_answer]
    assert sum(message == "F Execute" for message in sent) == 3  # all three went out first
    assert sum(message.startswith("F Sync") for message in messages) == 1  # one round trip


def test_a_failed_read_is_raised_as_sqlalchemy_raises_it(postgres: Connection) -> None:
    transaction = postgres.begin()
    with pytest.raises(ProgrammingError):
        read_together(postgres, [("SELECT 1", None), ("SELECT * FROM no_such_table", None)])
    transaction.rollback()
    assert postgres.exec_driver_sql("SELECT 1").scalar_one() == 1  # the connection goes on


def test_a_connection_lost_under_the_reads_is_invalidated(
    postgres: Connection, database: TestDatabase
) -> None:
    backend = postgres.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    postgres.commit()
    with database.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    postgres.begin()
    with pytest.raises(DBAPIError) as raised:
        read_together(postgres, [("SELECT 1", None)])
    assert raised.value.connection_invalidated
    assert postgres.invalidated
