"""The monitors' parameters over HTTP: read by compliance, changed with aml:parameters, audited."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from identity_flows import build_app, client_at, staff_signed_in
from sqlalchemy import select

from support import registry_of
from tradeguard.aml.watcher import AmlWatcher
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.search import AuditEvent
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

PATH = "/v1/compliance/aml/parameters"


@pytest.fixture
def client(
    settings: Settings, clean_database, clock: FixedClock, mailbox: MemorySender
) -> Iterator[TestClient]:
    app = build_app(settings, clean_database.engine, clock, mailbox)
    with client_at(app) as started:
        yield started


def test_parameters_when_changed_then_versioned_audited_and_the_watcher_rebuilt(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    officer = staff_signed_in(client, mailbox, clock, clean_database.engine, role="COMPLIANCE",
                              level="operator", username="tuner")  # fmt: skip
    before = client.get(PATH, headers=officer.headers).json()
    assert before["structuring"]["band_floor_cents"] == 800_000
    registry = registry_of(client.app)  # type: ignore[arg-type]
    (runner,) = [r for r in registry.watchers.runners if r.name == "aml"]
    runner.run_until_caught_up()
    assert isinstance(runner.watcher, AmlWatcher)
    after = {**before, "structuring": {**before["structuring"], "band_floor_cents": 900_000}}
    changed = client.put(PATH, json={"parameters": after, "reason": "FinCEN advisory, band"},
                         headers=officer.headers)  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert (
        client.get(PATH, headers=officer.headers).json()["structuring"]["band_floor_cents"]
        == 900_000
    )
    runner.run_until_caught_up()  # the server's own loop may have rebuilt it already
    assert isinstance(runner.watcher, AmlWatcher)
    assert runner.watcher.parameters.structuring.band_floor_cents == 900_000
    with clean_database.engine.connect() as db:
        (record,) = db.scalars(
            select(AuditEventRow.record).where(AuditEventRow.event_type == "aml.parameters.changed")
        ).all()
    data = AuditEvent.from_record(bytes(record)).data
    assert data["before"]["structuring"]["band_floor_cents"] == 800_000
    assert data["after"]["structuring"]["band_floor_cents"] == 900_000
    assert data["reason"] == "FinCEN advisory, band"


@pytest.mark.parametrize(
    "change",
    [
        {"structuring": {"window_days": 0}},
        {"structuring": {"band_floor": 1}},
        {"geography": {"call_for_action": ["Iran"]}},
        {"unexpected": 1},
    ],
)
def test_parameters_when_invalid_then_422_and_nothing_changed(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database,
    change: dict[str, object],
) -> None:  # fmt: skip
    officer = staff_signed_in(client, mailbox, clock, clean_database.engine, role="COMPLIANCE",
                              level="operator", username="tuner")  # fmt: skip
    refused = client.put(
        PATH, json={"parameters": change, "reason": "trying"}, headers=officer.headers
    )
    assert refused.status_code == 422, refused.text
    with clean_database.engine.connect() as db:
        changes = db.scalars(
            select(AuditEventRow.seq).where(AuditEventRow.event_type == "aml.parameters.changed")
        ).all()
    assert changes == []
    assert json.dumps(client.get(PATH, headers=officer.headers).json()).count("800000") == 1


def test_parameters_when_read_only_compliance_then_can_read_not_change(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    reader = staff_signed_in(client, mailbox, clock, clean_database.engine, role="COMPLIANCE",
                             level="read-only", username="reader")  # fmt: skip
    current = client.get(PATH, headers=reader.headers)
    assert current.status_code == 200
    refused = client.put(PATH, json={"parameters": current.json(), "reason": "lower it"},
                         headers=reader.headers)  # fmt: skip
    assert refused.status_code == 403
