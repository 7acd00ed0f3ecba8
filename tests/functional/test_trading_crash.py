"""Crash safety of order entry: ``kill -9`` of the whole service, and a database gone a moment.

The server runs as users run it (``tradeguard init`` + ``tradeguard serve``, in a process
group of its own), on SQLite and on PostgreSQL. A client process (``order_sender.py``)
sends orders over HTTPS from several connections and journals every order it sends and
every answer. The service is killed with SIGKILL while orders are in flight. After a
restart: every order acknowledged to the client is stored with its ``order.placed``
event, every denial answered has its ``order.denied`` event, no order is stored without
its event (nothing half-written), ``tradeguard audit verify`` passes, and the desk's
memory (cash, reservations) rebuilds to what the rows say.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from live_trading import UNTHROTTLED_ORDER_ENTRY, postgres_database, tradable
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from live_api import Api, Person
from support import TRADEGUARD, LiveServer, initialise_server, serving
from tradeguard.audit.models import AuditEventRow
from tradeguard.config import Settings
from tradeguard.core.money import Money
from tradeguard.db.engine import build_engine
from tradeguard.trading.models import ExecutionRow, OrderRow, TradingAccount

pytestmark = pytest.mark.live_server

SENDER = Path(__file__).with_name("order_sender.py")
TRADERS = 4
SYMBOLS = 3
ACKS_BEFORE_THE_KILL = 60
WAIT_SECONDS = 90.0


@dataclass(frozen=True)
class Installation:
    """A server's directory and its database."""

    workdir: Path
    database_url: str

    def tradeguard(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """Run a ``tradeguard`` command on the installation."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEGUARD_")}
        env["TRADEGUARD_VAR_DIR"] = str(self.workdir / "var")
        return subprocess.run(
            [TRADEGUARD, *args], cwd=self.workdir, env=env, capture_output=True, check=False
        )

    def engine(self) -> Engine:
        return build_engine(self.database_url)


@dataclass(frozen=True)
class Journal:
    """What the client process sent and was answered."""

    sent: set[str]
    answers: dict[str, tuple[int, str]]

    @classmethod
    def read(cls, path: Path) -> Journal:
        sent: set[str] = set()
        answers: dict[str, tuple[int, str]] = {}
        for line in path.read_text().splitlines():
            parts = line.split()
            if parts[0] == "sent":
                sent.add(parts[1])
            elif len(parts) == 4:
                answers[parts[1]] = (int(parts[2]), parts[3])
        return cls(sent, answers)

    def with_status(self, low: int, high: int) -> dict[str, str]:
        return {cid: what for cid, (status, what) in self.answers.items() if low <= status < high}


@pytest.fixture(params=["sqlite", "postgresql"])
def installation(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Installation]:
    """An initialised installation on each database backend."""
    settings = dict(UNTHROTTLED_ORDER_ENTRY)
    with ExitStack() as stack:
        if request.param == "postgresql":
            settings["DATABASE_URL"] = stack.enter_context(postgres_database())
        lines = [f"TRADEGUARD_{name}={value}" for name, value in settings.items()]
        (tmp_path / ".env").write_text("\n".join(lines) + "\n")
        initialise_server(tmp_path)
        url = settings.get("DATABASE_URL") or _sqlite_url(tmp_path)
        yield Installation(tmp_path, url)


def _sqlite_url(workdir: Path) -> str:
    settings = Settings(_env_file=None, var_dir=workdir / "var")  # type: ignore[call-arg]
    return settings.effective_database_url


def open_traders(installation: Installation, server: LiveServer) -> list[str]:
    """Traders signed up over HTTPS with funded margin accounts; their access tokens."""
    tokens = []
    for _ in range(TRADERS):
        person = Person()
        tokens.append(Api(server).sign_up_with_totp(person)["access_token"])
        opened = installation.tradeguard(
            "accounts", "open", person.email, "--kind", "margin", "--deposit", "1000000.00"
        )
        assert opened.returncode == 0, opened.stderr.decode()
    return tokens


def symbols_of(installation: Installation) -> dict[str, str]:
    listed = installation.tradeguard("instruments", "list", "--json")
    found = sorted(tradable(json.loads(listed.stdout)).items())[:SYMBOLS]
    return {symbol: str(price) for symbol, price in found}


def start_sender(
    server: LiveServer, tokens: list[str], symbols: dict[str, str], workdir: Path
) -> tuple[subprocess.Popen[bytes], Path]:
    plan = workdir / f"plan-{uuid.uuid4().hex[:6]}.json"
    plan.write_text(
        json.dumps(
            {
                "port": server.port,
                "ca_file": str(server.ca_file),
                "traders": tokens,
                "symbols": symbols,
                "threads": 6,
            }
        )
    )
    journal = workdir / f"journal-{uuid.uuid4().hex[:6]}.txt"
    journal.touch()
    process = subprocess.Popen([sys.executable, str(SENDER), str(plan), str(journal)])
    return process, journal


def wait_for_acks(journal: Path, count: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while len(Journal.read(journal).with_status(200, 300)) < count:
        assert time.monotonic() < deadline, "the client got too few answers"
        time.sleep(0.05)


def stored(installation: Installation) -> dict[str, Any]:
    """Orders, their audit events and executions as committed."""
    engine = installation.engine()
    try:
        with engine.connect() as db:
            orders = {
                cid: oid for oid, cid in db.execute(select(OrderRow.id, OrderRow.client_order_id))
            }
            events = db.execute(
                select(AuditEventRow.event_type, AuditEventRow.subject, AuditEventRow.record)
            ).all()
            executions = db.scalars(select(ExecutionRow.order_id)).all()
            accounts = db.execute(
                select(
                    TradingAccount.settled_cash_cents,
                    TradingAccount.equity_cents,
                )
            ).all()
    finally:
        engine.dispose()
    return {"orders": orders, "events": events, "executions": executions, "accounts": accounts}


def denied_client_ids(events: list[Any]) -> set[str]:
    return {
        json.loads(bytes(record))["data"]["client_order_id"]
        for event_type, _, record in events
        if event_type == "order.denied"
    }


def test_kill_9_of_the_whole_service_loses_no_acknowledged_order_and_half_writes_none(
    installation: Installation,
) -> None:
    with serving(installation.workdir) as (server, process):
        tokens = open_traders(installation, server)
        symbols = symbols_of(installation)
        sender, journal = start_sender(server, tokens, symbols, installation.workdir)
        wait_for_acks(journal, ACKS_BEFORE_THE_KILL)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
        sender.wait(timeout=60)

    answered = Journal.read(journal)
    found = stored(installation)
    acknowledged = answered.with_status(200, 300)
    assert len(acknowledged) >= ACKS_BEFORE_THE_KILL
    assert {cid: found["orders"].get(cid) for cid in acknowledged} == acknowledged
    placed = {subject for kind, subject, _ in found["events"] if kind == "order.placed"}
    assert placed == set(found["orders"].values())  # no order without its event, nor the reverse
    assert set(found["executions"]) <= placed
    trades = sum(1 for kind, _, _ in found["events"] if kind == "trade.executed")
    assert len(found["executions"]) == 2 * trades
    assert set(answered.with_status(422, 423)) <= denied_client_ids(found["events"])
    assert set(found["orders"]) <= answered.sent
    verified = installation.tradeguard("audit", "verify")
    assert verified.returncode == 0, verified.stdout.decode() + verified.stderr.decode()

    with serving(installation.workdir, server.port) as (server, _):
        api = Api(server)
        committed = {(row.settled_cash_cents, row.equity_cents) for row in found["accounts"]}
        for token in tokens:  # the desk's memory, rebuilt, holds what the rows hold
            account = api.expect("GET", "/v1/account", token=token)
            rebuilt = (
                Money.parse(account["settled_cash"]).cents,
                Money.parse(account["equity"]).cents,
            )
            assert rebuilt in committed
        more = {
            "client_order_id": "after-the-crash",
            "symbol": next(iter(symbols)),
            "side": "buy",
            "type": "limit",
            "quantity": 1,
            "limit_price": str(Money.parse(next(iter(symbols.values()))) - Money.parse("1.00")),
        }
        status, body = api.call("POST", "/v1/orders", more, tokens[0])
        assert status == 201, body


def test_a_database_gone_for_a_moment_refuses_orders_with_503_then_recovers_by_itself(
    installation: Installation,
) -> None:
    with serving(installation.workdir) as (server, _):
        tokens = open_traders(installation, server)[:1]
        symbol, reference = next(iter(symbols_of(installation).items()))
        api = Api(server)

        quantities = {"before": 1, "during": 2}  # other terms: no duplicate-order denial

        def order(client_order_id: str) -> tuple[int, Any]:
            body = {
                "client_order_id": client_order_id,
                "symbol": symbol,
                "side": "buy",
                "type": "limit",
                "quantity": quantities[client_order_id],
                "limit_price": str(Money.parse(reference) - Money.parse("1.00")),
            }
            return api.call("POST", "/v1/orders", body, tokens[0])

        assert order("before")[0] == 201
        with database_unavailable(installation):
            status, body = order("during")
            assert status == 503, body  # the desk's or, first, the gate's database read
            assert body["reason_code"] in {"TRADING_UNAVAILABLE", "SERVICE_UNAVAILABLE"}, body
        deadline = time.monotonic() + 30
        while (answer := order("during"))[0] == 503:
            assert time.monotonic() < deadline, answer
            time.sleep(0.5)
        assert answer[0] == 201, answer
    found = stored(installation)
    assert {"before", "during"} <= set(found["orders"])
    verified = installation.tradeguard("audit", "verify")
    assert verified.returncode == 0, verified.stdout.decode() + verified.stderr.decode()


class database_unavailable:  # noqa: N801 - used as a context manager
    """SQLite: another process holds the write lock; PostgreSQL: connections refused."""

    def __init__(self, installation: Installation) -> None:
        self.url = make_url(installation.database_url)
        self._held: sqlite3.Connection | None = None

    def __enter__(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            self._held = sqlite3.connect(str(self.url.database), isolation_level=None)
            self._held.execute("BEGIN EXCLUSIVE")
        else:
            self._postgres(allow=False)

    def __exit__(self, *_: object) -> None:
        if self._held is not None:
            self._held.execute("ROLLBACK")
            self._held.close()
        else:
            self._postgres(allow=True)

    def _postgres(self, *, allow: bool) -> None:
        name = self.url.database
        admin = self.url.set(drivername="postgresql", database="postgres")
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as db:
            db.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allow).lower()}')
            if not allow:
                db.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,),
                )
