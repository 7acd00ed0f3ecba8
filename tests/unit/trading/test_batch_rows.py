"""What a batch reads before its writes: stored positions and cash, and the head's lock."""

from __future__ import annotations

from support import TestDatabase
from tradeguard.audit.recorder import head_lock_sql
from tradeguard.trading.orders.batch_rows import Stored, read_stored


def test_a_trail_without_a_head_row_yet_reads_no_head(clean_database: TestDatabase) -> None:
    with clean_database.engine.begin() as connection:
        lock = head_lock_sql(connection.dialect.name)
        stored, head = read_stored(connection, [], [], lock)
        assert (stored, head) == (Stored(set(), {}), None)
        unknown = read_stored(connection, ["no-such-account"], [("no-such-account", "ACME")], lock)
    assert unknown == (Stored(set(), {}), None)
