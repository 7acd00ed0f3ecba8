"""Test helpers shared across folders (fixtures live in conftest.py files)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Engine

from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.runtime import build_crypto, provision_keys
from tradeguard.db.session import session_factory

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def require_service(reason: str) -> None:
    """Skip for lack of a service, except in CI, where the service is required."""
    if IN_CI:
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


def provision_keysets(settings: Settings, engine: Engine, clock: Clock) -> None:
    """Create the keys ``tradeguard init`` would create, under the settings' master key."""
    crypto = build_crypto(settings, clock, MemoryKeyEventRecorder())
    with session_factory(engine).begin() as session:
        provision_keys(crypto, session)
