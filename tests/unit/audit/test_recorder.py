"""The one write path: atomic with the change, sequenced, hashed, chained, checkpointed."""

from __future__ import annotations

import base64
import json
import threading

import pytest
from audit_kit import TRADER, AuditKit
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tradeguard.audit.merkle import leaf_hash, root
from tradeguard.audit.models import AuditCheckpointRow, AuditEventRow
from tradeguard.audit.records import Actor, personal_context
from tradeguard.audit.verify import verify_signature
from tradeguard.core.canonical_json import canonical_loads
from tradeguard.crypto.keyring import DataClass
from tradeguard.db.installation import Installation, ensure_installation
from tradeguard.db.session import transaction


def _events(audit: AuditKit) -> list[AuditEventRow]:
    with audit.sessions() as session:
        return list(session.scalars(select(AuditEventRow).order_by(AuditEventRow.seq)))


def test_record_when_transaction_commits_then_event_commits_with_the_change(
    audit: AuditKit,
) -> None:
    with transaction(audit.sessions) as session:
        ensure_installation(session, audit.clock, "development")
        audit.trail.record(session, "account.created", TRADER, "account:1", {"type": "cash"})
    [event] = _events(audit)
    assert (event.seq, event.event_type, event.subject, event.actor_id) == (
        1,
        "account.created",
        "account:1",
        "user-1",
    )


def test_record_when_transaction_rolls_back_then_neither_change_nor_event(audit: AuditKit) -> None:
    def change_then_fail() -> None:
        with transaction(audit.sessions) as session:
            ensure_installation(session, audit.clock, "development")
            audit.trail.record(session, "account.created", TRADER, "account:1")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_then_fail()
    with audit.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Installation)) == 0
    assert _events(audit) == []
    audit.record_many(1)
    assert [event.seq for event in _events(audit)] == [1]


def test_record_when_stored_then_canonical_json_with_nanosecond_time_and_actor(
    audit: AuditKit,
) -> None:
    with transaction(audit.sessions) as session:
        audit.trail.record(
            session,
            "order.placed",
            TRADER,
            "order:9",
            {"qty": 100, "price": "12.50"},
            request_id="req-1",
        )
    [event] = _events(audit)
    document = canonical_loads(event.record)
    assert document["ts_ns"] == audit.clock.now_ns()
    assert document["actor"] == {
        "kind": "user",
        "id": "user-1",
        "ip": "203.0.113.7",
        "session_id": "s-1",
        "device_id": "d-1",
    }
    assert document["data"] == {"qty": 100, "price": "12.50"}
    assert document["request_id"] == event.request_id == "req-1"
    assert event.leaf_hash == leaf_hash(event.record)


def test_record_when_data_holds_a_float_then_refused(audit: AuditKit) -> None:
    with pytest.raises(ValueError, match="float"), transaction(audit.sessions) as session:
        audit.trail.record(session, "order.placed", TRADER, "order:1", {"qty": 1.5})


@pytest.mark.parametrize("event_type", ["placed", "Order placed", "order..placed", ""])
def test_record_when_event_type_not_dotted_then_refused(audit: AuditKit, event_type: str) -> None:
    with pytest.raises(ValueError, match="dotted"), transaction(audit.sessions) as session:
        audit.trail.record(session, event_type, TRADER)


def test_personal_data_when_recorded_then_encrypted_under_subject_key(audit: AuditKit) -> None:
    with transaction(audit.sessions) as session:
        audit.trail.record(
            session,
            "account.updated",
            TRADER,
            "user:42",
            {"field": "address"},
            personal={"address": "12 Elm Street"},
        )
    [event] = _events(audit)
    assert b"12 Elm Street" not in event.record
    sealed = canonical_loads(event.record)["personal"]
    assert sealed["subject"] == "user:42"
    with audit.sessions() as session:
        primitive = audit.crypto.subjects.for_reading(session, "user:42", DataClass.AUDIT_PII)
        assert primitive is not None
        opened = primitive.decrypt(
            base64.b64decode(sealed["ciphertext"]), personal_context(event.event_id)
        )
    assert json.loads(opened) == {"address": "12 Elm Street"}


def test_shredding_when_subject_erased_then_personal_data_gone_and_trail_still_verifies(
    audit: AuditKit,
) -> None:
    with transaction(audit.sessions) as session:
        audit.trail.record(
            session, "account.updated", TRADER, "user:42", personal={"name": "Alice"}
        )
    audit.record_many(6)
    with transaction(audit.sessions) as session:
        audit.crypto.subjects.shred(session, "user:42")
    with audit.sessions() as session:
        assert audit.crypto.subjects.for_reading(session, "user:42", DataClass.AUDIT_PII) is None
    assert audit.verify().ok


def test_checkpoints_when_every_five_events_then_signed_roots_and_witness_lines(
    audit: AuditKit,
) -> None:
    audit.record_many(12)
    events = _events(audit)
    with audit.sessions() as session:
        checkpoints = session.scalars(
            select(AuditCheckpointRow).order_by(AuditCheckpointRow.tree_size)
        ).all()
        public = {key.key_id: key.public_bytes for key in audit.crypto.signing.public_keys(session)}
    assert [c.tree_size for c in checkpoints] == [5, 10]
    for checkpoint in checkpoints:
        assert checkpoint.root_hash == root([e.leaf_hash for e in events[: checkpoint.tree_size]])
    published = audit.witness.read()
    assert [c.tree_size for c, _ in published] == [5, 10]
    assert all(verify_signature(c, public[c.key_id]) for c, _ in published)


def test_checkpoint_when_transaction_rolls_back_then_not_published(audit: AuditKit) -> None:
    audit.record_many(4)

    def record_then_fail() -> None:
        with transaction(audit.sessions) as session:
            audit.trail.record(session, "order.placed", TRADER)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        record_then_fail()
    assert audit.witness.read() == []
    audit.record_many(1)
    assert [c.tree_size for c, _ in audit.witness.read()] == [5]
    assert audit.verify().ok


def test_append_only_when_row_updated_or_deleted_then_database_refuses(audit: AuditKit) -> None:
    audit.record_many(5)
    for statement in (
        "UPDATE audit_events SET event_type = 'x.y' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 5",
        "UPDATE audit_checkpoints SET ts_ns = 0",
        "DELETE FROM audit_checkpoints",
    ):
        with (
            pytest.raises((DBAPIError, IntegrityError), match="append-only"),
            audit.engine.begin() as connection,
        ):
            connection.execute(text(statement))
    assert len(_events(audit)) == 5


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_append_only_when_postgres_truncate_then_refused(audit: AuditKit) -> None:
    with pytest.raises(DBAPIError, match="append-only"), audit.engine.begin() as connection:
        connection.execute(text("TRUNCATE audit_events"))


def test_concurrent_writers_when_racing_then_no_gaps_no_duplicates(audit: AuditKit) -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for number in range(25):
                with transaction(audit.sessions) as session:
                    audit.trail.record(
                        session, "order.placed", Actor("user", name), f"order:{number}"
                    )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"user-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [event.seq for event in _events(audit)] == list(range(1, 101))
    assert audit.verify().ok


def test_witness_when_unwritable_then_events_commit_and_verify_reports_it(audit: AuditKit) -> None:
    audit.witness.path.mkdir()
    audit.record_many(5)
    assert [event.seq for event in _events(audit)] == [1, 2, 3, 4, 5]
    result = audit.verify()
    assert not result.ok
    assert "witness" in (result.problem or "")
    audit.witness.path.rmdir()
    result = audit.verify()
    assert (result.ok, result.repairable, result.first_bad_seq) == (False, True, 5)
    assert (result.problem or "").startswith(
        "checkpoints at 5 are committed but not yet published to the witness"
    )
    assert audit.trail.publication_failed


def _append_batch(audit: AuditKit, size: int, name: str = "desk") -> int:
    with transaction(audit.sessions) as session:
        drafts = [
            audit.trail.draft("order.placed", Actor("user", name), f"order:{n}", {"n": n}, None)
            for n in range(size)
        ]
        return audit.trail.append_batch(session, drafts)


def test_append_batch_when_committed_then_numbered_in_order_and_one_checkpoint_after_it(
    audit: AuditKit,
) -> None:
    audit.record_many(3)
    assert _append_batch(audit, 7) == 10
    events = _events(audit)
    assert [event.seq for event in events] == list(range(1, 11))
    assert [canonical_loads(e.record)["data"] for e in events[3:]] == [{"n": n} for n in range(7)]
    assert [c.tree_size for c, _ in audit.witness.read()] == [10]  # due once, after the batch
    assert audit.verify().ok


def test_append_batch_when_rolled_back_then_nothing_and_the_next_event_follows_on(
    audit: AuditKit,
) -> None:
    audit.record_many(2)

    def append_then_fail() -> None:
        with transaction(audit.sessions) as session:
            draft = audit.trail.draft("order.placed", TRADER, "x", {}, None)
            audit.trail.append_batch(session, [draft])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        append_then_fail()
    audit.record_many(1)
    assert [event.seq for event in _events(audit)] == [1, 2, 3]
    assert audit.verify().ok


def test_append_batch_when_racing_single_writers_then_no_gaps_no_duplicates(
    audit: AuditKit,
) -> None:
    audit.record_many(1)  # the head row exists: the one-statement lock is taken
    errors: list[BaseException] = []

    def batches() -> None:
        try:
            for _ in range(10):
                _append_batch(audit, 5)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    def singles() -> None:
        try:
            for number in range(25):
                with transaction(audit.sessions) as session:
                    audit.trail.record(session, "order.placed", TRADER, f"single:{number}")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=batches), threading.Thread(target=singles)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [event.seq for event in _events(audit)] == list(range(1, 77))
    assert audit.verify().ok
