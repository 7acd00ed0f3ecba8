"""Fixtures of the vault tests: one vault per backend for the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vault.vault_process import RunningVault, postgres_vault_database, running_vault


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def vault(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningVault]:
    """A running vault on SQLite, then on a PostgreSQL database with its own role."""
    workdir: Path = tmp_path_factory.mktemp(f"vault-{request.param}")
    if request.param == "sqlite":
        with running_vault(workdir) as running:
            yield running
        return
    with postgres_vault_database() as url, running_vault(workdir, url) as running:
        yield running
