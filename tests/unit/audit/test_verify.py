"""Verification detects every kind of tampering, and names the first bad sequence number."""

from __future__ import annotations

import hashlib
import json

import pytest
from audit_kit import AuditKit
from sqlalchemy import select

from tradeguard.audit.merkle import CompactTree, leaf_hash
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.records import CHAIN_PREFIX, GENESIS_CHAIN


@pytest.fixture(params=["one-process", "worker-processes"])
def trail(audit: AuditKit, request: pytest.FixtureRequest) -> AuditKit:
    """Twelve events: checkpoints at 5 and 10, events 11 and 12 after the last checkpoint.

    Every case runs twice: verified in this process, and by worker processes.
    """
    if request.param == "worker-processes":
        audit.parallel_from = 1
    audit.record_many(12)
    assert audit.verify().ok
    return audit


def _broken_at(audit: AuditKit, seq: int, fragment: str) -> None:
    result = audit.verify()
    assert not result.ok
    assert result.first_bad_seq == seq, result.problem
    assert fragment in (result.problem or "")


def test_verify_when_intact_then_ok_with_counts(trail: AuditKit) -> None:
    result = trail.verify()
    assert (result.ok, result.events, result.checkpoints) == (True, 12, 2)
    assert result.line() == "audit trail intact: 12 events, 2 checkpoints verified"


def test_verify_when_record_edited_then_names_the_event(trail: AuditKit) -> None:
    trail.tamper(
        "UPDATE audit_events SET record = :record WHERE seq = 7",
        record=_record(trail, 7).replace(b'"n":6', b'"n":9'),
    )
    _broken_at(trail, 7, "edited")


def test_verify_when_searchable_column_edited_then_detected(trail: AuditKit) -> None:
    trail.tamper("UPDATE audit_events SET actor_id = 'someone-else' WHERE seq = 3")
    _broken_at(trail, 3, "searchable columns differ")


def test_verify_when_row_deleted_then_gap_reported(trail: AuditKit) -> None:
    trail.tamper("DELETE FROM audit_events WHERE seq = 4")
    _broken_at(trail, 4, "missing")


def test_verify_when_pair_reordered_then_chain_breaks_at_the_first(trail: AuditKit) -> None:
    eighth, ninth = _row(trail, 8), _row(trail, 9)
    _overwrite(trail, 8, ninth, event_id="placeholder")
    _overwrite(trail, 9, eighth, event_id=eighth.event_id)
    trail.tamper(
        "UPDATE audit_events SET event_id = :event_id WHERE seq = 8", event_id=ninth.event_id
    )
    _broken_at(trail, 8, "chain is broken")


def test_verify_when_tail_after_last_checkpoint_deleted_then_truncation_reported(
    trail: AuditKit,
) -> None:
    trail.tamper("DELETE FROM audit_events WHERE seq > 10")
    _broken_at(trail, 11, "tail truncated")


def test_verify_when_events_covered_by_checkpoint_deleted_then_reported(trail: AuditKit) -> None:
    trail.tamper("DELETE FROM audit_events WHERE seq > 8")
    _broken_at(trail, 9, "missing")


def test_verify_when_database_rewritten_with_recomputed_hashes_then_signatures_fail(
    trail: AuditKit,
) -> None:
    """An insider edits event 2 and recomputes every hash and root, but has no signing key."""
    edited = _record(trail, 2).replace(b'"n":1', b'"n":7')
    records = {seq: _record(trail, seq) for seq in range(1, 13)} | {2: edited}
    tree, chain, roots = CompactTree(), GENESIS_CHAIN, {}
    for seq in range(1, 13):
        leaf = leaf_hash(records[seq])
        chain = hashlib.sha256(CHAIN_PREFIX + chain + leaf).digest()
        tree.append(leaf)
        trail.tamper(
            "UPDATE audit_events SET record = :record, leaf_hash = :leaf, chain_hash = :chain "
            "WHERE seq = :seq",
            record=records[seq],
            leaf=leaf,
            chain=chain,
            seq=seq,
        )
        roots[seq] = (tree.root(), chain)
    for size in (5, 10):
        trail.tamper(
            "UPDATE audit_checkpoints SET root_hash = :root, chain_hash = :chain "
            "WHERE tree_size = :size",
            root=roots[size][0],
            chain=roots[size][1],
            size=size,
        )
    _broken_at(trail, 5, "invalid signature")


def test_verify_when_checkpoint_signature_forged_then_reported(trail: AuditKit) -> None:
    trail.tamper(
        "UPDATE audit_checkpoints SET signature = :forged WHERE tree_size = 10", forged=bytes(64)
    )
    result = trail.verify()
    assert not result.ok
    assert result.first_bad_seq == 10
    assert "signature" in (result.problem or "") or "disagree" in (result.problem or "")


def test_verify_when_signature_forged_and_witness_rewritten_then_signature_still_fails(
    trail: AuditKit,
) -> None:
    trail.tamper(
        "UPDATE audit_checkpoints SET signature = :forged WHERE tree_size = 10", forged=bytes(64)
    )
    lines = trail.witness.path.read_text().splitlines()
    document = json.loads(lines[1])
    document["signature"] = "A" * 86 + "=="
    lines[1] = json.dumps(document, sort_keys=True)
    trail.witness.path.write_text("\n".join(lines) + "\n")
    _broken_at(trail, 10, "invalid signature")


def test_verify_when_witness_disagrees_then_reported(trail: AuditKit) -> None:
    lines = trail.witness.path.read_text().splitlines()
    document = json.loads(lines[0])
    document["root"] = "00" * 32
    lines[0] = json.dumps(document, sort_keys=True)
    trail.witness.path.write_text("\n".join(lines) + "\n")
    _broken_at(trail, 5, "witness and the database disagree")


def test_verify_when_checkpoint_row_deleted_then_witness_reveals_it(trail: AuditKit) -> None:
    trail.tamper("DELETE FROM audit_checkpoints WHERE tree_size = 10")
    _broken_at(trail, 10, "database lacks")


def _row(audit: AuditKit, seq: int) -> AuditEventRow:
    with audit.sessions() as session:
        row = session.scalars(select(AuditEventRow).where(AuditEventRow.seq == seq)).one()
        session.expunge(row)
        return row


def _record(audit: AuditKit, seq: int) -> bytes:
    return bytes(_row(audit, seq).record)


def _overwrite(audit: AuditKit, seq: int, source: AuditEventRow, *, event_id: str) -> None:
    """Put another event's record, hashes and columns at ``seq``."""
    audit.tamper(
        "UPDATE audit_events SET record = :record, leaf_hash = :leaf, chain_hash = :chain, "
        "event_id = :event_id, ts_ns = :ts_ns, subject = :subject WHERE seq = :seq",
        record=bytes(source.record),
        leaf=bytes(source.leaf_hash),
        chain=bytes(source.chain_hash),
        event_id=event_id,
        ts_ns=source.ts_ns,
        subject=source.subject,
        seq=seq,
    )
