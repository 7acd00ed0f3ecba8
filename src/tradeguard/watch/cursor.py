"""The durable cursor: read events after it, advance it in the same transaction as alerts.

The audit sequencer commits events in sequence order with no gaps (one writer at a
time holds its lock until commit), so "every event with a sequence number above the
cursor" is exactly what a watcher has not yet processed.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.search import AuditEvent, trusted_event
from tradeguard.watch.models import WatchCursorRow

LOCK_TIMEOUT = "SET LOCAL lock_timeout = '500ms'"


def give_way(db: Session) -> None:
    """On PostgreSQL, wait at most 500 ms for a lock (less than the deadlock timeout).

    A watcher then gives way to schema changes and to the domains' transactions instead
    of holding its locks while it waits.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text(LOCK_TIMEOUT))


def locked_cursor(db: Session, name: str, now_ns: int) -> WatchCursorRow:
    """The cursor row of ``name`` (created at 0), locked for this transaction on PostgreSQL."""
    give_way(db)
    query = select(WatchCursorRow).where(WatchCursorRow.name == name).with_for_update()
    row = db.scalars(query).one_or_none()
    if row is None:
        row = WatchCursorRow(name=name, seq=0, ts_ns=0, updated_at_ns=now_ns)
        db.add(row)
        db.flush()
    return row


def cursor_position(db: Session, name: str) -> int:
    """Where ``name`` stands (0 before its first batch)."""
    return db.scalar(select(WatchCursorRow.seq).where(WatchCursorRow.name == name)) or 0


def head_seq(db: Session) -> int:
    """The last committed audit sequence number (0 for an empty trail)."""
    return db.scalar(select(func.max(AuditEventRow.seq))) or 0


def events_between(
    db: Session, after: int, through: int, types: frozenset[str] | None = None
) -> list[AuditEvent]:
    """Events with ``after < seq <= through`` (of ``types`` only, when given), in order."""
    query = select(AuditEventRow.seq, AuditEventRow.record).where(
        AuditEventRow.seq > after, AuditEventRow.seq <= through
    )
    if types is not None:
        query = query.where(AuditEventRow.event_type.in_(sorted(types)))
    rows = db.execute(query.order_by(AuditEventRow.seq)).all()
    return [event for event in (trusted_event(seq, bytes(record)) for seq, record in rows) if event]


def events_since(
    db: Session, since_ns: int, through: int, types: frozenset[str], page: int = 5000
) -> Iterator[AuditEvent]:
    """Events of ``types`` from time ``since_ns`` up to ``through``: a watcher's warm-up."""
    first = db.scalar(
        select(func.min(AuditEventRow.seq)).where(
            AuditEventRow.ts_ns >= since_ns, AuditEventRow.seq <= through
        )
    )
    if first is None:
        return
    after = first - 1
    while after < through:
        upto = min(after + page, through)
        yield from events_between(db, after, upto, types)
        after = upto
