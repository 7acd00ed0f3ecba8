"""A real TradeGuard HTTPS server in a subprocess, and funded traders signed up on it.

The server is set up the way an operator sets one up: ``tradeguard init`` in a fresh var
directory, then ``tradeguard serve`` on a free loopback port. Traders sign up over HTTPS
like people do (register, the emailed code from the development outbox, password sign-in,
an authenticator app) and end with a full session's access token. Instruments and
brokerage accounts are written straight to the database, as the tests do.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
from sqlalchemy import select, text

from tradeguard.audit.records import Actor
from tradeguard.config import Settings
from tradeguard.core.clock import SystemClock
from tradeguard.core.money import Money, Price
from tradeguard.crypto.runtime import load_keys
from tradeguard.db.engine import build_engine
from tradeguard.db.session import session_factory, transaction
from tradeguard.gateway.tls import DevCertificatePaths
from tradeguard.identity.models import User
from tradeguard.notify.outbox import read_outbox
from tradeguard.risk.model import AccountKind
from tradeguard.trading.models import InstrumentRow
from tradeguard.trading.orders.accounts import open_account
from tradeguard.wiring import build_core

TRADEGUARD = str(Path(sys.executable).with_name("tradeguard"))
BARE_APP = str(Path(__file__).with_name("bare_order_app.py"))
PROFILED_SERVE = str(Path(__file__).with_name("profiled_serve.py"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STARTUP_SECONDS = 300  # a desk process and a worker per core start on a busy machine too
MESSAGE_WAIT_SECONDS = 20
PASSWORD = "violet-Harbor-trumpet-47-quilt"  # noqa: S105 - the bench traders' password
CONSENTS = ["terms_of_service", "privacy_notice"]
JsonBody = Mapping[str, object] | None
SIX_DIGITS = re.compile(r"\b(\d{6})\b")
OPEN_LIMIT = "1000000/minute"
SERVER_SETTINGS: dict[str, object] = {
    # The tests' relaxed limits (tests/support.py RELAXED_RATE_LIMITS) ...
    "rate_limit_ip_auth": "10000/minute",
    "rate_limit_user_auth": "10000/minute",
    "rate_limit_adaptive_enabled": False,
    "load_shed_enabled": False,
    # ... and every trader behind one loopback address: the decisions run, never refuse.
    "rate_limit_ip_order_entry": OPEN_LIMIT,
    "rate_limit_user_order_entry": OPEN_LIMIT,
    "rate_limit_ip_default": OPEN_LIMIT,
    "rate_limit_user_default": OPEN_LIMIT,
}


@dataclass(frozen=True)
class Workspace:
    """One server's var directory, database and port."""

    directory: Path
    database_url: str
    port: int

    @property
    def var_dir(self) -> Path:
        return self.directory / "var"

    @property
    def ca_file(self) -> Path:
        return DevCertificatePaths.under(self.var_dir / "tls").ca_cert

    def env(self) -> dict[str, str]:
        """The environment of ``tradeguard`` commands: this workspace, bench settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEGUARD_")}
        env.update(
            TRADEGUARD_VAR_DIR=str(self.var_dir),
            TRADEGUARD_PORT=str(self.port),
            TRADEGUARD_DATABASE_URL=self.database_url,
        )
        env.update({f"TRADEGUARD_{k.upper()}": str(v) for k, v in SERVER_SETTINGS.items()})
        return env

    def settings(self) -> Settings:
        return Settings(_env_file=None, var_dir=self.var_dir, database_url=self.database_url)

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def connection(self, timeout: float = 30) -> http.client.HTTPSConnection:
        """A new HTTPS connection to the server (verified against the workspace's CA)."""
        return http.client.HTTPSConnection(
            "localhost", self.port, context=self.client_context(), timeout=timeout
        )


def new_workspace(directory: Path, database_url: str | None) -> Workspace:
    """A workspace in ``directory``: SQLite in its var directory unless a URL is given."""
    url = database_url or f"sqlite:///{directory / 'var' / 'tradeguard.db'}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    return Workspace(directory, url, port)


def initialise(workspace: Workspace) -> None:
    """``tradeguard init``: master key, development certificate, migrated database, keys."""
    subprocess.run(  # noqa: S603 - the installed command with fixed arguments
        [TRADEGUARD, "init"],
        cwd=workspace.directory,
        env=workspace.env(),
        check=True,
        capture_output=True,
    )


@dataclass(frozen=True)
class RunningServer:
    """A server process and where it logs."""

    pid: int
    log_file: Path

    def cpu_seconds(self) -> float:
        """User plus system CPU time the process and its children (a supervisor's desk
        process and gateway workers) used so far (Linux ``/proc``; else NaN)."""
        if not Path(f"/proc/{self.pid}/stat").exists():
            return math.nan
        return sum(_process_cpu(pid) for pid in _process_tree(self.pid)) / CLOCK_TICKS


def _process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [int(child) for child in children.read_text().split()] if children.exists() else []
    return [pid, *(descendant for child in found for descendant in _process_tree(child))]


def _process_cpu(pid: int) -> int:
    """Clock ticks of user and system time of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


@contextmanager
def serving(
    workspace: Workspace, command: list[str], name: str, extra_env: dict[str, str] | None = None
) -> Iterator[RunningServer]:
    """Run ``command`` as the workspace's server until the block ends."""
    log_file = workspace.directory / f"{name}.log"
    env = workspace.env() | (extra_env or {})
    with log_file.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - the installed command with fixed arguments
            command, cwd=workspace.directory, env=env, stdout=log, stderr=log
        )
        try:
            _wait_until_serving(workspace, process, log_file)
            yield RunningServer(process.pid, log_file)
        finally:
            process.terminate()
            process.wait(timeout=60)


def tradeguard_command() -> list[str]:
    """``tradeguard serve``."""
    return [TRADEGUARD, "serve"]


def profiled_tradeguard_command() -> list[str]:
    """``tradeguard serve`` under a profiler (``profiled_serve.py``)."""
    return [sys.executable, PROFILED_SERVE]


def bare_command() -> list[str]:
    """The bare order app, served with TradeGuard's uvicorn configuration."""
    return [sys.executable, BARE_APP]


def _wait_until_serving(
    workspace: Workspace, process: subprocess.Popen[bytes], log_file: Path
) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log_file.read_text()[-2000:]}")
        try:
            status, _ = call(workspace, "GET", "/healthz")
        except (OSError, ssl.SSLError):
            time.sleep(0.2)
        else:
            if status == http.client.OK:
                return
    raise RuntimeError("server did not start in time")


def call(
    workspace: Workspace, method: str, path: str, body: JsonBody = None, token: str | None = None
) -> tuple[int, Any]:
    """Status and JSON body of one request on a connection of its own."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection = workspace.connection(timeout=15)
    try:
        connection.request(method, path, None if body is None else json.dumps(body), headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    return response.status, json.loads(raw) if raw else None


def expect(
    workspace: Workspace, method: str, path: str, body: JsonBody = None, token: str | None = None
) -> dict[str, Any]:
    """The JSON body of a request that must succeed."""
    status, answer = call(workspace, method, path, body, token)
    if not 200 <= status < 300 or not isinstance(answer, dict):
        raise RuntimeError(f"{method} {path}: {status} {answer}")
    return answer


# ------------------------------------------------------------------------ reference data


def add_instruments(workspace: Workspace, symbols: tuple[str, ...], reference: Price) -> None:
    """Tier-1, easy-to-borrow instruments with a fresh reference price (before ``serve``)."""
    engine = build_engine(workspace.database_url)
    now = SystemClock().now_ns()
    with transaction(session_factory(engine)) as db:
        for symbol in symbols:
            db.merge(instrument_row(symbol, reference, now))
    engine.dispose()


def instrument_row(symbol: str, reference: Price, now: int) -> InstrumentRow:
    """A tier-1, easy-to-borrow instrument in whole shares and cents, priced at ``reference``."""
    return InstrumentRow(
        symbol=symbol,
        name=f"{symbol} Benchmark Corp.",
        tier=1,
        tick_size=100,
        lot_size=1,
        reference_price=reference.units,
        reference_at_ns=now,
        restricted=False,
        threshold=False,
        easy_to_borrow=True,
        status="active",
        updated_at_ns=now,
    )


def row_counts(workspace: Workspace, tables: tuple[str, ...]) -> dict[str, int]:
    """How many rows each of ``tables`` holds."""
    engine = build_engine(workspace.database_url)
    with engine.connect() as connection:
        counts = {
            table: int(connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)  # noqa: S608 - fixed names
            for table in tables
        }
    engine.dispose()
    return counts


# ------------------------------------------------------------------------ traders


@dataclass(frozen=True)
class SignedUp:
    """A trader with a full session (password and authenticator app)."""

    username: str
    access_token: str


def sign_up_traders(workspace: Workspace, count: int, parallel: int = 8) -> list[SignedUp]:
    """``count`` traders signed up over HTTPS, ``parallel`` at a time."""
    names = [f"bench{uuid.uuid4().hex[:10]}" for _ in range(count)]
    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda name: sign_up(workspace, name), names))


def sign_up(workspace: Workspace, username: str) -> SignedUp:
    """Register, verify the address, sign in, enrol and confirm an authenticator app."""
    email = f"{username}@example.com"
    registration = {"username": username, "email": email, "password": PASSWORD}
    expect(workspace, "POST", "/v1/auth/register", registration | {"consents": CONSENTS})
    code = _emailed_code(workspace, email)
    expect(workspace, "POST", "/v1/auth/verify-email", {"email": email, "code": code})
    login = expect(workspace, "POST", "/v1/auth/login", {"login": username, "password": PASSWORD})
    enrolled = expect(workspace, "POST", "/v1/mfa/totp", token=login["access_token"])
    confirm = f"/v1/mfa/factors/{enrolled['factor']['id']}/confirm"
    totp = {"code": pyotp.TOTP(enrolled["secret"]).now()}
    confirmed = expect(workspace, "POST", confirm, totp, token=login["access_token"])
    return SignedUp(username, confirmed["tokens"]["access_token"])


def _emailed_code(workspace: Workspace, email: str) -> str:
    deadline = time.monotonic() + MESSAGE_WAIT_SECONDS
    while time.monotonic() < deadline:
        for message in read_outbox(workspace.var_dir / "outbox"):
            if message["to"] == email and message["kind"] == "email.verification":
                found = SIX_DIGITS.search(message["text"])
                if found is not None:
                    return found.group(1)
        time.sleep(0.05)
    raise RuntimeError(f"no verification code for {email}")


def open_accounts(workspace: Workspace, traders: list[SignedUp], deposit: Money) -> list[str]:
    """Open a funded margin account for each trader (audited, like ``accounts open``)."""
    settings, clock = workspace.settings(), SystemClock()
    engine = build_engine(workspace.database_url)
    core = build_core(settings, clock, engine)
    with core.sessions() as session:
        load_keys(core.crypto, session)
    with transaction(core.sessions) as db:
        user_ids = dict(db.execute(select(User.username, User.id)).tuples().all())
        account_ids = [
            open_account(
                db,
                core.audit,
                clock,
                Actor.system("bench"),
                user_id=user_ids[trader.username],
                kind=AccountKind.MARGIN,
                deposit_cents=deposit.cents,
            ).id
            for trader in traders
        ]
    engine.dispose()
    return account_ids
