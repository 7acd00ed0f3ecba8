"""A power cut, simulated: only what the trading process made durable (fsync) survives.

The child runs with ``durable_writes.c`` preloaded, which copies each file of the var dir
to a shadow directory whenever the process fsyncs it. Killing the child and putting the
shadow in place of the var dir gives the files as a power cut at that moment would leave
them: every write after a file's last sync is gone. With the durable settings nothing
acknowledged is lost and the next start-up repairs the witness; with SQLite's previous
``synchronous=NORMAL`` the same run loses acknowledged orders, and the witness, ahead of
the database, stops the start (so the simulation can fail).

SQLite only: PostgreSQL is a server of its own whose disk writes this test cannot cut;
its durability rests on ``synchronous_commit`` and ``fsync`` being on, which
tests/unit/db/test_durability.py and the start-up check cover (docs/operations.md,
Durability).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from crash_kit import Installation, add_trader, read_acknowledgements, stored_orders
from trading_flows import add_instrument

from support import TestDatabase, provision_keysets, require_service
from tradeguard.app import create_app
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.crypto.master_key import ensure_master_key
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine
from tradeguard.notify.notifier import MemorySender, Notifier

USER_ID = "0190f3e2-7c1a-7000-8000-0000000000c2"
SHIM_SOURCE = Path(__file__).with_name("durable_writes.c")
ACKNOWLEDGED = 8


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The preload library, compiled for this run."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        require_service("a C compiler is needed to build the power-loss simulation")
    library = tmp_path_factory.mktemp("shim") / "durable_writes.so"
    subprocess.run(
        [str(compiler), "-shared", "-fPIC", "-O2", "-o", str(library), str(SHIM_SOURCE), "-ldl"],
        check=True,
    )
    return str(library)


@pytest.fixture
def installation(tmp_path: Path, clock: FixedClock) -> Installation:
    """An installation of its own: the SQLite database inside the var dir."""
    var = (tmp_path / "var").resolve()
    url = f"sqlite:///{var / 'tradeguard.db'}"
    settings = Settings(_env_file=None, var_dir=var, database_url=url, equal_time_floor_ms=0)  # type: ignore[call-arg]
    ensure_master_key(settings.effective_master_key_file, clock, settings.env)
    engine = build_engine(url)
    migrate.upgrade(engine)
    provision_keysets(settings, engine, clock)
    memory = MemorySender()
    app = create_app(settings, clock=clock, engine=engine, notifier=Notifier(memory, memory))
    add_instrument(app, "ACME", "100.00")
    add_trader(app, USER_ID)
    engine.dispose()
    return Installation(settings, TestDatabase("sqlite", url, engine), USER_ID)


def _power_cut(installation: Installation, shim: str, extra: dict[str, str]) -> list[str]:
    """Run the child until it acknowledged some orders, cut the power; what was answered."""
    var = installation.settings.var_dir
    shadow = var.with_name("durable")
    shutil.copytree(var, shadow)  # everything before the child is on disk
    environment = {"LD_PRELOAD": shim, "DURABLE_WATCH": str(var), "DURABLE_SHADOW": str(shadow)}
    child = installation.start_child("none", 0, 10_000, environment | extra)
    try:
        answered = read_acknowledgements(child, ACKNOWLEDGED)
    finally:
        child.kill()  # the power cut
        child.communicate(timeout=30)
    installation.database.engine.dispose()
    shutil.rmtree(var)
    shadow.rename(var)
    return answered


def test_power_cut_when_durable_settings_then_nothing_acknowledged_lost_and_start_up_repairs(
    installation: Installation, shim: str
) -> None:
    answered = _power_cut(installation, shim, {})
    assert set(answered) <= set(stored_orders(installation.database.engine))
    after_cut = installation.verify()
    assert after_cut.ok or after_cut.repairable, after_cut.line()
    restarted = installation.run_child("none", 0, 1)
    assert restarted.returncode == 0, restarted.stderr
    assert installation.verify().ok, installation.verify().line()


def test_power_cut_when_previous_sqlite_setting_then_acknowledged_orders_lost_and_start_refused(
    installation: Installation, shim: str
) -> None:
    answered = _power_cut(installation, shim, {"CRASH_CHILD_SQLITE_SYNCHRONOUS": "NORMAL"})
    lost = set(answered) - set(stored_orders(installation.database.engine))
    assert lost, "synchronous=NORMAL kept every acknowledged order: the simulation cut nothing"
    after_cut = installation.verify()
    assert (after_cut.ok, after_cut.repairable) == (False, False)
    assert "the witness holds a checkpoint at" in (after_cut.problem or "")
    restarted = installation.run_child("none", 0, 1)
    assert restarted.returncode != 0
    assert "but the database ends at event" in restarted.stderr
