"""Shared fixtures: settings, databases on both backends, the app and its client."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from support import (
    POSTGRES_ADMIN_URL,
    REDIS_URL,
    RELAXED_RATE_LIMITS,
    LiveServer,
    SharedRedis,
    TestDatabase,
    make_settings,
    provision_keysets,
    require_service,
    running_server,
)
from tradeguard import tables  # noqa: F401 - every table, for cleanup
from tradeguard.app import create_app
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.crypto.master_key import ensure_master_key
from tradeguard.db import migrate
from tradeguard.db.base import Base
from tradeguard.db.engine import build_engine
from tradeguard.notify.notifier import MemorySender, Notifier

SQLITE_TEMPLATE = "template.db"
FROZEN_START = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer TRADEGUARD_* variable or .env file leaks into a test."""
    for key in list(os.environ):
        if key.upper().startswith("TRADEGUARD_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(FROZEN_START)


@pytest.fixture
def foreign_certificate(tmp_path: Path, clock: FixedClock) -> tuple[Path, Path]:
    """A self-signed P-256 certificate and key not issued by the development CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Broker LLC")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(clock.now())
        .not_valid_after(clock.now() + timedelta(days=90))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "foreign.pem", tmp_path / "foreign.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _postgres_database() -> Iterator[TestDatabase]:
    admin = make_url(POSTGRES_ADMIN_URL)
    name = f"tradeguard_test_{uuid.uuid4().hex[:12]}"
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin_connection = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        require_service(f"PostgreSQL not reachable at {admin.host}:{admin.port}: {exc}")
    with admin_connection:
        admin_connection.execute(f'CREATE DATABASE "{name}"')
        url = admin.set(database=name).render_as_string(hide_password=False)
        engine = build_engine(url)
        try:
            migrate.upgrade(engine)
            yield TestDatabase("postgresql", url, engine)
        finally:
            engine.dispose()
            admin_connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _sqlite_database(directory: Path) -> Iterator[TestDatabase]:
    path = directory / "tradeguard.db"
    engine = build_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    shutil.copyfile(path, directory / SQLITE_TEMPLATE)
    yield TestDatabase("sqlite", f"sqlite:///{path}", engine)
    engine.dispose()


def _reset_sqlite(database: TestDatabase) -> None:
    """Put back the freshly migrated file (append-only triggers forbid deleting audit rows)."""
    database.engine.dispose()
    path = Path(str(database.engine.url.database))
    for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(path.with_name(SQLITE_TEMPLATE), path)


def _reset_postgres(database: TestDatabase) -> None:
    """Delete every row, with triggers off for this session (the test role is a superuser)."""
    with database.engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestDatabase]:
    """A migrated database per backend: SQLite always, PostgreSQL when reachable."""
    if request.param == "sqlite":
        yield from _sqlite_database(tmp_path_factory.mktemp("sqlite"))
    else:
        yield from _postgres_database()


@pytest.fixture
def db_session(database: TestDatabase) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    with database.engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            outer.rollback()


@pytest.fixture
def clean_database(database: TestDatabase) -> Iterator[TestDatabase]:
    """The shared database, emptied of rows after a test that commits through the app."""
    yield database
    if database.backend == "sqlite":
        _reset_sqlite(database)
    else:
        _reset_postgres(database)


@pytest.fixture
def shared_redis() -> Iterator[SharedRedis]:
    """Redis for state shared by app instances: required in CI, skipped elsewhere if absent."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        require_service(f"Redis not reachable at {REDIS_URL}: {exc}")
    prefix = f"tgtest-{uuid.uuid4().hex[:12]}:"
    yield SharedRedis(REDIS_URL, prefix)
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)
    client.close()


@pytest.fixture
def settings_for(
    tmp_path: Path, clean_database: TestDatabase, clock: FixedClock
) -> Callable[..., Settings]:
    """Build settings on the test database with a master key in place; overrides allowed."""

    def build(**overrides: object) -> Settings:
        # The equal-time floor of sign-up and reset only slows tests down; the tests of
        # enumeration by timing turn it back on.
        values: dict[str, object] = {"database_url": clean_database.url, "equal_time_floor_ms": 0}
        # Identity tests sign in, and fail to, dozens of times a minute from one address;
        # the rate-limit tests set their own limits and turn adaptive throttling and
        # shedding back on.
        values |= RELAXED_RATE_LIMITS
        values.update(overrides)
        built = make_settings(tmp_path / "var", **values)
        ensure_master_key(built.effective_master_key_file, clock, built.env)
        return built

    return build


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for()


@pytest.fixture
def mailbox() -> MemorySender:
    """Every email and text message the app sends, in memory (codes are read from here)."""
    return MemorySender()


@pytest.fixture
def app(
    settings: Settings, clean_database: TestDatabase, clock: FixedClock, mailbox: MemorySender
) -> FastAPI:
    provision_keysets(settings, clean_database.engine, clock)
    return create_app(
        settings, clock=clock, engine=clean_database.engine, notifier=Notifier(mailbox, mailbox)
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as test:
        yield test


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real HTTPS server (``tradeguard init`` + ``tradeguard serve``) for a test module."""
    with running_server(tmp_path_factory.mktemp("live")) as server:
        yield server
