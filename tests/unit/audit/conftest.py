"""Audit fixtures: a trail over the shared test database, emptied after each test."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_kit import AuditKit, build_kit

from tradeguard.core.clock import FixedClock


@pytest.fixture
def audit(clean_database, clock: FixedClock, tmp_path: Path) -> AuditKit:
    return build_kit(clean_database.engine, clock, tmp_path / "witness.jsonl", every_events=5)
