"""Encrypted backups: round trips on both backends, no plaintext at rest, tampering refused."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    inspect,
    select,
)
from sqlalchemy.engine import make_url

from tradeguard.core.clock import FixedClock, ns_to_rfc3339
from tradeguard.crypto.backup import (
    DATA_FILE,
    MANIFEST_FILE,
    BackupError,
    BackupService,
    PostgresTools,
    _libpq,
    read_manifest,
)
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.keyring import Keyring
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine
from tradeguard.db.installation import Installation, ensure_installation
from tradeguard.db.session import session_factory

SSN = "078-05-1120"
ACCOUNT = "ACCT-5012345678-TG"
MARKER = "TG-PLAINTEXT-MARKER-7f3a9c51"
SENSITIVE = (SSN, ACCOUNT, MARKER)
# Incompressible and larger than one 1 MiB stream segment, so decryption spans segments.
PAYLOAD = os.urandom(3 * 1024 * 1024)
SEGMENT = 1024 * 1024
# Narrow the `database` fixture's backends for tests of one backend's tools.
POSTGRES_ONLY = pytest.mark.parametrize("database", ["postgresql"], indirect=True)
SQLITE_ONLY = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

probe_metadata = MetaData()
probe = Table(
    "backup_probe",
    probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("secret", String(64), nullable=False),
    Column("payload", LargeBinary),
    comment=MARKER,  # PostgreSQL keeps it in the archive's uncompressed table of contents
)


@dataclass
class Db:
    url: str
    engine: Engine


@dataclass
class Databases:
    """Scratch databases on the backend under test; dropped when the module is done."""

    backend: str
    base_url: str
    directory: Path
    created: list[Db] = field(default_factory=list)

    def new(self) -> Db:
        name = f"tg_backup_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            url = f"sqlite:///{self.directory / name}.db"
        else:
            with self._admin() as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            url = make_url(self.base_url).set(database=name).render_as_string(hide_password=False)
        db = Db(url, build_engine(url))
        self.created.append(db)
        return db

    def drop_all(self) -> None:
        for db in self.created:
            db.engine.dispose()
            if self.backend == "postgresql":
                with self._admin() as admin:
                    admin.execute(
                        f'DROP DATABASE IF EXISTS "{db.engine.url.database}" WITH (FORCE)'
                    )

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        conninfo = make_url(self.base_url).set(drivername="postgresql")
        return psycopg.connect(
            conninfo.render_as_string(hide_password=False), autocommit=True, connect_timeout=3
        )


@dataclass
class Kit:
    databases: Databases
    keyring: Keyring
    clock: FixedClock
    source: Db
    backup: Path
    contents: dict[str, list[tuple[object, ...]]]

    def service(self, **overrides: object) -> tuple[BackupService, MemoryKeyEventRecorder]:
        events = MemoryKeyEventRecorder()
        keyring = overrides.get("keyring", self.keyring)
        tools = overrides.get("tools")
        assert isinstance(keyring, Keyring)
        assert tools is None or isinstance(tools, PostgresTools)
        return BackupService(keyring, self.clock, events, tools), events


def _populate(db: Db, keyring: Keyring, clock: FixedClock, secret: str = SSN) -> None:
    migrate.upgrade(db.engine)
    with session_factory(db.engine).begin() as session:
        keyring.ensure_keysets(session)
        ensure_installation(session, clock, "development")
    probe_metadata.create_all(db.engine)
    with db.engine.begin() as connection:
        connection.execute(
            probe.insert(),
            [
                {"id": 1, "secret": secret, "payload": None},
                {"id": 2, "secret": ACCOUNT, "payload": MARKER.encode()},
                {"id": 3, "secret": MARKER, "payload": PAYLOAD},
            ],
        )


def _contents(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    contents = {}
    with engine.connect() as connection:
        for name in sorted(inspect(connection).get_table_names()):
            table = Table(name, MetaData(), autoload_with=connection)
            rows = connection.execute(select(table).order_by(*table.columns))
            contents[name] = [tuple(row) for row in rows]
    return contents


@pytest.fixture(scope="module")
def databases(database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    scratch = Databases(database.backend, database.url, tmp_path_factory.mktemp("scratch"))
    yield scratch
    scratch.drop_all()


@pytest.fixture(scope="module")
def kit(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Kit:
    """A populated source database and one backup of it, shared by the module's tests."""
    clock = FixedClock(1_795_000_000_123_456_789)
    keyring = Keyring(
        LocalKek(generate_master_key(clock, "development")), clock, MemoryKeyEventRecorder()
    )
    source = databases.new()
    _populate(source, keyring, clock)
    backup = tmp_path_factory.mktemp("backups") / "nightly"
    BackupService(keyring, clock, MemoryKeyEventRecorder()).create(backup, source.engine)
    return Kit(databases, keyring, clock, source, backup, _contents(source.engine))


@pytest.fixture
def copy(kit: Kit, tmp_path: Path) -> Path:
    """A private copy of the module's backup that a test may damage."""
    target = tmp_path / "copy"
    shutil.copytree(kit.backup, target)
    return target


def _edit_manifest(backup: Path, change: Callable[[dict[str, object]], None]) -> None:
    document = json.loads((backup / MANIFEST_FILE).read_text())
    change(document)
    (backup / MANIFEST_FILE).write_text(json.dumps(document))


def _edit_data_section(backup: Path, **values: object) -> None:
    def update(document: dict[str, object]) -> None:
        section = document["data"]
        assert isinstance(section, dict)
        section.update(values)

    _edit_manifest(backup, update)


def _match_checksum(backup: Path) -> None:
    """Make the manifest agree with the data file, so only decryption can notice a change."""
    data = (backup / DATA_FILE).read_bytes()
    _edit_data_section(backup, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def _flip(file: Path, offset: int) -> None:
    data = bytearray(file.read_bytes())
    data[offset] ^= 0x01
    file.write_bytes(bytes(data))


def _truncate(file: Path, keep: int) -> None:
    file.write_bytes(file.read_bytes()[:keep])


def _decrypt(kit: Kit, backup: Path) -> bytes:
    manifest = read_manifest(backup)
    primitive = kit.keyring.streaming_aead_from_wrapped(
        "backup", manifest.wrapped_keyset, manifest.kek_id
    )
    with (backup / DATA_FILE).open("rb") as source:
        return bytes(primitive.new_decrypting_stream(source, manifest.associated_data).read())


# Round trips -------------------------------------------------------------------


def test_backup_when_restored_into_empty_database_then_rows_match(kit: Kit) -> None:
    target = kit.databases.new()
    service, events = kit.service()
    manifest = service.restore(kit.backup, target.engine)
    assert _contents(target.engine) == kit.contents
    assert kit.contents["backup_probe"][2] == (3, MARKER, PAYLOAD)
    assert migrate.current_revision(target.engine) == manifest.alembic_revision
    assert manifest.alembic_revision == migrate.head_revision()
    with session_factory(target.engine)() as session:
        installation = session.scalars(select(Installation)).one()
    assert str(installation.id) == manifest.installation_id
    assert [name for name, _ in events.events] == ["backup.verified", "backup.restored"]


def test_backup_when_created_then_manifest_names_identity_key_and_checksum(kit: Kit) -> None:
    manifest = read_manifest(kit.backup)
    document = json.loads((kit.backup / MANIFEST_FILE).read_text())
    assert document["format"] == "tradeguard-backup/1"
    assert document["backend"] == kit.databases.backend
    assert document["created_at"] == "2026-11-18T11:06:40.123456789Z"
    assert document["created_at_ns"] == kit.clock.now_ns()
    assert document["key"]["key_id"] == kit.keyring.primary_key_id("backup")
    assert document["data"]["size"] == (kit.backup / DATA_FILE).stat().st_size
    assert manifest.plaintext_size > len(PAYLOAD)
    with session_factory(kit.source.engine)() as session:
        wrapped, kek_id = kit.keyring.wrapped_keyset(session, "backup")
    assert (manifest.wrapped_keyset, manifest.kek_id) == (wrapped, kek_id)


def test_backup_when_created_then_events_carry_ids_and_sizes_not_key_material(
    kit: Kit, tmp_path: Path
) -> None:
    service, events = kit.service()
    manifest = service.create(tmp_path / "again", kit.source.engine)
    service.verify(tmp_path / "again")
    assert [name for name, _ in events.events] == ["backup.created", "backup.verified"]
    data = events.events[0][1]
    assert data["backup_id"] == manifest.backup_id
    assert data["key_id"] == manifest.key_id
    assert data["size"] == manifest.size
    manifest_text = (tmp_path / "again" / MANIFEST_FILE).read_text()
    wrapped = json.loads(manifest_text)["key"]["wrapped_keyset"]
    assert all(wrapped not in str(value) for _, event in events.events for value in event.values())


# Nothing readable at rest --------------------------------------------------------


def test_backup_when_scanned_then_no_sensitive_value_in_any_file(kit: Kit) -> None:
    files = [path for path in kit.backup.rglob("*") if path.is_file()]
    assert sorted(path.name for path in files) == [DATA_FILE, MANIFEST_FILE]
    plaintext = _decrypt(kit, kit.backup)
    assert MARKER.encode() in plaintext  # the scan below can fail: the values are in the snapshot
    for path in files:
        raw = path.read_bytes()
        for value in SENSITIVE:
            assert value.encode() not in raw, f"{value} in {path.name}"
        assert PAYLOAD[:64] not in raw


def test_backup_when_created_then_private_modes_and_no_leftovers(kit: Kit) -> None:
    assert stat.S_IMODE(kit.backup.stat().st_mode) == 0o700
    for path in kit.backup.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [path.name for path in kit.backup.parent.iterdir()] == ["nightly"]
    if kit.databases.backend == "sqlite":
        database = Path(kit.source.engine.url.database or "")
        assert not [p for p in database.parent.iterdir() if p.name.startswith(".tradeguard")]


def test_create_when_path_exists_then_refused(kit: Kit) -> None:
    service, events = kit.service()
    with pytest.raises(BackupError, match=f"backup {kit.backup} already exists"):
        service.create(kit.backup, kit.source.engine)
    assert events.events == []


@POSTGRES_ONLY
def test_create_when_pg_dump_missing_then_clear_error_and_no_backup(
    kit: Kit, tmp_path: Path
) -> None:
    service, _ = kit.service(tools=PostgresTools(pg_dump=tmp_path / "no" / "pg_dump"))
    with pytest.raises(BackupError, match=r"no/pg_dump not found"):
        service.create(tmp_path / "backup", kit.source.engine)
    assert list(tmp_path.iterdir()) == []


@POSTGRES_ONLY
def test_create_when_pg_dump_fails_then_its_error_and_no_backup(kit: Kit, tmp_path: Path) -> None:
    fake = _program(
        tmp_path / "pg_dump",
        "printf 'PGDMP partial archive'\n"
        "echo 'pg_dump: error: query failed: permission denied for table x' >&2\n"
        "exit 1",
    )
    service, events = kit.service(tools=PostgresTools(pg_dump=fake))
    with pytest.raises(BackupError, match=r"^pg_dump failed \(exit 1\): pg_dump: error: query"):
        service.create(tmp_path / "out" / "backup", kit.source.engine)
    assert list((tmp_path / "out").iterdir()) == []
    assert events.events == []


def test_libpq_when_url_has_password_then_only_in_environment() -> None:
    url = make_url("postgresql+psycopg://ops:s3cret-pw@db.internal:5433/trading?sslmode=require")
    conninfo, env = _libpq(url)
    assert conninfo == "postgresql://ops@db.internal:5433/trading?sslmode=require"
    assert env["PGPASSWORD"] == "s3cret-pw"


def _program(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o700)
    return path


@SQLITE_ONLY
def test_create_when_sqlite_file_missing_then_clear_error(kit: Kit, tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'gone.db'}")
    service, _ = kit.service()
    with pytest.raises(BackupError, match=f"database file {tmp_path / 'gone.db'} does not exist"):
        service.create(tmp_path / "backup", engine)
    assert not (tmp_path / "gone.db").exists()
    assert not (tmp_path / "backup").exists()


# Verification ----------------------------------------------------------------------


def test_verify_when_intact_then_summary_and_event(kit: Kit, copy: Path) -> None:
    service, events = kit.service()
    manifest = service.verify(copy)
    assert manifest == read_manifest(kit.backup)
    assert events.events[0][0] == "backup.verified"


def test_verify_when_ciphertext_byte_flipped_then_checksum_mismatch(kit: Kit, copy: Path) -> None:
    _flip(copy / DATA_FILE, 100)
    service, events = kit.service()
    with pytest.raises(BackupError, match=f"^{copy / DATA_FILE} checksum mismatch"):
        service.verify(copy)
    assert events.events == []


@pytest.mark.parametrize("where", [0, 40, SEGMENT // 2, SEGMENT + 7, -1])
def test_verify_when_byte_flipped_and_checksum_fixed_then_does_not_decrypt(
    kit: Kit, copy: Path, where: int
) -> None:
    data = copy / DATA_FILE
    _flip(data, where if where >= 0 else data.stat().st_size - 1)
    _match_checksum(copy)
    service, _ = kit.service()
    with pytest.raises(BackupError, match=f"^{data} does not decrypt: tampered"):
        service.verify(copy)


@pytest.mark.parametrize("fix_checksum", [False, True], ids=["as-is", "checksum-fixed"])
@pytest.mark.parametrize("keep", [0, 30, SEGMENT, -16])
def test_verify_when_truncated_then_fails_naming_the_file(
    kit: Kit, copy: Path, keep: int, *, fix_checksum: bool
) -> None:
    data = copy / DATA_FILE
    _truncate(data, keep if keep >= 0 else data.stat().st_size + keep)
    if fix_checksum:
        _match_checksum(copy)
    service, _ = kit.service()
    expected = "does not decrypt" if fix_checksum else "truncated or replaced"
    with pytest.raises(BackupError, match=f"^{data} .*{expected}"):
        service.verify(copy)


def test_verify_when_manifest_checksum_edited_then_mismatch(kit: Kit, copy: Path) -> None:
    _edit_data_section(copy, sha256="0" * 64)
    service, _ = kit.service()
    with pytest.raises(BackupError, match=f"^{copy / DATA_FILE} checksum mismatch"):
        service.verify(copy)


@pytest.mark.parametrize(
    ("section", "member", "value"),
    [
        ("key", "key_id", 12345),
        (None, "backup_id", "01a1fcde-0000-7000-8000-000000000000"),
        (None, "backend", "postgresql-or-sqlite"),
        (None, "alembic_revision", "0001"),
        (None, "created_at_ns", 1),
    ],
)
def test_verify_when_manifest_identity_edited_then_does_not_decrypt(
    kit: Kit, copy: Path, section: str | None, member: str, value: object
) -> None:
    def change(document: dict[str, object]) -> None:
        target = document if section is None else document[section]
        assert isinstance(target, dict)
        target[member] = value
        if member == "created_at_ns":
            document["created_at"] = ns_to_rfc3339(1)

    _edit_manifest(copy, change)
    service, _ = kit.service()
    with pytest.raises(BackupError, match=f"^{copy / DATA_FILE} does not decrypt"):
        service.verify(copy)


def test_verify_when_manifest_plaintext_size_edited_then_refused(kit: Kit, copy: Path) -> None:
    _edit_data_section(copy, plaintext_size=7)
    service, _ = kit.service()
    expected = f"^{copy / DATA_FILE} holds \\d+ bytes, the manifest says 7$"
    with pytest.raises(BackupError, match=expected):
        service.verify(copy)


def test_verify_when_created_at_text_edited_then_manifest_refused(kit: Kit, copy: Path) -> None:
    _edit_manifest(copy, lambda document: document.update(created_at="2020-01-01T00:00:00Z"))
    service, _ = kit.service()
    with pytest.raises(BackupError, match=f"^{copy / MANIFEST_FILE} is malformed: members"):
        service.verify(copy)


def test_verify_when_data_file_from_another_backup_then_does_not_decrypt(
    kit: Kit, copy: Path, tmp_path: Path
) -> None:
    service, _ = kit.service()
    service.create(tmp_path / "other", kit.source.engine)
    shutil.copyfile(tmp_path / "other" / DATA_FILE, copy / DATA_FILE)
    _match_checksum(copy)
    with pytest.raises(BackupError, match=f"^{copy / DATA_FILE} does not decrypt"):
        service.verify(copy)


def test_verify_when_other_master_key_then_clear_error(kit: Kit, copy: Path) -> None:
    stranger = Keyring(
        LocalKek(generate_master_key(kit.clock, "development")),
        kit.clock,
        MemoryKeyEventRecorder(),
    )
    service, events = kit.service(keyring=stranger)
    with pytest.raises(BackupError) as raised:
        service.verify(copy)
    message = str(raised.value)
    assert message.startswith(f"{copy / MANIFEST_FILE}: the backup key (wrapped by")
    assert "does not open with this master key: wrong master key" in message
    assert events.events == []


def test_verify_when_wrapped_keyset_edited_then_clear_error(kit: Kit, copy: Path) -> None:
    def change(document: dict[str, object]) -> None:
        key = document["key"]
        assert isinstance(key, dict)
        key["wrapped_keyset"] = ("A" if key["wrapped_keyset"][0] != "A" else "B") + key[
            "wrapped_keyset"
        ][1:]

    _edit_manifest(copy, change)
    service, _ = kit.service()
    with pytest.raises(BackupError, match="does not open with this master key"):
        service.verify(copy)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda b: (b / MANIFEST_FILE).unlink(), "manifest.json is missing: not a TradeGuard"),
        (lambda b: (b / DATA_FILE).unlink(), "data.enc is missing"),
        (shutil.rmtree, "does not exist or is not a backup directory"),
        (lambda b: (b / MANIFEST_FILE).write_text("{not json"), "manifest.json is malformed"),
        (lambda b: (b / MANIFEST_FILE).write_text("{}"), "member 'key' missing"),
        (
            lambda b: _edit_manifest(b, lambda d: d.update(format="tradeguard-backup/9")),
            "unknown format",
        ),
        (
            lambda b: _edit_manifest(b, lambda d: d.update(created_at_ns="soon")),
            "created_at_ns must be of type int",
        ),
    ],
    ids=["no-manifest", "no-data", "no-backup", "bad-json", "empty", "format", "type"],
)
def test_verify_when_backup_incomplete_then_clear_error(
    kit: Kit, copy: Path, damage: Callable[[Path], None], expected: str
) -> None:
    damage(copy)
    service, _ = kit.service()
    with pytest.raises(BackupError, match=expected) as raised:
        service.verify(copy)
    assert str(copy) in str(raised.value)


# Restoring ------------------------------------------------------------------------


def _non_empty_target(kit: Kit) -> Db:
    target = kit.databases.new()
    _populate(target, kit.keyring, FixedClock(1_700_000_000_000_000_000), secret="other")
    return target


def test_restore_when_target_not_empty_without_force_then_refused_and_unchanged(
    kit: Kit,
) -> None:
    target = _non_empty_target(kit)
    before = _contents(target.engine)
    service, events = kit.service()
    with pytest.raises(BackupError, match=r"is not empty \(\d+ tables, e\.g\. .*--force"):
        service.restore(kit.backup, target.engine)
    assert _contents(target.engine) == before
    assert before != kit.contents
    assert events.events == []


def test_restore_when_target_not_empty_with_force_then_replaced(kit: Kit) -> None:
    target = _non_empty_target(kit)
    service, events = kit.service()
    service.restore(kit.backup, target.engine, force=True)
    assert _contents(target.engine) == kit.contents
    assert events.events[-1][0] == "backup.restored"
    assert events.events[-1][1]["forced"] is True


def test_restore_when_backup_tampered_then_nothing_written(kit: Kit, copy: Path) -> None:
    target = _non_empty_target(kit)
    before = _contents(target.engine)
    _flip(copy / DATA_FILE, (copy / DATA_FILE).stat().st_size - 100)
    service, _ = kit.service()
    with pytest.raises(BackupError, match="checksum mismatch"):
        service.restore(copy, target.engine, force=True)
    assert _contents(target.engine) == before


def test_restore_when_stream_fails_midway_then_old_database_kept(
    kit: Kit, copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Damage after verification (a race) stops the write; no half-written database remains."""
    target = _non_empty_target(kit)
    before = _contents(target.engine)
    data = copy / DATA_FILE
    _flip(data, data.stat().st_size - 100)  # the last segment: earlier ones were written
    _match_checksum(copy)
    service, _ = kit.service()
    monkeypatch.setattr(service, "verify", read_manifest)
    with pytest.raises(BackupError, match="does not decrypt"):
        service.restore(copy, target.engine, force=True)
    assert _contents(target.engine) == before
    _assert_no_scratch_files(target)


@POSTGRES_ONLY
def test_restore_when_pg_restore_fails_then_error_and_database_unchanged(
    kit: Kit, tmp_path: Path
) -> None:
    target = _non_empty_target(kit)
    before = _contents(target.engine)
    fake = _program(
        tmp_path / "pg_restore", "cat >/dev/null\necho 'pg_restore: error: boom' >&2\nexit 1"
    )
    service, events = kit.service(tools=PostgresTools(pg_restore=fake))
    with pytest.raises(
        BackupError, match=r"^pg_restore failed \(exit 1\): pg_restore: error: boom"
    ):
        service.restore(kit.backup, target.engine, force=True)
    assert _contents(target.engine) == before
    assert "backup.restored" not in [name for name, _ in events.events]


def test_restore_when_backend_differs_then_refused(kit: Kit, tmp_path: Path) -> None:
    other = "postgresql" if kit.databases.backend == "sqlite" else "sqlite"
    copy = tmp_path / "copy"
    shutil.copytree(kit.backup, copy)
    _edit_manifest(copy, lambda document: document.update(backend=other))
    service, _ = kit.service()
    with pytest.raises(
        BackupError, match=f"^{copy}: a {other} backup cannot restore into {kit.databases.backend}$"
    ):
        service.restore(copy, kit.databases.new().engine)


@SQLITE_ONLY
def test_restore_when_sqlite_target_has_stale_wal_then_removed(kit: Kit, tmp_path: Path) -> None:
    target = tmp_path / "restored.db"
    _stale_journal(tmp_path / "old.db", target)
    engine = build_engine(f"sqlite:///{target}")
    service, _ = kit.service()
    service.restore(kit.backup, engine, force=True)
    assert _contents(engine) == kit.contents
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    engine.dispose()


def _stale_journal(old: Path, target: Path) -> None:
    """Leave ``target`` with a valid write-ahead log of another database beside it."""
    with closing(sqlite3.connect(old)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA wal_autocheckpoint=0")
        connection.execute("CREATE TABLE unrelated (id INTEGER PRIMARY KEY, note TEXT)")
        connection.execute("INSERT INTO unrelated VALUES (1, 'from another database')")
        connection.commit()
        shutil.copyfile(old, target)
        for suffix in ("-wal", "-shm"):
            shutil.copyfile(f"{old}{suffix}", f"{target}{suffix}")


def _assert_no_scratch_files(db: Db) -> None:
    if db.engine.url.get_backend_name() == "sqlite":
        folder = Path(db.engine.url.database or "").parent
        assert not [path for path in folder.iterdir() if path.name.startswith(".tradeguard")]
