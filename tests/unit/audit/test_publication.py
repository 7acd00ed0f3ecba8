"""A crash between commit and witness is repaired; tampering and a lost database never are."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from pathlib import Path

import pytest
from audit_kit import AuditKit
from sqlalchemy import select

from tradeguard.audit import checkpoints
from tradeguard.audit.checkpoints import WitnessError
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.publication import (
    REPUBLISHED,
    WitnessConflictError,
    repair_at_start,
    republish_missing,
)
from tradeguard.core.errors import StartupError


@pytest.fixture
def trail(audit: AuditKit) -> AuditKit:
    """Twelve events: checkpoints at 5 and 10, both published."""
    audit.record_many(12)
    assert audit.verify().ok
    return audit


def _witness_lines(audit: AuditKit) -> list[str]:
    return audit.witness.path.read_text().splitlines(keepends=True)


def _keep_lines(audit: AuditKit, *indexes: int) -> None:
    lines = _witness_lines(audit)
    audit.witness.path.write_text("".join(lines[index] for index in indexes))


def _republished_events(audit: AuditKit) -> list[dict[str, object]]:
    with audit.sessions() as session:
        records = session.scalars(
            select(AuditEventRow.record).where(AuditEventRow.event_type == REPUBLISHED)
        ).all()
    return [json.loads(record)["data"] for record in records]


def test_verify_when_last_checkpoint_unpublished_then_repairable_with_the_command(
    trail: AuditKit,
) -> None:
    _keep_lines(trail, 0)
    result = trail.verify()
    assert (result.ok, result.repairable, result.first_bad_seq) == (False, True, 10)
    assert "checkpoints at 10 are committed but not yet published" in result.line()
    assert "run `tradeguard audit checkpoint`" in result.line()
    assert result.line().startswith("audit trail intact in the database (12 events, 2 checkpoints")


def test_republish_when_last_checkpoint_unpublished_then_published_and_audited(
    trail: AuditKit,
) -> None:
    _keep_lines(trail, 0)
    done = republish_missing(trail.sessions, trail.trail)
    assert (done.tree_sizes, done.torn_bytes) == ((10,), 0)
    assert [c.tree_size for c, _ in trail.witness.read()] == [5, 10]
    assert _republished_events(trail) == [{"tree_sizes": [10], "partial_line_bytes": 0}]
    assert trail.verify().ok
    assert not republish_missing(trail.sessions, trail.trail).changed
    assert len(_republished_events(trail)) == 1


def test_republish_when_witness_empty_then_every_checkpoint_published(trail: AuditKit) -> None:
    trail.witness.path.unlink()
    assert trail.verify().repairable
    assert republish_missing(trail.sessions, trail.trail).tree_sizes == (5, 10)
    assert trail.verify().ok


def test_republish_when_hole_below_a_published_checkpoint_then_filled(trail: AuditKit) -> None:
    _keep_lines(trail, 1)
    assert republish_missing(trail.sessions, trail.trail).tree_sizes == (5,)
    assert sorted(c.tree_size for c, _ in trail.witness.read()) == [5, 10]
    assert trail.verify().ok


def test_verify_when_witness_ends_in_a_partial_line_then_repairable_and_repaired(
    trail: AuditKit,
) -> None:
    lines = _witness_lines(trail)
    trail.witness.path.write_text(lines[0] + lines[1][:57])
    result = trail.verify()
    assert (result.repairable, result.first_bad_seq) == (True, 10)
    assert "ends with a partial line" in (result.problem or "")
    with pytest.raises(WitnessError, match="partial line"):
        trail.witness.read()
    done = republish_missing(trail.sessions, trail.trail)
    assert (done.tree_sizes, done.torn_bytes) == ((10,), 57)
    assert trail.verify().ok


def test_append_when_last_line_partial_then_cut_before_appending(trail: AuditKit) -> None:
    lines = _witness_lines(trail)
    trail.witness.path.write_text(lines[0] + lines[1][:40])
    trail.record_many(5)
    assert [c.tree_size for c, _ in trail.witness.read()] == [5, 15]


def test_republish_when_witness_contradicts_database_then_refused_and_witness_untouched(
    trail: AuditKit,
) -> None:
    lines = _witness_lines(trail)
    document = json.loads(lines[0])
    document["root"] = "00" * 32
    trail.witness.path.write_text(json.dumps(document, sort_keys=True) + "\n")
    before = trail.witness.path.read_bytes()
    result = trail.verify()
    assert (result.ok, result.repairable, result.first_bad_seq) == (False, False, 5)
    with pytest.raises(WitnessConflictError, match="disagree on the checkpoint at 5"):
        republish_missing(trail.sessions, trail.trail)
    assert trail.witness.path.read_bytes() == before
    assert _republished_events(trail) == []


def test_republish_when_unpublished_checkpoint_no_longer_matches_events_then_refused(
    trail: AuditKit,
) -> None:
    _keep_lines(trail, 0)
    record = json.loads(_record(trail, 8))
    record["data"]["n"] = 999
    trail.tamper(
        "UPDATE audit_events SET record = :record WHERE seq = 8",
        record=json.dumps(record, sort_keys=True, separators=(",", ":")).encode(),
    )
    before = trail.witness.path.read_bytes()
    with pytest.raises(WitnessConflictError, match="checkpoint at 10 is not published again"):
        republish_missing(trail.sessions, trail.trail)
    assert trail.witness.path.read_bytes() == before
    assert not trail.verify().repairable


def test_republish_when_witnessed_events_rewritten_then_anchor_refuses(trail: AuditKit) -> None:
    _keep_lines(trail, 0)
    trail.tamper("UPDATE audit_events SET leaf_hash = :leaf WHERE seq = 2", leaf=b"\x01" * 32)
    with pytest.raises(WitnessConflictError, match="no longer match their published checkpoint"):
        republish_missing(trail.sessions, trail.trail)


def test_verify_when_witness_is_ahead_of_the_database_then_lost_events_and_what_to_do(
    trail: AuditKit,
) -> None:
    _lose_the_tail_after(trail, 7)
    result = trail.verify()
    assert (result.ok, result.repairable, result.first_bad_seq) == (False, False, 8)
    assert "the witness holds a checkpoint at 10 but the database ends at event 7" in (
        result.problem or ""
    )
    assert "Restore the database from a backup that reaches 10" in (result.problem or "")
    with pytest.raises(StartupError, match="database ends at event 7"):
        repair_at_start(trail.sessions, trail.trail)
    assert _republished_events(trail) == []


def _lose_the_tail_after(audit: AuditKit, seq: int) -> None:
    """The database as a power loss without durable commits could leave it: the tail gone."""
    audit.tamper(
        "DELETE FROM audit_checkpoints WHERE tree_size > :seq",
        "DELETE FROM audit_events WHERE seq > :seq",
        "DELETE FROM audit_head",
        seq=seq,
    )


def _record(audit: AuditKit, seq: int) -> bytes:
    with audit.sessions() as session:
        return bytes(
            session.scalars(select(AuditEventRow.record).where(AuditEventRow.seq == seq)).one()
        )


def test_append_when_it_creates_the_file_then_the_directory_is_synced_once(
    audit: AuditKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    monkeypatch.setattr(checkpoints, "fsync_directory", synced.append)
    audit.record_many(10)
    assert synced == [audit.witness.path.parent]
    assert [c.tree_size for c, _ in audit.witness.read()] == [5, 10]


def test_append_when_the_system_writes_a_few_bytes_at_a_time_then_every_line_is_whole(
    audit: AuditKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    monkeypatch.setattr(checkpoints.os, "write", lambda fd, data: real_write(fd, data[:7]))
    audit.record_many(10)
    assert [c.tree_size for c, _ in audit.witness.read()] == [5, 10]


def test_start_when_a_witness_line_is_malformed_then_refused(trail: AuditKit) -> None:
    lines = _witness_lines(trail)
    trail.witness.path.write_text(lines[0] + "not a checkpoint\n" + lines[1])
    with pytest.raises(StartupError, match="line 2 is malformed"):
        repair_at_start(trail.sessions, trail.trail)
    assert trail.verify().first_bad_seq == 1


def test_append_when_the_last_line_cannot_be_a_checkpoint_then_events_commit_and_repair_waits(
    audit: AuditKit,
) -> None:
    audit.witness.path.write_bytes(b"x" * (checkpoints.TAIL_BYTES + 1))
    audit.record_many(5)
    assert audit.trail.publication_failed
    with audit.sessions() as session:
        assert sorted(session.scalars(select(AuditEventRow.seq))) == [1, 2, 3, 4, 5]
    with pytest.raises(WitnessError, match="longer than any checkpoint"):
        republish_missing(audit.sessions, audit.trail)


def test_append_when_another_process_is_mid_append_then_it_waits_and_cuts_nothing(
    trail: AuditKit,
) -> None:
    lines = _witness_lines(trail)
    other = os.open(trail.witness.path, os.O_RDWR | os.O_APPEND)
    fcntl.flock(other, fcntl.LOCK_EX)  # another writer has begun its line
    os.write(other, lines[0][:40].encode())
    appender = threading.Thread(target=trail.record_many, args=(5,))
    appender.start()
    appender.join(timeout=0.5)
    waited = appender.is_alive()
    os.write(other, lines[0][40:].encode())
    os.close(other)  # releases the lock
    appender.join(timeout=10)
    assert waited
    assert [c.tree_size for c, _ in trail.witness.read()] == [5, 10, 5, 15]
