"""Publishing again the checkpoints the witness lacks: the repair after a crash.

The recorder appends a checkpoint to the witness after the transaction that wrote it
commits; a crash in between leaves a committed checkpoint the witness lacks, and a
crash during the append leaves a partial last line. At start-up and in
``tradeguard audit checkpoint`` this module compares the two, checks each missing
checkpoint against the events in the database (hashes, Merkle root, chain link and
signature, replayed from the last checkpoint the witness already holds), appends it,
and records an ``audit.witness.republished`` event. It never changes or removes a
complete witness line, and refuses (``WitnessConflictError``) when the witness contradicts
the database or holds checkpoints beyond it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.checkpoints import Checkpoint, WitnessError
from tradeguard.audit.merkle import CompactTree
from tradeguard.audit.raw_rows import fetch_batches
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.audit.verify import ChainReplay, StoredTrail, TrailBroken, read_stored
from tradeguard.audit.witness_check import WitnessComparison, compare_witness
from tradeguard.core.errors import StartupError, TradeGuardError
from tradeguard.db.session import transaction
from tradeguard.logs import get_logger

REPUBLISHED = "audit.witness.republished"
SUBJECT = "audit:witness"
log = get_logger("tradeguard.audit")
RANGE_QUERY = (
    "SELECT seq, record, chain_hash FROM audit_events WHERE seq > {} AND seq <= {} ORDER BY seq"
)
LEAVES_QUERY = "SELECT leaf_hash, chain_hash FROM audit_events WHERE seq <= {} ORDER BY seq"


class WitnessConflictError(TradeGuardError):
    """The witness contradicts the database, or holds checkpoints the database lost."""


@dataclass(frozen=True, slots=True)
class Republished:
    """What a repair did: the tree sizes published again, and partial-line bytes removed."""

    tree_sizes: tuple[int, ...] = ()
    torn_bytes: int = 0

    @property
    def changed(self) -> bool:
        """Whether the witness was repaired."""
        return bool(self.tree_sizes) or self.torn_bytes > 0


def republish_missing(sessions: sessionmaker[Session], trail: AuditTrail) -> Republished:
    """Publish every committed checkpoint the witness lacks, once verified; audited."""
    engine = _engine_of(sessions)
    stored, comparison = _compare(engine, trail)
    if not comparison.needs_repair:
        return Republished()
    verify_unpublished(engine, stored, comparison)
    missing = [c for c in stored.checkpoints if c.tree_size in set(comparison.unpublished)]
    torn = trail.witness.cut_torn_tail()
    trail.witness.append(c.to_json(stored.keys[c.key_id]) for c in missing)
    done = Republished(tuple(c.tree_size for c in missing), torn)
    _record(sessions, trail, done)
    return done


def _compare(engine: Engine, trail: AuditTrail) -> tuple[StoredTrail, WitnessComparison]:
    """The witness (read first) against the database; raises if it must not be repaired."""
    contents = trail.witness.contents()  # before the database: see compare_witness
    stored = read_stored(engine)
    comparison = compare_witness(contents, stored.checkpoints, stored.keys, stored.end)
    refusal = comparison.refusal()
    if refusal is not None:
        raise WitnessConflictError(f"audit witness refused at sequence {refusal[0]}: {refusal[1]}")
    return stored, comparison


def repair_at_start(sessions: sessionmaker[Session], trail: AuditTrail) -> Republished:
    """The start-up repair; a witness that contradicts or outruns the database stops the start."""
    try:
        return republish_missing(sessions, trail)
    except (WitnessConflictError, WitnessError) as exc:
        raise StartupError(str(exc)) from None


def verify_unpublished(engine: Engine, stored: StoredTrail, comparison: WitnessComparison) -> None:
    """Check the unpublished checkpoints against the events, from the last witnessed one."""
    if not comparison.unpublished:
        return
    first, last = comparison.unpublished[0], comparison.unpublished[-1]
    anchor = _last_witnessed_before(stored.checkpoints, comparison)
    start = anchor.tree_size if anchor else 0
    due = [c for c in stored.checkpoints if start < c.tree_size <= last]
    replayer = _replayer_from(engine, anchor, due, stored.keys)
    try:
        with closing(fetch_batches(engine, RANGE_QUERY, (start, last))) as batches:
            for batch in batches:
                replayer.feed(batch)
        replayer.finish()
    except TrailBroken as broken:
        raise WitnessConflictError(
            f"checkpoint at {first} is not published again: at sequence {broken.seq}"
            f" {broken.problem}; run `tradeguard audit verify`"
        ) from None


def _last_witnessed_before(
    checkpoints: Sequence[Checkpoint], comparison: WitnessComparison
) -> Checkpoint | None:
    """The newest checkpoint the witness holds below the first unpublished one."""
    unpublished = set(comparison.unpublished)
    first = comparison.unpublished[0]
    witnessed = [c for c in checkpoints if c.tree_size < first and c.tree_size not in unpublished]
    return witnessed[-1] if witnessed else None


def _replayer_from(
    engine: Engine, anchor: Checkpoint | None, due: Sequence[Checkpoint], keys: Mapping[str, bytes]
) -> ChainReplay:
    """A replay that resumes after ``anchor``, whose stored hashes its root must vouch for."""
    if anchor is None:
        return ChainReplay(due, keys)
    tree, chain = CompactTree(), b""
    with closing(fetch_batches(engine, LEAVES_QUERY, (anchor.tree_size,))) as batches:
        for batch in batches:
            tree.extend(bytes(leaf) for leaf, _ in batch)
            chain = bytes(batch[-1][1])
    if tree.size != anchor.tree_size or (tree.root(), chain) != (
        anchor.root_hash,
        anchor.chain_hash,
    ):
        raise WitnessConflictError(
            f"events up to {anchor.tree_size} no longer match their published checkpoint;"
            " run `tradeguard audit verify`"
        )
    return ChainReplay(due, keys, start=anchor.tree_size + 1, chain=chain, tree=tree)


def _record(sessions: sessionmaker[Session], trail: AuditTrail, done: Republished) -> None:
    log.warning(REPUBLISHED, tree_sizes=list(done.tree_sizes), torn_bytes=done.torn_bytes)
    with transaction(sessions) as session:
        trail.record(
            session,
            REPUBLISHED,
            Actor.system("audit"),
            SUBJECT,
            {"tree_sizes": list(done.tree_sizes), "partial_line_bytes": done.torn_bytes},
        )


def _engine_of(sessions: sessionmaker[Session]) -> Engine:
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        raise TypeError("the session factory is not bound to an engine")
    return bind
