"""Verification: recompute every hash, replay the Merkle tree, check every signed checkpoint.

The verifier trusts nothing in the database but the public keys it is given
(and, online, cross-checks those against the witness). It reports the first
problem with the sequence number where the trail stops being trustworthy.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Generator, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from tradeguard.audit import parallel_verify
from tradeguard.audit.checkpoints import Checkpoint, Witness, WitnessError
from tradeguard.audit.merkle import CompactTree
from tradeguard.audit.models import AuditCheckpointRow, AuditEventRow, AuditHeadRow
from tradeguard.audit.raw_rows import fetch_batches
from tradeguard.audit.records import CHAIN_HASHER, GENESIS_CHAIN
from tradeguard.audit.witness_check import WitnessComparison, compare_witness
from tradeguard.crypto.models import SigningKeyRecord
from tradeguard.crypto.signing import SigningPurpose

PARALLEL_FROM_EVENTS = 200_000
WORKERS = min(os.cpu_count() or 1, 4)
# The searchable columns must say what the signed record says; checked by the database
# itself (in C, alongside the hash replay) rather than by parsing JSON in Python.
SQLITE_COLUMN_CHECK = """
SELECT seq FROM (SELECT *, CAST(record AS TEXT) AS doc FROM audit_events)
WHERE json_extract(doc, '$.seq') IS NOT seq
   OR json_extract(doc, '$.event_id') IS NOT event_id
   OR json_extract(doc, '$.ts_ns') IS NOT ts_ns
   OR json_extract(doc, '$.type') IS NOT event_type
   OR json_extract(doc, '$.actor.kind') IS NOT actor_type
   OR json_extract(doc, '$.actor.id') IS NOT actor_id
   OR json_extract(doc, '$.subject') IS NOT subject
   OR json_extract(doc, '$.request_id') IS NOT request_id
ORDER BY seq LIMIT 1
"""
POSTGRES_COLUMN_CHECK = """
SELECT e.seq FROM audit_events AS e,
    json_to_record(convert_from(e.record, 'UTF8')::json) AS r(
        seq bigint, event_id text, ts_ns bigint, type text, subject text, request_id text,
        actor json
    )
WHERE r.seq IS DISTINCT FROM e.seq
   OR r.event_id IS DISTINCT FROM e.event_id
   OR r.ts_ns IS DISTINCT FROM e.ts_ns
   OR r.type IS DISTINCT FROM e.event_type
   OR r.actor->>'kind' IS DISTINCT FROM e.actor_type
   OR r.actor->>'id' IS DISTINCT FROM e.actor_id
   OR r.subject IS DISTINCT FROM e.subject
   OR r.request_id IS DISTINCT FROM e.request_id
ORDER BY e.seq LIMIT 1
"""


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The outcome: intact, or the first bad sequence number and what is wrong there."""

    events: int
    checkpoints: int
    first_bad_seq: int | None = None
    problem: str | None = None
    repairable: bool = False
    """The database is intact, but some of its checkpoints are not yet in the witness."""

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return self.problem is None

    def line(self) -> str:
        """One line for people."""
        if self.ok:
            return (
                f"audit trail intact: {self.events} events, {self.checkpoints} checkpoints verified"
            )
        if self.repairable:
            return (
                f"audit trail intact in the database ({self.events} events, {self.checkpoints}"
                f" checkpoints verified) but NOT fully published: {self.problem}"
            )
        return f"audit trail NOT intact at sequence {self.first_bad_seq}: {self.problem}"


class TrailBroken(Exception):  # noqa: N818 - a control-flow signal, caught inside this module
    """Raised inside the verifier at the first problem."""

    def __init__(self, seq: int, problem: str) -> None:
        super().__init__(problem)
        self.seq = seq
        self.problem = problem


class ChainReplay:
    """Replays events in order: hashes, chain, columns, tree, and checkpoints as they come due."""

    def __init__(
        self,
        checkpoints: Sequence[Checkpoint],
        public_keys: Mapping[str, bytes],
        *,
        start: int = 1,
        chain: bytes = GENESIS_CHAIN,
        tree: CompactTree | None = None,
    ) -> None:
        self.expected = start
        self.chain = chain
        self.tree = tree or CompactTree()
        self._due = sorted(checkpoints, key=lambda checkpoint: checkpoint.tree_size)
        self._next = 0
        self._keys = public_keys
        self.checkpoints_verified = 0

    def feed(self, rows: Sequence[Sequence[Any]]) -> None:
        """Check a batch of ``(seq, record, stored chain link or None)`` rows in order."""
        sha256, chain_hasher = hashlib.sha256, CHAIN_HASHER.copy
        chain, expected = self.chain, self.expected
        leaves: list[bytes] = []
        keep, due = leaves.append, self._next_due()
        for seq, record, stored_chain in rows:
            if seq != expected:
                self._advance(leaves, chain, expected)
                raise TrailBroken(expected, f"event {expected} is missing (deleted)")
            leaf = sha256(b"\x00" + record).digest()
            hasher = chain_hasher()
            hasher.update(chain + leaf)
            link = hasher.digest()
            if link != stored_chain and stored_chain is not None:
                self._advance(leaves, chain, expected)
                raise TrailBroken(
                    seq, "the hash chain is broken here (edited, reordered or inserted)"
                )
            keep(leaf)
            chain, expected = link, seq + 1
            if seq == due:
                self._advance(leaves, chain, expected)
                leaves = []
                keep = leaves.append
                self._check_due_checkpoints()
                due = self._next_due()
        self._advance(leaves, chain, expected)

    def absorb(
        self,
        leaves: Sequence[bytes],
        links_at: Mapping[int, bytes],
        end_chain: bytes,
        next_seq: int,
    ) -> None:
        """Take leaf hashes checked elsewhere (a worker), checking checkpoints as they come due."""
        offset, due = 0, self._next_due()
        while due is not None and due < next_seq:
            take = due - self.tree.size
            self.tree.extend(leaves[offset : offset + take])
            offset += take
            self.chain = links_at[due]
            self._check_due_checkpoints()
            due = self._next_due()
        self.tree.extend(leaves[offset:])
        self.chain, self.expected = end_chain, next_seq

    def _advance(self, leaves: list[bytes], chain: bytes, expected: int) -> None:
        self.tree.extend(leaves)
        self.chain, self.expected = chain, expected

    def _next_due(self) -> int | None:
        return self._due[self._next].tree_size if self._next < len(self._due) else None

    def finish(self) -> None:
        """Fail if a checkpoint covers events that are not there."""
        if self._next < len(self._due):
            missing = self._due[self._next]
            raise TrailBroken(
                self.expected,
                f"checkpoint at tree size {missing.tree_size} covers events "
                f"{self.expected}..{missing.tree_size} that are missing (tail deleted)",
            )

    def _check_due_checkpoints(self) -> None:
        while self._next < len(self._due) and self._due[self._next].tree_size == self.tree.size:
            self._check_checkpoint(self._due[self._next])
            self._next += 1

    def _check_checkpoint(self, checkpoint: Checkpoint) -> None:
        size = checkpoint.tree_size
        if checkpoint.root_hash != self.tree.root() or checkpoint.chain_hash != self.chain:
            raise TrailBroken(size, f"events up to {size} do not match the signed checkpoint")
        if not verify_signature(checkpoint, self._keys.get(checkpoint.key_id)):
            raise TrailBroken(size, f"checkpoint at {size} has an invalid signature (forged)")
        self.checkpoints_verified += 1


def verify_signature(checkpoint: Checkpoint, public_key: bytes | None) -> bool:
    """Whether ``public_key`` signed this checkpoint."""
    if public_key is None:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            checkpoint.signature, checkpoint.signed_message()
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def replay(
    batches: Iterable[Sequence[Sequence[Any]]],
    checkpoints: Sequence[Checkpoint],
    public_keys: Mapping[str, bytes],
) -> VerificationResult:
    """Verify batches of ``(seq, record, chain)`` rows against checkpoints and keys."""
    replayer = ChainReplay(checkpoints, public_keys)
    try:
        for batch in batches:
            replayer.feed(batch)
        replayer.finish()
    except TrailBroken as broken:
        return _broken(replayer, broken)
    return VerificationResult(replayer.expected - 1, replayer.checkpoints_verified)


def _broken(replayer: ChainReplay, broken: TrailBroken) -> VerificationResult:
    return VerificationResult(
        replayer.expected - 1, replayer.checkpoints_verified, broken.seq, broken.problem
    )


def stream_events(engine: Engine) -> Generator[Sequence[Sequence[Any]], None, None]:
    """Batches of ``(seq, record, chain)`` in sequence order."""
    return fetch_batches(engine, "SELECT seq, record, chain_hash FROM audit_events ORDER BY seq")


def verify_database(
    engine: Engine, witness: Witness, *, parallel_from: int | None = None
) -> VerificationResult:
    """Verify the whole trail in the database against its checkpoints, keys and the witness.

    Trails of ``parallel_from`` events or more are checked by worker processes (default:
    PostgreSQL trails of ``PARALLEL_FROM_EVENTS`` or more).
    """
    try:
        contents = witness.contents()  # before the database: see compare_witness
    except WitnessError as exc:
        return VerificationResult(0, 0, 1, f"the witness cannot be checked: {exc}")
    stored = read_stored(engine)
    comparison = compare_witness(contents, stored.checkpoints, stored.keys, stored.end)
    refusal = comparison.refusal()
    disagreement = None if refusal is None else VerificationResult(0, 0, *refusal)
    result, columns = _replay(engine, stored, parallel_from)
    result = _tail_check(result, stored.head_seq)
    return _unpublished(_earliest(result, _earliest_problem(disagreement, columns)), comparison)


@dataclass(frozen=True, slots=True)
class StoredTrail:
    """What the database holds of the trail: checkpoints, audit keys, head and last event."""

    checkpoints: list[Checkpoint]
    keys: dict[str, bytes]
    head_seq: int
    last_seq: int

    @property
    def end(self) -> int:
        """The last sequence number the database knows of (head or events)."""
        return max(self.head_seq, self.last_seq)


def read_stored(engine: Engine) -> StoredTrail:
    """Read the checkpoints, the audit public keys, the sequencer head and the last event."""
    with engine.connect() as connection:
        return StoredTrail(
            stored_checkpoints(connection),
            audit_public_keys(connection),
            connection.execute(select(AuditHeadRow.seq)).scalar_one_or_none() or 0,
            connection.execute(select(func.max(AuditEventRow.seq))).scalar_one() or 0,
        )


def _replay(
    engine: Engine, stored: StoredTrail, parallel_from: int | None
) -> tuple[VerificationResult, VerificationResult | None]:
    """The replay, and the column check when it ran alongside in this process."""
    if _in_parallel(engine, stored.last_seq, parallel_from):
        return _replay_in_parallel(engine, stored.last_seq, stored.checkpoints, stored.keys), None
    return _replay_here(engine, stored.checkpoints, stored.keys)


def _tail_check(result: VerificationResult, head_seq: int) -> VerificationResult:
    """Events the sequencer head counts but the table lacks were deleted from the tail."""
    if not result.ok or head_seq <= result.events:
        return result
    return VerificationResult(
        result.events,
        result.checkpoints,
        result.events + 1,
        f"events {result.events + 1}..{head_seq} were deleted (tail truncated)",
    )


def _unpublished(result: VerificationResult, comparison: WitnessComparison) -> VerificationResult:
    """An intact database whose witness lacks checkpoints is repairable, and says so."""
    if not result.ok or not comparison.needs_repair:
        return result
    first, problem = comparison.repair_problem()
    return VerificationResult(result.events, result.checkpoints, first, problem, repairable=True)


def _in_parallel(engine: Engine, last_seq: int, parallel_from: int | None) -> bool:
    """Whether worker processes should verify this trail.

    They pay off on PostgreSQL, where the database's own JSON check is slow; on SQLite
    the in-process replay, with SQLite's JSON functions running alongside, is faster.
    """
    threshold = parallel_from
    if threshold is None:
        threshold = PARALLEL_FROM_EVENTS if engine.dialect.name == "postgresql" else None
    return threshold is not None and last_seq >= threshold and WORKERS > 1


def _replay_here(
    engine: Engine, checkpoints: Sequence[Checkpoint], keys: Mapping[str, bytes]
) -> tuple[VerificationResult, VerificationResult | None]:
    """One process: the hash replay here, the column check in the database alongside."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        column_check = pool.submit(first_column_mismatch, engine)
        with closing(stream_events(engine)) as batches:
            result = replay(batches, checkpoints, keys)
        return result, column_check.result()


def _replay_in_parallel(
    engine: Engine, last_seq: int, checkpoints: Sequence[Checkpoint], keys: Mapping[str, bytes]
) -> VerificationResult:
    replayer = ChainReplay(checkpoints, keys)
    try:
        with closing(parallel_verify.replay_parts(engine, last_seq, checkpoints, WORKERS)) as parts:
            _absorb_all(replayer, parts)
        replayer.finish()
    except TrailBroken as broken:
        return _broken(replayer, broken)
    return VerificationResult(replayer.expected - 1, replayer.checkpoints_verified)


def _absorb_all(replayer: ChainReplay, outcomes: Iterable[parallel_verify.PartOutcome]) -> None:
    """Feed the parts in order, stopping at the first part that found a problem."""
    for outcome in outcomes:
        leaves = parallel_verify.leaves_of(outcome)
        replayer.absorb(leaves, outcome.links_at, outcome.end_chain, outcome.next_seq)
        if outcome.problem is not None:
            raise TrailBroken(*outcome.problem)


def first_column_mismatch(engine: Engine) -> VerificationResult | None:
    """The first event whose searchable columns differ from its signed record, if any."""
    query = POSTGRES_COLUMN_CHECK if engine.dialect.name == "postgresql" else SQLITE_COLUMN_CHECK
    try:
        with engine.connect() as connection:
            seq = connection.execute(text(query)).scalar_one_or_none()
    except DBAPIError:
        return VerificationResult(
            0, 0, 1, "a record is not valid JSON; the columns cannot be checked"
        )
    if seq is None:
        return None
    return VerificationResult(
        0, 0, seq, "the searchable columns differ from the signed record (edited)"
    )


def _earliest_problem(
    first: VerificationResult | None, second: VerificationResult | None
) -> VerificationResult | None:
    if first is None or second is None:
        return first or second
    return first if (first.first_bad_seq or 0) <= (second.first_bad_seq or 0) else second


def _earliest(result: VerificationResult, other: VerificationResult | None) -> VerificationResult:
    if other is None:
        return result
    if result.ok or (other.first_bad_seq or 0) < (result.first_bad_seq or 0):
        return VerificationResult(
            result.events, result.checkpoints, other.first_bad_seq, other.problem
        )
    return result


def stored_checkpoints(connection: Connection) -> list[Checkpoint]:
    """Every checkpoint in ``audit_checkpoints``, by tree size."""
    rows = connection.execute(select(AuditCheckpointRow.__table__).order_by("tree_size"))
    return [Checkpoint.from_row(row) for row in rows]


def audit_public_keys(connection: Connection) -> dict[str, bytes]:
    """The public halves of every audit signing key, by key id."""
    rows = connection.execute(
        select(SigningKeyRecord.key_id, SigningKeyRecord.public_key).where(
            SigningKeyRecord.purpose == SigningPurpose.AUDIT.value
        )
    )
    return {key_id: bytes(public_key) for key_id, public_key in rows}
