"""Case fixtures: an audit trail and an alert store over the shared test database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeguard.cases.store import AlertStore
from tradeguard.core.clock import FixedClock
from unit.audit.audit_kit import AuditKit, build_kit


@pytest.fixture
def kit(clean_database, clock: FixedClock, tmp_path: Path) -> AuditKit:
    return build_kit(clean_database.engine, clock, tmp_path / "witness.jsonl", every_events=50)


@pytest.fixture
def store(kit: AuditKit) -> AlertStore:
    return AlertStore(kit.trail, kit.clock)
