"""Start-up publishes what a crash left unpublished, and refuses a witness beyond the database."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from support import TestDatabase, provision_keysets, registry_of
from tradeguard.app import _checkpoint_if_due, create_app
from tradeguard.audit.checkpoints import Witness
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.publication import REPUBLISHED
from tradeguard.audit.records import Actor
from tradeguard.audit.verify import verify_database
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import StartupError
from tradeguard.db.session import transaction
from tradeguard.notify.notifier import MemorySender, Notifier


def _start(settings: Settings, database: TestDatabase, clock: FixedClock) -> FastAPI:
    memory = MemorySender()
    return create_app(
        settings, clock=clock, engine=database.engine, notifier=Notifier(memory, memory)
    )


def _record_events(app: FastAPI, count: int) -> None:
    services = registry_of(app).services
    for number in range(count):
        with transaction(services.sessions) as session:
            services.audit.record(session, "test.happened", Actor.system("test"), f"n:{number}")


def _republished(database: TestDatabase) -> list[dict[str, object]]:
    with Session(database.engine) as session:
        records = session.scalars(
            select(AuditEventRow.record).where(AuditEventRow.event_type == REPUBLISHED)
        ).all()
    return [json.loads(record)["data"] for record in records]


@pytest.fixture
def started(settings_for, clean_database: TestDatabase, clock: FixedClock) -> Settings:
    """An installation whose trail has a checkpoint after every event, started once."""
    settings = settings_for(audit_checkpoint_events=1)
    provision_keysets(settings, clean_database.engine, clock)
    _record_events(_start(settings, clean_database, clock), 4)
    assert verify_database(clean_database.engine, Witness(settings.effective_witness_file)).ok
    return settings


def test_start_when_the_witness_lost_its_last_lines_then_they_are_published_again(
    started: Settings, clean_database: TestDatabase, clock: FixedClock
) -> None:
    witness = Witness(started.effective_witness_file)
    lines = witness.path.read_text().splitlines(keepends=True)
    witness.path.write_text("".join(lines[:-2]) + lines[-1][:30])
    assert verify_database(clean_database.engine, witness).repairable
    _start(started, clean_database, clock)
    [repair] = _republished(clean_database)
    assert len(repair["tree_sizes"]) == 2  # type: ignore[arg-type]
    assert repair["partial_line_bytes"] == 30
    assert verify_database(clean_database.engine, witness).ok


def test_start_when_the_witness_is_ahead_of_the_database_then_refused(
    started: Settings, clean_database: TestDatabase, clock: FixedClock
) -> None:
    witness = Witness(started.effective_witness_file)
    published = [checkpoint.tree_size for checkpoint, _ in witness.read()]
    kept = published[-1] - 1
    with clean_database.engine.begin() as connection:
        _disable_guards(connection)
        connection.execute(text("DELETE FROM audit_checkpoints WHERE tree_size > :n"), {"n": kept})
        connection.execute(text("DELETE FROM audit_events WHERE seq > :n"), {"n": kept})
        connection.execute(text("DELETE FROM audit_head"))
    with pytest.raises(StartupError, match=f"database ends at event {kept}"):
        _start(started, clean_database, clock)
    assert _republished(clean_database) == []


def _disable_guards(connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        return
    for table in ("audit_events", "audit_checkpoints"):
        connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))


def test_periodic_checkpoint_when_an_append_failed_then_what_is_missing_is_published(
    started: Settings, clean_database: TestDatabase, clock: FixedClock
) -> None:
    app = _start(started, clean_database, clock)
    witness = Witness(started.effective_witness_file)
    witness.path.rename(witness.path.with_name("kept"))
    witness.path.mkdir()  # the append fails (as on a full disk)
    _record_events(app, 2)
    services = registry_of(app).services
    assert services.audit.publication_failed
    witness.path.rmdir()
    witness.path.with_name("kept").rename(witness.path)
    assert verify_database(clean_database.engine, witness).repairable
    _checkpoint_if_due(services)
    assert not services.audit.publication_failed
    assert verify_database(clean_database.engine, witness).ok
    assert len(_republished(clean_database)) == 1
