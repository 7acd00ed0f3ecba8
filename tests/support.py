"""Test helpers shared across folders (fixtures live in conftest.py files)."""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, event

from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.runtime import build_crypto, provision_keys
from tradeguard.db.session import session_factory
from tradeguard.gateway.tls import DevCertificatePaths
from tradeguard.registry import Registry

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ONE_WINDOW = 3600
"""An adaptive throttling window, in seconds of real time, that a test's requests all fall
in but once an hour: the default minute's boundary could split a test's rejections
between two windows, so that fewer than it counted on tighten the address."""
RELAXED_RATE_LIMITS: dict[str, object] = {
    "rate_limit_ip_auth": "10000/minute",
    "rate_limit_user_auth": "10000/minute",
    "rate_limit_adaptive_enabled": False,
    "load_shed_enabled": False,
}
"""Settings for tests that sign in many times from one address within a minute (the
rate-limit tests set their own limits and turn adaptive throttling and shedding on)."""


@contextmanager
def listening(target: object, identifier: str, listener: Callable[..., object]) -> Iterator[None]:
    """``listener`` hears ``target``'s ``identifier`` events while the block runs."""
    event.listen(target, identifier, listener)
    try:
        yield
    finally:
        event.remove(target, identifier, listener)


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


TRADEGUARD = str(Path(sys.executable).with_name("tradeguard"))
STARTUP_SECONDS = 180


@dataclass(frozen=True)
class LiveServer:
    host: str
    port: int
    ca_file: Path
    log_file: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def get(self, path: str) -> tuple[http.client.HTTPResponse, bytes]:
        connection = http.client.HTTPSConnection(
            "localhost", self.port, context=self.client_context(), timeout=10
        )
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response, body


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(server: LiveServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited: {server.log_file.read_text()}")
        try:
            server.get("/healthz")
        except (OSError, ssl.SSLError):
            time.sleep(0.2)
        else:
            return
    pytest.fail("server did not start in time")


@contextmanager
def running_server(workdir: Path) -> Iterator[LiveServer]:
    """``tradeguard init`` then ``tradeguard serve`` in ``workdir`` on a free loopback port."""
    initialise_server(workdir)
    with serving(workdir) as (server, _):
        yield server


def _server_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEGUARD_")}
    env.update(TRADEGUARD_VAR_DIR=str(workdir / "var"))
    env.update(
        {f"TRADEGUARD_{name.upper()}": str(value) for name, value in RELAXED_RATE_LIMITS.items()}
    )
    return env


def initialise_server(workdir: Path) -> None:
    """``tradeguard init`` in ``workdir`` (its ``.env`` applies)."""
    env = _server_env(workdir)
    subprocess.run([TRADEGUARD, "init"], cwd=workdir, env=env, check=True, capture_output=True)


@contextmanager
def serving(
    workdir: Path, port: int | None = None
) -> Iterator[tuple[LiveServer, subprocess.Popen[bytes]]]:
    """``tradeguard serve`` on an initialised ``workdir``, in a process group of its own.

    The process may be killed inside the block (``os.killpg``); it is stopped after it.
    A restart passes the ``port`` of the first start: tokens name the server's address.
    """
    env = _server_env(workdir) | {"TRADEGUARD_PORT": str(port or _free_port())}
    server = LiveServer(
        "127.0.0.1",
        int(env["TRADEGUARD_PORT"]),
        DevCertificatePaths.under(workdir / "var" / "tls").ca_cert,
        workdir / "server.log",
    )
    with server.log_file.open("ab") as log:
        process = subprocess.Popen(
            [TRADEGUARD, "serve"],
            cwd=workdir,
            env=env,
            stderr=log,
            stdout=log,
            start_new_session=True,
        )
        try:
            _wait_until_serving(server, process)
            yield server, process
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)


@dataclass(frozen=True)
class TestDatabase:
    """A migrated database on one backend, shared by the tests of a session."""

    __test__ = False
    backend: str
    url: str
    engine: Engine


@dataclass(frozen=True)
class SharedRedis:
    """The test Redis with a key prefix of this test's own (its keys are deleted after)."""

    url: str
    prefix: str


def registry_of(app: FastAPI) -> Registry:
    """The registry ``create_app`` installed on ``app``: the services a test reaches into."""
    registry: Registry = app.state.registry
    return registry


def make_settings(var_dir: Path, **overrides: object) -> Settings:
    """Settings for a test: its own var dir, no .env file, no market data unless asked."""
    values: dict[str, object] = {"var_dir": var_dir, "market_data": "off"}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
