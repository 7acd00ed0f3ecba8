"""An installation for the crash tests, and the child process that crashes in it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from support import RELAXED_RATE_LIMITS, TestDatabase, registry_of
from tradeguard.audit.checkpoints import Witness
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.publication import REPUBLISHED
from tradeguard.audit.records import Actor
from tradeguard.audit.verify import VerificationResult, verify_database
from tradeguard.config import Settings
from tradeguard.core.money import Money
from tradeguard.db.session import transaction
from tradeguard.identity.models import User
from tradeguard.risk.model import AccountKind
from tradeguard.trading.models import OrderRow
from tradeguard.trading.orders.accounts import open_account

CHILD = Path(__file__).with_name("crash_child.py")
CHILD_SECONDS = 120


@dataclass(frozen=True)
class ChildRun:
    """How a child ended and the orders it acknowledged."""

    returncode: int
    acknowledged: list[str]
    stderr: str

    @property
    def killed(self) -> bool:
        """Whether it died of SIGKILL."""
        return self.returncode == -signal.SIGKILL


@dataclass(frozen=True)
class Installation:
    """The var dir and database a child runs in."""

    settings: Settings
    database: TestDatabase
    user_id: str

    def environment(self) -> dict[str, str]:
        """The child's TRADEGUARD_* environment: every event makes a checkpoint."""
        values = {
            "TRADEGUARD_VAR_DIR": str(self.settings.var_dir),
            "TRADEGUARD_DATABASE_URL": self.database.url,
            "TRADEGUARD_AUDIT_CHECKPOINT_EVENTS": "1",
        }
        values |= {f"TRADEGUARD_{k.upper()}": str(v) for k, v in RELAXED_RATE_LIMITS.items()}
        return {**os.environ, **values}

    def start_child(
        self, point: str, crash_on: int, orders: int, extra: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        """Start the trading child, ``extra`` added to its environment."""
        environment = self.environment() | (extra or {})
        command = [sys.executable, str(CHILD), point, str(crash_on), str(orders), self.user_id]
        return subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def run_child(
        self, point: str, crash_on: int, orders: int, extra: dict[str, str] | None = None
    ) -> ChildRun:
        """Run the child to its end (or its crash)."""
        child = self.start_child(point, crash_on, orders, extra)
        out, err = child.communicate(timeout=CHILD_SECONDS)
        return ChildRun(child.returncode, acknowledgements(out), err)

    @property
    def witness(self) -> Witness:
        """The installation's witness."""
        return Witness(self.settings.effective_witness_file)

    def verify(self) -> VerificationResult:
        """``tradeguard audit verify`` on the installation."""
        return verify_database(self.database.engine, self.witness)


def acknowledgements(stdout: str) -> list[str]:
    """The client order ids a child acknowledged."""
    return [line.split()[1] for line in stdout.splitlines() if line.startswith("ACK ")]


def stored_orders(engine: Engine) -> list[str]:
    """Client order ids of the orders in the database."""
    with Session(engine) as session:
        return sorted(session.scalars(select(OrderRow.client_order_id)))


def repairs(engine: Engine) -> int:
    """How many ``audit.witness.republished`` events the trail holds."""
    with Session(engine) as session:
        rows = session.scalars(
            select(AuditEventRow.seq).where(AuditEventRow.event_type == REPUBLISHED)
        )
        return len(list(rows))


def read_acknowledgements(child: subprocess.Popen[str], count: int) -> list[str]:
    """Read the child's answers until ``count`` orders are acknowledged."""
    assert child.stdout is not None
    lines: list[str] = []
    while len(acknowledgements("".join(lines))) < count:
        line = child.stdout.readline()
        assert line, child.stderr.read() if child.stderr else "the child ended"
        lines.append(line)
    return acknowledgements("".join(lines))


def add_trader(app: FastAPI, user_id: str) -> None:
    """A trader who never signs in, with a funded cash account."""
    services = registry_of(app).services
    with transaction(services.sessions) as db:
        db.add(
            User(
                id=user_id,
                username="crashtest",
                email="crashtest@example.com",
                password_hash="!",
                password_changed_at_ns=0,
                role="TRADER",
                status="active",
                permission_version=1,
                created_at_ns=0,
            )
        )
    with transaction(services.sessions) as db:
        open_account(
            db,
            services.audit,
            services.clock,
            Actor.system("test"),
            user_id=user_id,
            kind=AccountKind.CASH,
            deposit_cents=Money.parse("100000.00").cents,
        )
