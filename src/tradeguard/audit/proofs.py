"""Inclusion and consistency proofs (RFC 9162) against the trail's signed checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.audit.checkpoints import Checkpoint
from tradeguard.audit.head import head_sequence, past_head
from tradeguard.audit.merkle import consistency_proof, inclusion_proof
from tradeguard.audit.models import AuditCheckpointRow, AuditEventRow
from tradeguard.core.errors import TradeGuardError


class ProofError(TradeGuardError):
    """A proof was asked for something the trail cannot prove (no such event or checkpoint)."""


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Event ``seq`` is leaf ``seq - 1`` of the tree signed in ``checkpoint``."""

    seq: int
    leaf_hash: bytes
    path: list[bytes]
    checkpoint: Checkpoint

    def to_json(self) -> dict[str, Any]:
        """The proof as JSON (hex hashes)."""
        return {
            "seq": self.seq,
            "leaf_index": self.seq - 1,
            "leaf_hash": self.leaf_hash.hex(),
            "tree_size": self.checkpoint.tree_size,
            "root": self.checkpoint.root_hash.hex(),
            "path": [node.hex() for node in self.path],
        }


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """The tree signed in ``old`` is a prefix of the tree signed in ``new``."""

    old: Checkpoint
    new: Checkpoint
    path: list[bytes]

    def to_json(self) -> dict[str, Any]:
        """The proof as JSON (hex hashes)."""
        return {
            "old_size": self.old.tree_size,
            "old_root": self.old.root_hash.hex(),
            "new_size": self.new.tree_size,
            "new_root": self.new.root_hash.hex(),
            "path": [node.hex() for node in self.path],
        }


def prove_inclusion(session: Session, seq: int, tree_size: int | None = None) -> InclusionProof:
    """Prove event ``seq`` is in a checkpoint (the first one covering it unless one is named)."""
    checkpoint = _covering_checkpoint(session, seq, tree_size)
    leaves = _leaves(session, checkpoint.tree_size)
    path = inclusion_proof(seq - 1, leaves)
    return InclusionProof(seq, leaves[seq - 1], path, checkpoint)


def prove_consistency(session: Session, old_size: int, new_size: int) -> ConsistencyProof:
    """Prove the checkpoint at ``old_size`` is a prefix of the one at ``new_size``."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"need 0 < old size ({old_size}) <= new size ({new_size})")
    old, new = _checkpoint(session, old_size), _checkpoint(session, new_size)
    return ConsistencyProof(old, new, consistency_proof(old_size, _leaves(session, new_size)))


def _covering_checkpoint(session: Session, seq: int, tree_size: int | None) -> Checkpoint:
    if seq < 1:
        raise ProofError(f"sequence numbers start at 1, not {seq}")
    head = head_sequence(session)
    if seq > head:
        raise ProofError(past_head(seq, head))
    if tree_size is not None:
        if tree_size < seq:
            raise ProofError(f"event {seq} is not in a tree of {tree_size} events")
        return _checkpoint(session, tree_size)
    row = session.scalars(
        select(AuditCheckpointRow)
        .where(AuditCheckpointRow.tree_size >= seq)
        .order_by(AuditCheckpointRow.tree_size)
        .limit(1)
    ).one_or_none()
    if row is None:
        raise ProofError(
            f"no checkpoint covers event {seq} yet: sign one at the head first"
            " (tradeguard audit checkpoint)"
        )
    return Checkpoint.from_row(row)


def _checkpoint(session: Session, tree_size: int) -> Checkpoint:
    row = session.get(AuditCheckpointRow, tree_size)
    if row is None:
        head = head_sequence(session)
        beyond = f": the audit trail holds {head} events" if tree_size > head else ""
        raise ProofError(f"there is no checkpoint at tree size {tree_size}{beyond}")
    return Checkpoint.from_row(row)


def _leaves(session: Session, tree_size: int) -> list[bytes]:
    rows = session.execute(
        select(AuditEventRow.leaf_hash)
        .where(AuditEventRow.seq <= tree_size)
        .order_by(AuditEventRow.seq)
    ).scalars()
    leaves = [bytes(leaf) for leaf in rows]
    if len(leaves) != tree_size:
        raise ProofError(f"the trail holds {len(leaves)} of the {tree_size} events checkpointed")
    return leaves
