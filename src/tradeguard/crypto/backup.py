"""Encrypted backups: a consistent snapshot of the database, streamed through Tink.

A backup is a directory (mode 0700) holding two files (mode 0600):

``manifest.json``
    ``format`` (``tradeguard-backup/1``), ``backup_id`` (a UUIDv7), ``created_at``
    (RFC 3339 UTC with nanoseconds) and ``created_at_ns``, ``backend`` (``sqlite`` or
    ``postgresql``), ``installation_id`` (or null), ``tradeguard_version``,
    ``alembic_revision``, ``key`` (keyset name ``backup``, its primary ``key_id``, the
    keyset exactly as stored, still wrapped by the key-encryption key, as base64
    ``wrapped_keyset`` with the ``kek_id``) and ``data`` (``file``, ``sha256`` and
    ``size`` of the ciphertext, ``plaintext_size``).
``data.enc``
    The snapshot, encrypted with Tink's streaming AEAD (AES256_GCM_HKDF_1MB) under the
    ``backup`` keyset: the SQLite database file copied by the online backup API, or a
    ``pg_dump --format=custom`` archive. The associated data is the canonical JSON of
    every manifest member except ``data``, so a data file moved under another manifest,
    or a manifest whose identity, key id or keyset was edited, does not decrypt.

The manifest carries the wrapped keyset, so a backup opens with the master key alone,
also on a machine whose database is gone. A backup is written into a hidden sibling
directory and renamed into place: the path holds a whole backup or nothing. Plaintext
touches disk only in a private temporary directory (0700, files 0600) beside the SQLite
database, removed afterwards; PostgreSQL archives are piped and never written in clear.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from io import BufferedWriter
from pathlib import Path
from typing import IO, BinaryIO, TypeVar, cast

import tink
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session
from tink import streaming_aead

from tradeguard import __version__
from tradeguard.core.canonical_json import canonical_dumps, canonical_loads
from tradeguard.core.clock import NS_PER_SECOND, Clock
from tradeguard.core.errors import TradeGuardError
from tradeguard.core.ids import new_id
from tradeguard.core.secure_files import write_atomically
from tradeguard.crypto.events import KeyEventRecorder
from tradeguard.crypto.keyring import DataClass, Keyring, KeyringError
from tradeguard.db import migrate
from tradeguard.db.installation import Installation

FORMAT = "tradeguard-backup/1"
MANIFEST_FILE = "manifest.json"
DATA_FILE = "data.enc"
BACKUP_KEYSET = DataClass.BACKUP.value
CHUNK_BYTES = 1 << 20
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
SQLITE_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
POSTGRES_TABLES = (
    "SELECT n.nspname || '.' || c.relname FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    " AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1"
)

T = TypeVar("T")


class BackupError(TradeGuardError):
    """A backup cannot be created, verified or restored; the message names the file."""


@dataclass(frozen=True, slots=True)
class PostgresTools:
    """The PostgreSQL client programs (their major version must match the server's)."""

    pg_dump: Path = Path("/usr/bin/pg_dump")
    pg_restore: Path = Path("/usr/bin/pg_restore")


@dataclass(frozen=True, slots=True)
class BackupManifest:
    """What a backup's ``manifest.json`` says: identity, key and ciphertext checksum."""

    backup_id: str
    created_at_ns: int
    backend: str
    installation_id: str | None
    tradeguard_version: str
    alembic_revision: str | None
    key_id: int
    kek_id: str
    wrapped_keyset: bytes = field(repr=False)
    sha256: str = ""
    size: int = 0
    plaintext_size: int = 0

    def header(self) -> dict[str, object]:
        """Every member except the data file's checksum and sizes."""
        return {
            "format": FORMAT,
            "backup_id": self.backup_id,
            "created_at": rfc3339_ns(self.created_at_ns),
            "created_at_ns": self.created_at_ns,
            "backend": self.backend,
            "installation_id": self.installation_id,
            "tradeguard_version": self.tradeguard_version,
            "alembic_revision": self.alembic_revision,
            "key": {
                "keyset": BACKUP_KEYSET,
                "key_id": self.key_id,
                "kek_id": self.kek_id,
                "wrapped_keyset": base64.b64encode(self.wrapped_keyset).decode("ascii"),
            },
        }

    def document(self) -> dict[str, object]:
        """The whole manifest as a JSON object."""
        data = {
            "file": DATA_FILE,
            "sha256": self.sha256,
            "size": self.size,
            "plaintext_size": self.plaintext_size,
        }
        return {**self.header(), "data": data}

    @property
    def associated_data(self) -> bytes:
        """What the stream is bound to: the canonical JSON of the header."""
        return canonical_dumps(self.header())


class BackupService:
    """Creates, verifies and restores encrypted backups of the configured database."""

    def __init__(
        self,
        keyring: Keyring,
        clock: Clock,
        events: KeyEventRecorder,
        tools: PostgresTools | None = None,
    ) -> None:
        self._keyring = keyring
        self._clock = clock
        self._events = events
        self._tools = tools or PostgresTools()

    def create(self, path: Path, engine: Engine) -> BackupManifest:
        """Snapshot the database into the new backup directory ``path`` (keyring loaded)."""
        if path.exists() or path.is_symlink():
            raise BackupError(f"backup {path} already exists: choose a new path")
        identity = self._identity(engine)
        path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
        staging = path.parent / f".{path.name}.partial-{secrets.token_hex(4)}"
        staging.mkdir(mode=PRIVATE_DIR_MODE)
        try:
            manifest = self._write(staging, identity, engine)
            staging.rename(path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._events.record("backup.created", _event_data(manifest, path))
        return manifest

    def verify(self, path: Path) -> BackupManifest:
        """Check the manifest, the ciphertext's size and checksum, and decrypt every segment."""
        manifest = read_manifest(path)
        _check_data_file(path, manifest)
        deque(self._plaintext(path, manifest), maxlen=0)
        self._events.record("backup.verified", _event_data(manifest, path))
        return manifest

    def restore(self, path: Path, engine: Engine, *, force: bool = False) -> BackupManifest:
        """Replace the database with a verified backup; a non-empty one only with ``force``."""
        manifest = read_manifest(path)
        backend = engine.dialect.name
        if manifest.backend != backend:
            raise BackupError(
                f"{path / MANIFEST_FILE}: a {manifest.backend} backup cannot be restored "
                f"into a {backend} database"
            )
        _refuse_non_empty(engine, force=force)
        self.verify(path)
        engine.dispose()
        if backend == "sqlite":
            self._restore_sqlite(path, manifest, _sqlite_file(engine.url))
        else:
            self._restore_postgres(path, manifest, engine.url)
        _check_revision(engine, manifest)
        self._events.record("backup.restored", {**_event_data(manifest, path), "forced": force})
        return manifest

    # Creating ----------------------------------------------------------------

    def _identity(self, engine: Engine) -> BackupManifest:
        if engine.dialect.name == "sqlite" and not _sqlite_file(engine.url).is_file():
            raise BackupError(f"database file {_sqlite_file(engine.url)} does not exist")
        revision = migrate.current_revision(engine)
        if revision is None:
            raise BackupError("the database was never migrated: nothing to back up")
        with Session(engine) as session:
            wrapped, kek_id = self._keyring.wrapped_keyset(session, BACKUP_KEYSET)
            installation = session.scalars(select(Installation.id).limit(1)).one_or_none()
        return BackupManifest(
            backup_id=str(new_id(self._clock)),
            created_at_ns=self._clock.now_ns(),
            backend=engine.dialect.name,
            installation_id=None if installation is None else str(installation),
            tradeguard_version=__version__,
            alembic_revision=revision,
            key_id=self._keyring.primary_key_id(BACKUP_KEYSET),
            kek_id=kek_id,
            wrapped_keyset=wrapped,
        )

    def _write(self, staging: Path, identity: BackupManifest, engine: Engine) -> BackupManifest:
        data = staging / DATA_FILE
        with self._snapshot(engine) as chunks:
            plaintext_size = self._encrypt(chunks, data, identity.associated_data)
        manifest = replace(
            identity,
            sha256=_synced_sha256(data),
            size=data.stat().st_size,
            plaintext_size=plaintext_size,
        )
        write_atomically(staging / MANIFEST_FILE, _render(manifest))
        return manifest

    def _snapshot(self, engine: Engine) -> AbstractContextManager[Iterator[bytes]]:
        if engine.dialect.name == "sqlite":
            return _sqlite_snapshot(_sqlite_file(engine.url))
        return _pg_dump(engine.url, self._tools.pg_dump)

    def _encrypt(self, chunks: Iterable[bytes], target: Path, associated_data: bytes) -> int:
        primitive = self._keyring.streaming_aead(DataClass.BACKUP)
        size = 0
        with _private_file(target) as sink:
            stream: BinaryIO = primitive.new_encrypting_stream(sink, associated_data)
            with stream:
                for chunk in chunks:
                    stream.write(chunk)
                    size += len(chunk)
        return size

    # Reading -----------------------------------------------------------------

    def _plaintext(self, path: Path, manifest: BackupManifest) -> Iterator[bytes]:
        primitive = self._open_keyset(path, manifest)
        data, total = path / DATA_FILE, 0
        try:
            with data.open("rb") as source:
                stream: BinaryIO = primitive.new_decrypting_stream(source, manifest.associated_data)
                with stream:
                    while chunk := stream.read(CHUNK_BYTES):
                        total += len(chunk)
                        yield chunk
        except tink.TinkError:
            raise BackupError(
                f"{data} does not decrypt: tampered, truncated, taken from another backup, "
                "or its manifest was edited"
            ) from None
        if total != manifest.plaintext_size:
            raise BackupError(
                f"{data} holds {total} bytes of data, the manifest says {manifest.plaintext_size}"
            )

    def _open_keyset(self, path: Path, manifest: BackupManifest) -> streaming_aead.StreamingAead:
        try:
            return self._keyring.streaming_aead_from_wrapped(
                BACKUP_KEYSET, manifest.wrapped_keyset, manifest.kek_id
            )
        except KeyringError:
            raise BackupError(
                f"{path / MANIFEST_FILE}: the backup key (wrapped by key-encryption key "
                f"{manifest.kek_id}) does not open with this master key: "
                "wrong master key or tampered manifest"
            ) from None

    # Restoring ---------------------------------------------------------------

    def _restore_sqlite(self, path: Path, manifest: BackupManifest, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
        with _private_dir(target.parent) as scratch:
            staged = scratch / "restore.db"
            with _private_file(staged) as sink:
                for chunk in self._plaintext(path, manifest):
                    sink.write(chunk)
                sink.flush()
                os.fsync(sink.fileno())
            # Stale journals of the old file would be replayed into the new one.
            for suffix in SQLITE_SIDE_FILES:
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            staged.replace(target)

    def _restore_postgres(self, path: Path, manifest: BackupManifest, url: URL) -> None:
        conninfo, env = _libpq(url)
        arguments = [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",  # a failure part-way leaves the database as it was
            "--exit-on-error",
            f"--dbname={conninfo}",
        ]
        program = self._tools.pg_restore
        with tempfile.TemporaryFile() as errors:
            process = _spawn(program, arguments, env, errors, feed=True)
            try:
                _feed(cast("IO[bytes]", process.stdin), self._plaintext(path, manifest))
                process.wait()
            finally:
                _stop(process)
            _require_success(process, program, errors)


# Manifest --------------------------------------------------------------------


def read_manifest(path: Path) -> BackupManifest:
    """Read and check a backup's manifest; every problem names the file."""
    if not path.is_dir():
        raise BackupError(f"backup {path} does not exist or is not a backup directory")
    manifest_file = path / MANIFEST_FILE
    if not manifest_file.is_file():
        raise BackupError(f"{manifest_file} is missing: not a TradeGuard backup, or incomplete")
    try:
        return _parse_manifest(canonical_loads(manifest_file.read_bytes()))
    except KeyError as exc:
        raise BackupError(f"{manifest_file} is malformed: member {exc} missing") from None
    except (TypeError, ValueError) as exc:
        raise BackupError(f"{manifest_file} is malformed: {exc}") from None


def rfc3339_ns(ns: int) -> str:
    """RFC 3339 UTC text with nanoseconds for Unix epoch nanoseconds."""
    seconds, fraction = divmod(ns, NS_PER_SECOND)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.{fraction:09d}Z"


def _parse_manifest(raw: object) -> BackupManifest:
    key, data = _required(raw, "key", dict), _required(raw, "data", dict)
    if _required(raw, "format", str) != FORMAT:
        raise ValueError(f"unknown format (expected {FORMAT})")
    manifest = BackupManifest(
        backup_id=_required(raw, "backup_id", str),
        created_at_ns=_required(raw, "created_at_ns", int),
        backend=_required(raw, "backend", str),
        installation_id=_optional(raw, "installation_id", str),
        tradeguard_version=_required(raw, "tradeguard_version", str),
        alembic_revision=_optional(raw, "alembic_revision", str),
        key_id=_required(key, "key_id", int),
        kek_id=_required(key, "kek_id", str),
        wrapped_keyset=base64.b64decode(_required(key, "wrapped_keyset", str), validate=True),
        sha256=_required(data, "sha256", str),
        size=_required(data, "size", int),
        plaintext_size=_required(data, "plaintext_size", int),
    )
    if canonical_dumps(manifest.document()) != canonical_dumps(raw):
        raise ValueError("members do not match the backup format (edited by hand?)")
    return manifest


def _required(container: object, key: str, kind: type[T]) -> T:
    value = _optional(container, key, kind)
    if value is None:
        raise TypeError(f"{key} must not be null")
    return value


def _optional(container: object, key: str, kind: type[T]) -> T | None:
    if not isinstance(container, dict):
        raise TypeError("expected a JSON object")
    value = container[key]
    if value is None or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise TypeError(f"{key} must be of type {kind.__name__}")


def _render(manifest: BackupManifest) -> bytes:
    return canonical_dumps(manifest.document()) + b"\n"


def _event_data(manifest: BackupManifest, path: Path) -> dict[str, object]:
    return {
        "backup_id": manifest.backup_id,
        "path": str(path),
        "backend": manifest.backend,
        "key_id": manifest.key_id,
        "alembic_revision": manifest.alembic_revision,
        "size": manifest.size,
        "plaintext_size": manifest.plaintext_size,
    }


def _check_data_file(path: Path, manifest: BackupManifest) -> None:
    data = path / DATA_FILE
    if not data.is_file():
        raise BackupError(f"{data} is missing")
    size = data.stat().st_size
    if size != manifest.size:
        raise BackupError(
            f"{data} is {size} bytes, the manifest says {manifest.size}: truncated or replaced"
        )
    if _synced_sha256(data) != manifest.sha256:
        raise BackupError(f"{data} checksum mismatch: its SHA-256 differs from the manifest's")


# Files -----------------------------------------------------------------------


@contextmanager
def _private_dir(parent: Path) -> Iterator[Path]:
    """A 0700 temporary directory in ``parent``, removed with everything in it."""
    with tempfile.TemporaryDirectory(dir=parent, prefix=".tradeguard-backup-") as name:
        yield Path(name)


def _private_file(path: Path) -> BufferedWriter:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    return os.fdopen(descriptor, "wb")


def _chunks(source: IO[bytes]) -> Iterator[bytes]:
    while chunk := source.read(CHUNK_BYTES):
        yield chunk


def _synced_sha256(file: Path) -> str:
    with file.open("rb") as handle:
        os.fsync(handle.fileno())
        return hashlib.file_digest(handle, "sha256").hexdigest()


# SQLite ------------------------------------------------------------------------


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


@contextmanager
def _sqlite_snapshot(database: Path) -> Iterator[Iterator[bytes]]:
    """A consistent copy through the online backup API, in a private directory."""
    with _private_dir(database.parent) as scratch:
        copy = scratch / "snapshot.db"
        _private_file(copy).close()
        try:
            with (
                closing(sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True)) as src,
                closing(sqlite3.connect(copy)) as target,
            ):
                src.backup(target)
                target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        except sqlite3.Error as exc:
            raise BackupError(f"database file {database} could not be copied: {exc}") from None
        with copy.open("rb") as snapshot:
            yield _chunks(snapshot)


# PostgreSQL --------------------------------------------------------------------


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and an environment carrying it in PGPASSWORD."""
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return plain.render_as_string(hide_password=False), env


@contextmanager
def _pg_dump(url: URL, program: Path) -> Iterator[Iterator[bytes]]:
    """The ``pg_dump --format=custom`` archive as chunks, straight from the pipe."""
    conninfo, env = _libpq(url)
    with tempfile.TemporaryFile() as errors:
        process = _spawn(program, ["--format=custom", f"--dbname={conninfo}"], env, errors)
        try:
            yield _chunks(cast("IO[bytes]", process.stdout))
            process.wait()
        finally:
            _stop(process)
        _require_success(process, program, errors)


def _spawn(
    program: Path,
    arguments: list[str],
    env: dict[str, str],
    errors: IO[bytes],
    *,
    feed: bool = False,
) -> subprocess.Popen[bytes]:
    """Start a client program that reads stdin (``feed``) or writes stdout."""
    if not program.is_file():
        raise BackupError(f"{program} not found: install the PostgreSQL client of the server")
    try:
        return subprocess.Popen(  # noqa: S603 - fixed program path, arguments built here, no shell
            [str(program), *arguments],
            stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if feed else subprocess.PIPE,
            stderr=errors,
            env=env,
        )
    except OSError as exc:
        raise BackupError(f"{program} cannot run: {exc.strerror}") from None


def _feed(sink: IO[bytes], chunks: Iterable[bytes]) -> None:
    try:
        for chunk in chunks:
            sink.write(chunk)
        sink.close()
    except BrokenPipeError:
        return  # the program stopped reading; its exit status says why


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            with suppress(OSError):
                pipe.close()
    process.wait()


def _require_success(process: subprocess.Popen[bytes], program: Path, errors: IO[bytes]) -> None:
    if process.returncode == 0:
        return
    errors.seek(0)
    lines = errors.read().decode("utf-8", "replace").strip().splitlines()
    reported = [line for line in lines if "error:" in line] or lines or ["no message"]
    raise BackupError(f"{program.name} failed (exit {process.returncode}): {reported[0]}")


# Checks --------------------------------------------------------------------------


def _refuse_non_empty(engine: Engine, *, force: bool) -> None:
    if force:
        return
    tables = _tables(engine)
    if tables:
        raise BackupError(
            f"database {engine.url.database} is not empty ({len(tables)} tables, e.g. "
            f"{tables[0]}): restoring would replace it; pass --force to do so"
        )


def _tables(engine: Engine) -> list[str]:
    """Every table in the database (no file yet means none)."""
    sqlite = engine.dialect.name == "sqlite"
    if sqlite and not _sqlite_file(engine.url).exists():
        return []
    with engine.connect() as connection:
        return list(connection.scalars(text(SQLITE_TABLES if sqlite else POSTGRES_TABLES)))


def _check_revision(engine: Engine, manifest: BackupManifest) -> None:
    restored = migrate.current_revision(engine)
    if restored != manifest.alembic_revision:
        raise BackupError(
            f"the restored database is at revision {restored}, "
            f"the backup says {manifest.alembic_revision}"
        )
