"""Encrypted backups: a consistent snapshot of the database, streamed through Tink.

A backup is a directory (0700) of two files (0600). ``manifest.json`` holds ``format``
(``tradeguard-backup/1``), ``backup_id`` (UUIDv7), ``created_at`` (RFC 3339 UTC with
nanoseconds), ``created_at_ns``, ``backend`` (``sqlite``/``postgresql``),
``installation_id``, ``tradeguard_version``, ``alembic_revision``, ``key`` (keyset
``backup``, its primary ``key_id``, and the keyset as stored, still wrapped by the KEK:
base64 ``wrapped_keyset`` and ``kek_id``) and ``data`` (``file``, ``sha256`` and ``size``
of the ciphertext, ``plaintext_size``). ``data.enc`` is the snapshot (the SQLite file
from the online backup API, or a ``pg_dump --format=custom`` archive) under Tink's
streaming AEAD (AES256_GCM_HKDF_1MB) with the ``backup`` keyset; its associated data is
the canonical JSON of every manifest member but ``data``, so a data file put under
another manifest, or an edited identity, key id or keyset, does not decrypt.

A backup thus opens with the master key alone, also where the database is gone. It is
written into a hidden sibling directory and renamed into place: whole or absent.
Plaintext touches disk only in a private temporary directory (0700, files 0600) beside
the SQLite database, removed afterwards; PostgreSQL archives are piped, never stored.
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
from tradeguard.core.clock import Clock, ns_to_rfc3339
from tradeguard.core.errors import TradeGuardError
from tradeguard.core.ids import new_id
from tradeguard.core.secure_files import PRIVATE_MODE, write_atomically
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
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
SQLITE_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
POSTGRES_TABLES = (
    "SELECT schemaname || '.' || tablename FROM pg_tables"
    " WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
)
# --single-transaction: a restore that fails part-way leaves the database as it was.
PG_RESTORE_OPTIONS = ("--clean", "--if-exists", "--no-owner", "--single-transaction")

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
            "created_at": ns_to_rfc3339(self.created_at_ns),
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
        self._keyring, self._clock, self._events = keyring, clock, events
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
            raise BackupError(f"{path}: a {manifest.backend} backup cannot restore into {backend}")
        if not force:
            _refuse_non_empty(engine)
        self.verify(path)
        engine.dispose()
        if backend == "sqlite":
            self._restore_sqlite(path, manifest, _sqlite_file(engine.url))
        else:
            self._restore_postgres(path, manifest, engine.url)
        if (restored := migrate.current_revision(engine)) != manifest.alembic_revision:
            raise BackupError(f"restored database is at revision {restored}, not the backup's")
        self._events.record("backup.restored", {**_event_data(manifest, path), "forced": force})
        return manifest

    def _identity(self, engine: Engine) -> BackupManifest:
        if engine.dialect.name == "sqlite" and not (database := _sqlite_file(engine.url)).is_file():
            raise BackupError(f"database file {database} does not exist")
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
        checksum, size = _synced_sha256(data), data.stat().st_size
        manifest = replace(identity, sha256=checksum, size=size, plaintext_size=plaintext_size)
        write_atomically(staging / MANIFEST_FILE, canonical_dumps(manifest.document()) + b"\n")
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
                f"{data} holds {total} bytes, the manifest says {manifest.plaintext_size}"
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
        program = self._tools.pg_restore
        with _pg_client(program, PG_RESTORE_OPTIONS, url, feed=True) as process:
            sink = cast("IO[bytes]", process.stdin)
            with suppress(BrokenPipeError):  # pg_restore stopped reading: its exit says why
                for chunk in self._plaintext(path, manifest):
                    sink.write(chunk)
                sink.close()


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


def _event_data(manifest: BackupManifest, path: Path) -> dict[str, object]:
    sizes = {"size": manifest.size, "plaintext_size": manifest.plaintext_size}
    return {"backup_id": manifest.backup_id, "key_id": manifest.key_id, "path": str(path), **sizes}


def _check_data_file(path: Path, manifest: BackupManifest) -> None:
    data = path / DATA_FILE
    if not data.is_file():
        raise BackupError(f"{data} is missing")
    size = data.stat().st_size
    if size != manifest.size:
        raise BackupError(f"{data} is {size} bytes, not {manifest.size}: truncated or replaced")
    if _synced_sha256(data) != manifest.sha256:
        raise BackupError(f"{data} checksum mismatch: its SHA-256 differs from the manifest's")


@contextmanager
def _private_dir(parent: Path) -> Iterator[Path]:
    """A 0700 temporary directory in ``parent``, removed with everything in it."""
    with tempfile.TemporaryDirectory(dir=parent, prefix=".tradeguard-backup-") as name:
        yield Path(name)


def _private_file(path: Path) -> BufferedWriter:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    return os.fdopen(descriptor, "wb")


def _chunks(source: IO[bytes]) -> Iterator[bytes]:
    while chunk := source.read(CHUNK_BYTES):
        yield chunk


def _synced_sha256(file: Path) -> str:
    with file.open("rb") as handle:
        os.fsync(handle.fileno())
        return hashlib.file_digest(handle, "sha256").hexdigest()


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


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and an environment carrying it in PGPASSWORD."""
    plain = url._replace(drivername="postgresql", password=None)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return plain.render_as_string(hide_password=False), env


@contextmanager
def _pg_dump(url: URL, program: Path) -> Iterator[Iterator[bytes]]:
    """The ``pg_dump --format=custom`` archive as chunks, straight from the pipe."""
    with _pg_client(program, ("--format=custom",), url) as process:
        yield _chunks(cast("IO[bytes]", process.stdout))


@contextmanager
def _pg_client(
    program: Path, options: tuple[str, ...], url: URL, *, feed: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a client on ``url`` that reads stdin (``feed``) or writes stdout; stopped after."""
    if not program.is_file():
        raise BackupError(f"{program} not found: install the PostgreSQL client of the server")
    conninfo, env = _libpq(url)
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(  # noqa: S603 - fixed program, arguments built here, no shell
                [str(program), *options, f"--dbname={conninfo}"],
                stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL if feed else subprocess.PIPE,
                stderr=errors,
                env=env,
            )
        except OSError as exc:
            raise BackupError(f"{program} cannot run: {exc.strerror}") from None
        try:
            yield process
            process.wait()
        finally:
            _stop(process)
        _require_success(process, program, errors)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    for pipe in filter(None, (process.stdin, process.stdout)):
        with suppress(OSError):  # a broken pipe cannot flush what is left
            pipe.close()
    process.wait()


def _require_success(process: subprocess.Popen[bytes], program: Path, errors: IO[bytes]) -> None:
    if process.returncode == 0:
        return
    errors.seek(0)
    lines = errors.read().decode("utf-8", "replace").strip().splitlines()
    reported = [line for line in lines if "error:" in line] or lines or ["no message"]
    raise BackupError(f"{program.name} failed (exit {process.returncode}): {reported[0]}")


def _refuse_non_empty(engine: Engine) -> None:
    """Refuse a database that holds any table (a SQLite file not yet there holds none)."""
    sqlite = engine.dialect.name == "sqlite"
    if sqlite and not _sqlite_file(engine.url).exists():
        return
    with engine.connect() as connection:
        tables = list(connection.scalars(text(SQLITE_TABLES if sqlite else POSTGRES_TABLES)))
    if tables:
        raise BackupError(
            f"database {engine.url.database} is not empty ({len(tables)} tables, e.g. "
            f"{tables[0]}): restoring would replace it; pass --force to do so"
        )
