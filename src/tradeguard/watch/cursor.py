"""The durable cursor: read events after it, advance it in the same transaction as alerts.

The audit sequencer commits events in sequence order with no gaps (one writer at a
time holds its lock until commit), so "every event with a sequence number above the
cursor" is exactly what a watcher has not yet processed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from tradeguard.audit.head import head_sequence
from tradeguard.audit.models import EVENTS
from tradeguard.audit.search import AuditEvent, trusted_event
from tradeguard.watch.models import WatchCursorRow

LOCK_TIMEOUT = text("SET LOCAL lock_timeout = '500ms'")
# Built once over the tables (not the ORM classes): the watchers run these many times a
# second, and a statement built per call is hashed for SQLAlchemy's compiled cache on
# every execution, an ORM one set up for the ORM besides.
CURSORS = cast("Table", WatchCursorRow.__table__)
POSITIONS = select(CURSORS.c.name, CURSORS.c.seq).where(
    CURSORS.c.name.in_(bindparam("names", expanding=True))
)
LOCKED_MANY = (
    select(CURSORS.c.name, CURSORS.c.seq, CURSORS.c.ts_ns)
    .where(CURSORS.c.name.in_(bindparam("names", expanding=True)))
    .order_by(CURSORS.c.name)
    .with_for_update()
)
CREATE = insert(CURSORS).values(seq=0, ts_ns=0)
MOVE = (
    update(CURSORS)
    .where(CURSORS.c.name == bindparam("cursor"))
    .values(seq=bindparam("to_seq"), ts_ns=bindparam("to_ts_ns"), updated_at_ns=bindparam("at"))
)
BETWEEN = (
    select(EVENTS.c.seq, EVENTS.c.record)
    .where(EVENTS.c.seq > bindparam("after"), EVENTS.c.seq <= bindparam("through"))
    .order_by(EVENTS.c.seq)
)
# The type is tested as an expression, not the column, so that no database reads a batch
# through the (event type, time) index: SQLite did, walking every event of those types in
# the whole trail and sorting them, then keeping the batch's few, a round's cost growing
# with the trail. Through the sequence's key the batch reads only its own range.
BETWEEN_OF_TYPES = BETWEEN.where(
    EVENTS.c.event_type.concat("").in_(bindparam("types", expanding=True))
)
# Likewise the warm-up's first event is the least of an expression, so that it is found
# through the time index (the warm-up's window) rather than by walking the sequence's key
# from the first event of the trail.
FIRST_SINCE = select(func.min(EVENTS.c.seq + 0)).where(
    EVENTS.c.ts_ns >= bindparam("since"), EVENTS.c.seq <= bindparam("through")
)


@dataclass(frozen=True, slots=True)
class Standing:
    """Where things stand: the head of the trail and the position of each cursor read."""

    head: int
    positions: Mapping[str, int]

    def position(self, name: str) -> int:
        """Where cursor ``name`` stands (0 before its first batch)."""
        return self.positions.get(name, 0)

    def lag(self, name: str) -> int:
        """Events committed to the trail that cursor ``name`` has not passed."""
        return max(self.head - self.position(name), 0)


def standing(db: Session, names: Sequence[str]) -> Standing:
    """The head and the positions of the cursors ``names``: two reads, no lock."""
    head = head_sequence(db)
    return Standing(head, dict(db.execute(POSITIONS, {"names": list(names)}).all()))


@dataclass(frozen=True, slots=True)
class Cursor:
    """A cursor row locked for the transaction that read it: where it stood then."""

    name: str
    seq: int
    ts_ns: int
    """The audit timestamp of the event at ``seq`` (the replay start after a restart)."""

    def move(self, db: Session, seq: int, ts_ns: int, now_ns: int) -> Cursor:
        """Move the cursor to ``seq`` (whose event has ``ts_ns``) in this transaction."""
        db.execute(MOVE, {"cursor": self.name, "to_seq": seq, "to_ts_ns": ts_ns, "at": now_ns})
        return Cursor(self.name, seq, ts_ns)


def give_way(db: Session) -> None:
    """On PostgreSQL, wait at most 500 ms for a lock (less than the deadlock timeout).

    A watcher then gives way to schema changes and to the domains' transactions instead
    of holding its locks while it waits.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(LOCK_TIMEOUT)


def locked_cursor(db: Session, name: str, now_ns: int) -> Cursor:
    """The cursor of ``name`` (created at 0), its row locked for this transaction on PostgreSQL."""
    [cursor] = locked_cursors(db, [name], now_ns)
    return cursor


def locked_cursors(db: Session, names: Sequence[str], now_ns: int) -> list[Cursor]:
    """The cursors of ``names`` in that order (created at 0), their rows locked on PostgreSQL.

    One statement for all of them; their rows are locked in name order, the same order
    for every process, so two rounds never wait on each other in a circle.
    """
    give_way(db)
    found = {
        row.name: Cursor(row.name, row.seq, row.ts_ns)
        for row in db.execute(LOCKED_MANY, {"names": list(names)})
    }
    for name in names:
        if name not in found:
            db.execute(CREATE, {"name": name, "updated_at_ns": now_ns})
            found[name] = Cursor(name, 0, 0)
    return [found[name] for name in names]


def events_between(
    db: Session, after: int, through: int, types: frozenset[str] | None = None
) -> list[AuditEvent]:
    """Events with ``after < seq <= through`` (of ``types`` only, when given), in order."""
    bounds = {"after": after, "through": through}
    if types is None:
        rows = db.execute(BETWEEN, bounds).all()
    else:
        rows = db.execute(BETWEEN_OF_TYPES, bounds | {"types": sorted(types)}).all()
    return [event for event in (trusted_event(seq, bytes(record)) for seq, record in rows) if event]


def events_since(
    db: Session, since_ns: int, through: int, types: frozenset[str], page: int = 5000
) -> Iterator[AuditEvent]:
    """Events of ``types`` from time ``since_ns`` up to ``through``: a watcher's warm-up."""
    first = db.scalar(FIRST_SINCE, {"since": since_ns, "through": through})
    if first is None:
        return
    after = first - 1
    while after < through:
        upto = min(after + page, through)
        yield from events_between(db, after, upto, types)
        after = upto
