"""Audit tables: events (append-only), signed checkpoints (append-only), the sequencer head."""

from __future__ import annotations

from typing import cast

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.db.base import Base


class AuditEventRow(Base):
    """One audit event: the canonical record that is hashed, and copies of fields for search."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_ts_ns", "ts_ns"),
        Index("ix_audit_events_event_type_ts_ns", "event_type", "ts_ns"),
        Index("ix_audit_events_actor_id_ts_ns", "actor_id", "ts_ns"),
        Index("ix_audit_events_subject_ts_ns", "subject", "ts_ns"),
        Index("ix_audit_events_request_id", "request_id"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    ts_ns: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(96))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(96))
    subject: Mapped[str | None] = mapped_column(String(128))
    request_id: Mapped[str | None] = mapped_column(String(64))
    record: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpointRow(Base):
    """A signed tree head: the RFC 9162 Merkle root over the first ``tree_size`` events."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts_ns: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class AuditHeadRow(Base):
    """The sequencer's state (one row): last sequence number, chain hash, Merkle frontier.

    Derived state for speed only: verification never trusts it.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    last_checkpoint_size: Mapped[int] = mapped_column(BigInteger)
    last_checkpoint_ns: Mapped[int] = mapped_column(BigInteger)


EVENTS = cast("Table", AuditEventRow.__table__)
"""The events table, for statements that need no ORM (the sequencer, the watchers)."""
