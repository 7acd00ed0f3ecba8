"""A running vault (``tradeguard payments serve``) with its sandbox processor, for tests."""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from support import POSTGRES_ADMIN_URL, TRADEGUARD, require_service
from tradeguard.cards.client import VaultClient, client_context
from tradeguard.gateway.tls import DevCertificatePaths, ensure_dev_certificate
from tradeguard.vault.certificates import (
    ClientCertificatePaths,
    IssuingAuthority,
    ensure_client_certificate,
)


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunningVault:
    """Where a test vault listens and the files it was given."""

    workdir: Path
    port: int
    intake_port: int
    tls_dir: Path
    database_file: Path | None

    @property
    def ca(self) -> DevCertificatePaths:
        """The development CA and server pair."""
        return DevCertificatePaths.under(self.tls_dir)

    def client(self) -> VaultClient:
        """The main service's client, with the certificate ``init`` issues."""
        paths = ClientCertificatePaths.under(self.tls_dir)
        return VaultClient(
            "127.0.0.1", self.port, client_context(self.ca.ca_cert, paths.cert, paths.key), 10
        )

    def tokenize(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """What a browser does: POST the card to the intake endpoint (server TLS only)."""
        context = ssl.create_default_context(cafile=str(self.ca.ca_cert))
        connection = http.client.HTTPSConnection("127.0.0.1", self.intake_port, context=context)
        try:
            payload = json.dumps(body).encode()
            connection.request(
                "POST", "/v1/tokenize", payload, {"content-type": "application/json"}
            )
            response = connection.getresponse()
            answer: dict[str, Any] = json.loads(response.read())
            return response.status, answer
        finally:
            connection.close()

    def add_card(
        self, owner: str, number: str, client: VaultClient | None = None
    ) -> dict[str, Any]:
        """Tokenize ``number`` for ``owner`` and confirm it (through ``client`` if given, as
        the service's kept connections); the vault's card view."""
        service = client or self.client()
        ticket = service.issue_ticket(owner)["ticket"]
        status, card = self.tokenize(
            {"ticket": ticket, "number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}
        )
        assert status == 201, card
        confirmed = service.confirm(owner, card["id"])
        if client is None:
            service.close()
        return confirmed


def _admin_connection() -> psycopg.Connection[Any]:
    admin = make_url(POSTGRES_ADMIN_URL)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        require_service("PostgreSQL is not reachable")
        raise


@contextmanager
def postgres_vault_database() -> Iterator[str]:
    """A new PostgreSQL database owned by a new role of its own (its URL), dropped after."""
    name = f"tg_vault_{uuid.uuid4().hex[:12]}"
    password = uuid.uuid4().hex
    with _admin_connection() as connection:
        connection.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        connection.execute(f"CREATE DATABASE {name} OWNER {name}")
    url = make_url(POSTGRES_ADMIN_URL).set(username=name, password=password, database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with _admin_connection() as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"DROP ROLE IF EXISTS {name}")


def issue_certificates(tls_dir: Path) -> None:
    """What ``tradeguard init`` makes: the development CA, server and vault client pairs."""
    ensure_dev_certificate(tls_dir, datetime.now(UTC))
    ca = DevCertificatePaths.under(tls_dir)
    ensure_client_certificate(IssuingAuthority(ca.ca_cert, ca.ca_key), tls_dir, datetime.now(UTC))


@contextmanager
def running_vault(workdir: Path, database_url: str | None = None) -> Iterator[RunningVault]:
    """Init the development CA and client certificate, then run the vault until the end."""
    tls_dir = workdir / "var" / "tls"
    issue_certificates(tls_dir)
    vault = RunningVault(
        workdir,
        free_port(),
        free_port(),
        tls_dir,
        None if database_url else workdir / "var" / "payments" / "vault.db",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEGUARD_")}
    env |= {
        "TRADEGUARD_PAYMENTS_VAR_DIR": str(workdir / "var" / "payments"),
        "TRADEGUARD_PAYMENTS_TLS_DIR": str(tls_dir),
        "TRADEGUARD_PAYMENTS_PORT": str(vault.port),
        "TRADEGUARD_PAYMENTS_INTAKE_PORT": str(vault.intake_port),
        "TRADEGUARD_PAYMENTS_PROCESSOR_API_BASE": f"http://127.0.0.1:{free_port()}",
    }
    if database_url:
        env["TRADEGUARD_PAYMENTS_DATABASE_URL"] = database_url
        (workdir / "database-url").write_text(database_url)
    log = (workdir / "vault.log").open("ab")
    process = subprocess.Popen(
        [TRADEGUARD, "payments", "serve"], cwd=workdir, env=env, stdout=log, stderr=log
    )
    try:
        _wait_until_ready(vault, process)
        yield vault
    finally:
        process.terminate()
        process.wait(20)
        log.close()


def _wait_until_ready(vault: RunningVault, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60  # its imports alone take seconds on a loaded machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail((vault.workdir / "vault.log").read_text())
        try:
            if vault.client().health()["processor"]:
                return
        except Exception:  # noqa: BLE001, S110 - not up yet
            pass
        time.sleep(0.2)
    pytest.fail("the vault did not start in time")
