"""The one audit write path: ``audit.record(session, event_type, actor, ...)``.

Events are written in the caller's transaction, so an event commits with the
change it describes or not at all. One sequencer orders them: the first event of
a transaction takes a lock (a transaction-scoped advisory lock on PostgreSQL, the
database write lock on SQLite) that is held until commit, then numbers, hashes
and chains each event. Every ``checkpoint_events`` events, or when
``checkpoint_seconds`` have passed, a signed checkpoint is written in the same
transaction and appended to the witness once the transaction commits.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, cast

from sqlalchemy import Table, event, insert, select, text
from sqlalchemy.orm import Session

from tradeguard.audit.checkpoints import Checkpoint, Witness, WitnessError, sign_checkpoint
from tradeguard.audit.merkle import CompactTree
from tradeguard.audit.models import EVENTS, AuditCheckpointRow, AuditEventRow, AuditHeadRow
from tradeguard.audit.records import (
    GENESIS_CHAIN,
    Actor,
    EventRecord,
    personal_context,
    record_hashes,
)
from tradeguard.core.canonical_json import canonical_dumps
from tradeguard.core.clock import NS_PER_SECOND, Clock
from tradeguard.core.ids import generator_for
from tradeguard.crypto.keyring import DataClass
from tradeguard.crypto.signing import SigningKeyManager, SigningPurpose
from tradeguard.crypto.subjects import SubjectKeys
from tradeguard.logs import get_logger

STATE_KEY = "tradeguard.audit.state"
log = get_logger("tradeguard.audit")
ADVISORY_LOCK_KEY = 0x7467_6175_6469_7400  # "tgaudit\0"
HEAD_ID = 1
CHECKPOINTS = cast("Table", AuditCheckpointRow.__table__)
HEAD = cast("Table", AuditHeadRow.__table__)


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """When checkpoints are made."""

    every_events: int = 1000
    every_seconds: int = 60


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """What ``record`` returns: the event's place in the trail."""

    seq: int
    event_id: str
    ts_ns: int
    leaf_hash: bytes


@dataclass(slots=True)
class _Head:
    seq: int
    chain: bytes
    tree: CompactTree
    checkpoint_size: int
    checkpoint_ns: int
    stored: bool = True
    """Whether the head row exists (seen under the lock): saved by an update, else inserted."""


@dataclass(frozen=True, slots=True)
class NumberedEvents:
    """A batch of events numbered and chained after the locked head, not yet inserted."""

    rows: list[dict[str, Any]]
    head_seq: int
    checkpoint_due: bool
    """A checkpoint falls due after these events (``append_batch`` signs it)."""


@dataclass(slots=True)
class _TransactionState:
    trail: AuditTrail
    head: _Head
    published: list[dict[str, Any]] = field(default_factory=list)
    stale: bool = False


class AuditTrail:
    """Records events, makes checkpoints; one instance per process."""

    def __init__(
        self,
        clock: Clock,
        subjects: SubjectKeys,
        signing: SigningKeyManager,
        witness: Witness,
        policy: CheckpointPolicy | None = None,
    ) -> None:
        self.clock = clock
        self._ids = generator_for(clock)
        self.subjects = subjects
        self.signing = signing
        self.witness = witness
        self.policy = policy or CheckpointPolicy()
        self.publication_failed = False
        """A witness append failed; the next periodic checkpoint publishes what is missing."""
        install_session_hooks()

    def record(  # noqa: PLR0913 - the fields of an event
        self,
        session: Session,
        event_type: str,
        actor: Actor,
        subject: str | None = None,
        data: Mapping[str, Any] | None = None,
        *,
        personal: Mapping[str, Any] | None = None,
        personal_subject: str | None = None,
        request_id: str | None = None,
    ) -> RecordedEvent:
        """Append one event in the session's transaction; personal data is encrypted."""
        state = self._state(session)
        event_id = self._ids.new_text()
        sealed = self._seal_personal(session, event_id, personal, personal_subject or subject)
        draft = EventRecord(
            event_id=event_id,
            ts_ns=self.clock.now_ns(),
            event_type=_checked_type(event_type),
            actor=actor,
            subject=subject,
            request_id=request_id,
            data=dict(data or {}),
            personal=sealed,
        )
        recorded = self._append(session, state.head, draft)
        if self._checkpoint_due(state.head):
            self._checkpoint(session, state)
        return recorded

    def draft(
        self,
        event_type: str,
        actor: Actor,
        subject: str | None,
        data: Mapping[str, Any],
        request_id: str | None,
    ) -> EventRecord:
        """An event without personal data, numbered and written later by ``append_batch``."""
        return EventRecord(
            event_id=self._ids.new_text(),
            ts_ns=self.clock.now_ns(),
            event_type=_checked_type(event_type),
            actor=actor,
            subject=subject,
            request_id=request_id,
            data=dict(data),
            personal=None,
        )

    def append_batch(self, session: Session, drafts: Sequence[EventRecord]) -> int:
        """Number, chain and insert ``drafts`` in order with one statement; the new head.

        The sequencer is locked and its head loaded once for the whole batch; a checkpoint
        falls due at most once, after the batch (so one may cover more than
        ``checkpoint_events`` events).
        """
        numbered = self.number_batch(session, drafts)
        self.insert_numbered(session, numbered)
        if numbered.checkpoint_due:
            self._checkpoint(session, self._state(session))
        return numbered.head_seq

    def number_batch(self, session: Session, drafts: Sequence[EventRecord]) -> NumberedEvents:
        """Lock the sequencer, load its head and number and chain ``drafts`` after it.

        Nothing is inserted: ``insert_numbered`` writes the rows, and a checkpoint that
        falls due is left to the caller (``append_batch`` signs it at once).
        """
        state = self._state(session)
        head = state.head
        rows = []
        for draft in drafts:
            seq = head.seq + 1
            canonical = draft.canonical(seq)
            leaf, chain = record_hashes(head.chain, canonical)
            rows.append(_event_row(seq, draft, canonical, leaf, chain))
            head.seq, head.chain = seq, chain
            head.tree.append(leaf)
        return NumberedEvents(rows, head.seq, bool(rows) and self._checkpoint_due(head))

    def insert_numbered(self, session: Session, numbered: NumberedEvents) -> None:
        """Insert numbered events with one statement that reads nothing back."""
        if numbered.rows:
            connection = session.connection()
            sql = _event_insert_sql(connection.dialect.paramstyle)
            connection.exec_driver_sql(sql, numbered.rows)

    def checkpoint(self, session: Session) -> Checkpoint | None:
        """Sign a checkpoint at the current head if events arrived since the last one."""
        state = self._state(session)
        if state.head.seq == state.head.checkpoint_size:
            return None
        return self._checkpoint(session, state)

    def checkpoint_if_due(self, session: Session) -> Checkpoint | None:
        """Sign a checkpoint if the event count or the time since the last one calls for it."""
        state = self._state(session)
        return self._checkpoint(session, state) if self._checkpoint_due(state.head) else None

    def checkpoint_at(self, session: Session, tree_size: int) -> Checkpoint:
        """Sign a checkpoint for an earlier tree size (an export ending mid-way)."""
        self._state(session)
        existing = session.get(AuditCheckpointRow, tree_size)
        if existing is not None:
            return Checkpoint.from_row(existing)
        leaves = session.execute(
            select(AuditEventRow.leaf_hash, AuditEventRow.chain_hash)
            .where(AuditEventRow.seq <= tree_size)
            .order_by(AuditEventRow.seq)
        ).all()
        if len(leaves) != tree_size:
            raise ValueError(f"the trail has {len(leaves)} events, not {tree_size}")
        tree = CompactTree()
        tree.extend(bytes(leaf) for leaf, _ in leaves)
        chain = bytes(leaves[-1][1]) if leaves else GENESIS_CHAIN
        return self._sign_and_store(session, tree_size, tree.root(), chain)

    # Sequencing -----------------------------------------------------------

    def adopt_locked_head(self, session: Session, row: Any) -> None:  # noqa: ANN401 - a driver's row or SQLAlchemy's
        """Take ``row``, read with ``head_lock_sql`` in this transaction, as its head (or None).

        A caller that sends the lock with reads of its own saves the lock a round trip
        of its own. A transaction that holds the head already keeps it (it may be ahead).
        """
        state = session.info.get(STATE_KEY)
        if not isinstance(state, _TransactionState) or state.stale:
            self._state(session, _head_of_locked_row(session, row, self.clock.now_ns()))

    def _state(self, session: Session, head: _Head | None = None) -> _TransactionState:
        state = session.info.get(STATE_KEY)
        if isinstance(state, _TransactionState) and not state.stale:
            return state
        if head is None:
            head = _lock_and_load_head(session, self.clock.now_ns())
        if isinstance(state, _TransactionState):
            state.head, state.stale = head, False
            state.published = [c for c in state.published if c["tree_size"] <= head.seq]
            return state
        fresh = _TransactionState(self, head)
        session.info[STATE_KEY] = fresh
        return fresh

    def _append(self, session: Session, head: _Head, draft: EventRecord) -> RecordedEvent:
        seq = head.seq + 1
        canonical = draft.canonical(seq)
        leaf, chain = record_hashes(head.chain, canonical)
        connection = session.connection()
        connection.exec_driver_sql(
            _event_insert_sql(connection.dialect.paramstyle),
            _event_row(seq, draft, canonical, leaf, chain),
        )
        head.seq, head.chain = seq, chain
        head.tree.append(leaf)
        return RecordedEvent(seq, draft.event_id, draft.ts_ns, leaf)

    def _seal_personal(
        self,
        session: Session,
        event_id: str,
        personal: Mapping[str, Any] | None,
        subject: str | None,
    ) -> dict[str, str] | None:
        if not personal:
            return None
        if subject is None:
            raise ValueError("personal data in an audit event needs the subject it belongs to")
        primitive = self.subjects.for_writing(session, subject, DataClass.AUDIT_PII)
        ciphertext = primitive.encrypt(canonical_dumps(dict(personal)), personal_context(event_id))
        return {"subject": subject, "ciphertext": base64.b64encode(ciphertext).decode("ascii")}

    # Checkpoints ----------------------------------------------------------

    def _checkpoint_due(self, head: _Head) -> bool:
        pending = head.seq - head.checkpoint_size
        if pending >= self.policy.every_events:
            return True
        elapsed = self.clock.now_ns() - head.checkpoint_ns
        return pending > 0 and elapsed >= self.policy.every_seconds * NS_PER_SECOND

    def _checkpoint(self, session: Session, state: _TransactionState) -> Checkpoint:
        head = state.head
        checkpoint = self._sign_and_store(session, head.seq, head.tree.root(), head.chain)
        head.checkpoint_size, head.checkpoint_ns = checkpoint.tree_size, checkpoint.ts_ns
        return checkpoint

    def _sign_and_store(
        self, session: Session, tree_size: int, root_hash: bytes, chain: bytes
    ) -> Checkpoint:
        key = self.signing.active(session, SigningPurpose.AUDIT)
        checkpoint = sign_checkpoint(key, tree_size, self.clock.now_ns(), root_hash, chain)
        session.connection().execute(insert(CHECKPOINTS), [_checkpoint_row(checkpoint)])
        self._state(session).published.append(checkpoint.to_json(key.public_key.public_bytes))
        return checkpoint


@lru_cache(maxsize=512)  # the types are the code's own names: a few dozen
def _checked_type(event_type: str) -> str:
    parts = event_type.split(".")
    if len(parts) < 2 or not all(part.replace("_", "").isalnum() for part in parts):  # noqa: PLR2004 - at least domain.action
        raise ValueError(f"event type {event_type!r} is not a dotted name like order.placed")
    return event_type


EVENT_COLUMNS = (
    "seq",
    "event_id",
    "ts_ns",
    "event_type",
    "actor_type",
    "actor_id",
    "subject",
    "request_id",
    "record",
    "leaf_hash",
    "chain_hash",
)


def _named_parameter(paramstyle: str, name: str) -> str:
    """``name``'s marker in the driver's own parameter style (psycopg's or sqlite3's)."""
    return f"%({name})s" if paramstyle == "pyformat" else f":{name}"


@cache
def _event_insert_sql(paramstyle: str) -> str:
    """The event INSERT in the driver's own parameter style: the hot path skips compilation."""
    values = ", ".join(_named_parameter(paramstyle, column) for column in EVENT_COLUMNS)
    return f"INSERT INTO audit_events ({', '.join(EVENT_COLUMNS)}) VALUES ({values})"  # noqa: S608 - constant names


@cache
def _head_update_sql(paramstyle: str) -> str:
    """The head's UPDATE in the driver's own parameter style, compiled once like the events'."""
    columns = (column.name for column in HEAD.columns if column.name != "id")
    values = ", ".join(f"{name} = {_named_parameter(paramstyle, name)}" for name in columns)
    return f"UPDATE audit_head SET {values} WHERE id = {HEAD_ID}"  # noqa: S608 - constant names


def _event_row(
    seq: int, draft: EventRecord, canonical: bytes, leaf: bytes, chain: bytes
) -> dict[str, Any]:
    return {
        "seq": seq,
        "event_id": draft.event_id,
        "ts_ns": draft.ts_ns,
        "event_type": draft.event_type,
        "actor_type": draft.actor.kind,
        "actor_id": draft.actor.id,
        "subject": draft.subject,
        "request_id": draft.request_id,
        "record": canonical,
        "leaf_hash": leaf,
        "chain_hash": chain,
    }


def _checkpoint_row(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "tree_size": checkpoint.tree_size,
        "ts_ns": checkpoint.ts_ns,
        "root_hash": checkpoint.root_hash,
        "chain_hash": checkpoint.chain_hash,
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
    }


# The sequencer's lock and head --------------------------------------------------


def _lock(session: Session) -> None:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        # The head row too, if there is one now: one-statement lockers take only that.
        connection.execute(
            text("SELECT id FROM audit_head WHERE id = :id FOR UPDATE"), {"id": HEAD_ID}
        ).all()
    else:
        connection.execute(text("UPDATE audit_head SET id = id WHERE id = :id"), {"id": HEAD_ID})


_HEAD_COLUMNS = (
    "seq, chain_hash, frontier, last_checkpoint_size, last_checkpoint_ns, "
    "(SELECT max(seq) FROM audit_events) AS newest, "
    "(SELECT max(tree_size) FROM audit_checkpoints) AS checkpoint_size, "
    "(SELECT ts_ns FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1) AS checkpoint_ns"
)
_LOCKED_HEAD = {
    # PostgreSQL: the head row's lock (no new row version); SQLite: the database write lock.
    "postgresql": f"SELECT {_HEAD_COLUMNS} FROM audit_head WHERE id = 1 FOR UPDATE",  # noqa: S608 - constant
    "sqlite": f"UPDATE audit_head SET id = id WHERE id = 1 RETURNING {_HEAD_COLUMNS}",  # noqa: S608 - constant
}
"""The sequencer's lock and its head in one statement (``_lock_and_load_head``)."""


def head_lock_sql(dialect_name: str) -> str:
    """The statement that locks the sequencer and reads its head (``adopt_locked_head``)."""
    return _LOCKED_HEAD[dialect_name]


def _lock_and_load_head(session: Session, now_ns: int) -> _Head:
    """Lock the sequencer and load its head: one statement once the trail has a head row.

    A trail without a head row yet, or with events past it, takes the long way: the
    advisory lock (PostgreSQL) and the head rebuilt from the events after it.
    """
    connection = session.connection()
    row = connection.exec_driver_sql(head_lock_sql(connection.dialect.name)).one_or_none()
    return _head_of_locked_row(session, row, now_ns)


def _head_of_locked_row(session: Session, row: Any, now_ns: int) -> _Head:  # noqa: ANN401 - a driver's row or SQLAlchemy's
    """The head as the one-statement lock read it, or the long way if it cannot tell."""
    if row is None or (row.newest or 0) > row.seq:
        _lock(session)
        return _load_head(session, now_ns)
    head = _Head(
        row.seq,
        bytes(row.chain_hash),
        CompactTree.from_state(json.loads(row.frontier)),
        row.last_checkpoint_size,
        row.last_checkpoint_ns,
    )
    if row.checkpoint_size is not None and row.checkpoint_size > head.checkpoint_size:
        head.checkpoint_size, head.checkpoint_ns = row.checkpoint_size, row.checkpoint_ns
    return head


def _load_head(session: Session, now_ns: int) -> _Head:
    """The head as committed, plus the events this transaction already wrote.

    A trail with no checkpoint yet counts its checkpoint interval from ``now_ns``.
    """
    row = session.connection().execute(select(HEAD)).one_or_none()
    head = (
        _Head(0, GENESIS_CHAIN, CompactTree(), 0, now_ns, stored=False)
        if row is None
        else _Head(
            row.seq,
            bytes(row.chain_hash),
            CompactTree.from_state(json.loads(row.frontier)),
            row.last_checkpoint_size,
            row.last_checkpoint_ns,
        )
    )
    newer = session.connection().execute(
        select(EVENTS.c.seq, EVENTS.c.leaf_hash, EVENTS.c.chain_hash)
        .where(EVENTS.c.seq > head.seq)
        .order_by(EVENTS.c.seq)
    )
    for seq, leaf, chain in newer:
        head.seq, head.chain = seq, bytes(chain)
        head.tree.append(bytes(leaf))
    latest = (
        session.connection()
        .execute(
            select(CHECKPOINTS.c.tree_size, CHECKPOINTS.c.ts_ns)
            .order_by(CHECKPOINTS.c.tree_size.desc())
            .limit(1)
        )
        .one_or_none()
    )
    if latest is not None and latest.tree_size > head.checkpoint_size:
        head.checkpoint_size, head.checkpoint_ns = latest.tree_size, latest.ts_ns
    return head


def _save_head(session: Session, head: _Head) -> None:
    values = {
        "seq": head.seq,
        "chain_hash": head.chain,
        "frontier": json.dumps(head.tree.to_state()).encode("ascii"),
        "last_checkpoint_size": head.checkpoint_size,
        "last_checkpoint_ns": head.checkpoint_ns,
    }
    connection = session.connection()
    if head.stored:  # no rowcount read: the commit may be pipelined (db.pipeline)
        connection.exec_driver_sql(_head_update_sql(connection.dialect.paramstyle), values)
    else:
        connection.execute(insert(HEAD), [{"id": HEAD_ID, **values}])
        head.stored = True


# Session hooks ------------------------------------------------------------------


def _before_commit(session: Session) -> None:
    state = session.info.get(STATE_KEY)
    if isinstance(state, _TransactionState) and not state.stale:
        _save_head(session, state.head)


def _after_commit(session: Session) -> None:
    state = session.info.pop(STATE_KEY, None)
    if not isinstance(state, _TransactionState) or not state.published:
        return
    try:
        state.trail.witness.append(state.published)
    except (OSError, WitnessError):
        # The events are committed; `audit verify` reports the checkpoint as not yet
        # published, and the next periodic checkpoint or start-up publishes it again.
        state.trail.publication_failed = True
        log.exception(
            "audit.witness_append_failed", tree_sizes=[c["tree_size"] for c in state.published]
        )


def _after_soft_rollback(session: Session, previous_transaction: Any) -> None:  # noqa: ANN401 - SQLAlchemy's SessionTransaction
    del previous_transaction
    state = session.info.get(STATE_KEY)
    if not isinstance(state, _TransactionState):
        return
    if session.in_transaction():
        state.stale = True
    else:
        session.info.pop(STATE_KEY, None)


def records_events(session: Session) -> bool:
    """Whether the session's transaction has appended audit events (before it commits)."""
    return isinstance(session.info.get(STATE_KEY), _TransactionState)


def install_session_hooks() -> None:
    """Register the commit and rollback hooks on every Session (idempotent)."""
    for name, hook in (
        ("before_commit", _before_commit),
        ("after_commit", _after_commit),
        ("after_soft_rollback", _after_soft_rollback),
    ):
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)
