"""Re-encryption: move every value still under an old key of a class to its primary key.

The job walks each encrypted column (and the wrapped subject keys of the class)
in primary-key order, a batch per transaction, recording where it stopped so an
interrupted run resumes. A final sweep counts values still under old keys (a
node that had not reloaded the keyset may have written some); only when none
remain are the old keys disabled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import tink
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Table,
    Update,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapper, Session, sessionmaker

from tradeguard.core.clock import Clock
from tradeguard.core.errors import TradeGuardError
from tradeguard.crypto.fields import Ciphertext, Encrypted, encrypted_attributes, field_context
from tradeguard.crypto.keyring import (
    DataClass,
    Keyring,
    KeysetKind,
    ciphertext_key_id,
    keyset_specs,
)
from tradeguard.crypto.models import ReencryptionProgress, SubjectKey
from tradeguard.crypto.subjects import subject_key_context

DEFAULT_BATCH_SIZE = 500
Progress = Callable[[str, int, int], None]


class ReencryptionError(TradeGuardError):
    """A value could not be re-encrypted (it does not decrypt under any enabled key)."""


@dataclass(frozen=True, slots=True)
class Target:
    """One place holding ciphertexts of a class: a table, its ordering key and value column."""

    label: str
    table: Table
    key: ColumnElement[Any]
    value: Column[Any]
    data_class: DataClass
    context: Callable[[Any], bytes]
    where: ColumnElement[bool] | None = None

    def selection(self) -> list[ColumnElement[bool]]:
        """Extra row filter of this target."""
        return [] if self.where is None else [self.where]


@dataclass(slots=True)
class ClassReport:
    """What the job did for one data class."""

    data_class: DataClass
    rewritten: int = 0
    remaining: int = 0
    disabled_key_ids: tuple[int, ...] = ()


def targets_for(mappers: Iterable[Mapper[Any]], data_class: DataClass) -> list[Target]:
    """Every column encrypted under ``data_class`` keys, plus its wrapped subject keys."""
    found = [_subject_key_target(data_class)]
    for mapper in mappers:
        for attribute in encrypted_attributes(mapper):
            spec: Encrypted = attribute.spec
            if spec.data_class is data_class and spec.subject is None:
                found.append(_field_target(mapper, attribute.table, attribute.column, data_class))
    return found


def _field_target(
    mapper: Mapper[Any], table_name: str, column: str, data_class: DataClass
) -> Target:
    table = mapper.local_table
    if not isinstance(table, Table) or len(mapper.primary_key) != 1:
        raise ReencryptionError(f"{table_name}: re-encryption needs a single-column primary key")
    key = mapper.primary_key[0]
    return Target(
        label=f"{table_name}.{column}",
        table=table,
        key=key,
        value=table.c[column],
        data_class=data_class,
        context=lambda row_key: field_context(table_name, column, str(row_key)),
    )


def _subject_key_target(data_class: DataClass) -> Target:
    table = SubjectKey.__table__
    assert isinstance(table, Table)  # noqa: S101 - declarative tables are Tables
    return Target(
        label=f"crypto_subject_keys[{data_class.value}]",
        table=table,
        key=table.c.subject_id,
        value=table.c.wrapped,
        data_class=data_class,
        context=lambda subject_id: subject_key_context(str(subject_id), data_class),
        where=table.c.data_class == data_class.value,
    )


class Reencryptor:
    """Runs re-encryption for one or all data classes."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        keyring: Keyring,
        clock: Clock,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self._sessions = sessions
        self._keyring = keyring
        self._clock = clock
        self._batch_size = batch_size

    def run(
        self,
        mappers: Sequence[Mapper[Any]],
        classes: Iterable[DataClass] | None = None,
        progress: Progress | None = None,
    ) -> list[ClassReport]:
        """Re-encrypt, sweep and disable old keys for each class; returns one report per class."""
        chosen = list(classes) if classes is not None else _rotating_classes()
        return [self._run_class(mappers, data_class, progress) for data_class in chosen]

    def count_remaining(self, target: Target) -> int:
        """How many values of ``target`` are still under a non-primary key."""
        primary = self._keyring.primary_key_id(target.data_class.value)
        remaining = 0
        with self._sessions() as session:
            rows = session.connection().execute(
                select(target.value).where(target.value.is_not(None), *target.selection())
            )
            for (value,) in rows:
                remaining += ciphertext_key_id(bytes(value)) != primary
        return remaining

    def _run_class(
        self, mappers: Sequence[Mapper[Any]], data_class: DataClass, progress: Progress | None
    ) -> ClassReport:
        with self._sessions() as session:
            self._keyring.refresh(session.connection())
        report = ClassReport(data_class)
        targets = targets_for(mappers, data_class)
        for target in targets:
            report.rewritten += self._run_target(target, progress)
        report.remaining = sum(self.count_remaining(target) for target in targets)
        if report.remaining == 0:
            report.disabled_key_ids = tuple(self._disable_old_keys(data_class))
            self._forget_progress(targets)
        return report

    def _run_target(self, target: Target, progress: Progress | None) -> int:
        total = self._count(target)
        done, rewritten, last_key = self._resume_point(target)
        while True:
            batch_rewritten, last_key, seen = self._batch(target, last_key)
            rewritten += batch_rewritten
            done += seen
            if progress is not None:
                progress(target.label, min(done, total), total)
            if seen < self._batch_size:
                return rewritten

    def _batch(self, target: Target, after: Any) -> tuple[int, Any, int]:  # noqa: ANN401 - a key of any column type
        primary = self._keyring.primary_key_id(target.data_class.value)
        with self._sessions() as session, session.begin():
            connection = session.connection()
            rows = self._rows_after(connection, target, after)
            fresh = [
                {"row_key": key, "fresh": self._reseal(target, key, value)}
                for key, value in rows
                if value is not None and ciphertext_key_id(bytes(value)) != primary
            ]
            if fresh:
                connection.execute(_bulk_update(target), fresh)
            last = rows[-1][0] if rows else after
            if rows:
                self._save_progress(session, target, last, len(fresh))
        return len(fresh), last, len(rows)

    def _rows_after(self, connection: Connection, target: Target, after: Any) -> list[Any]:  # noqa: ANN401 - a key of any column type
        statement = select(target.key, target.value).where(*target.selection())
        if after is not None:
            statement = statement.where(target.key > after)
        statement = statement.order_by(target.key).limit(self._batch_size)
        return list(connection.execute(statement).all())

    def _reseal(self, target: Target, key: Any, value: bytes) -> Ciphertext:  # noqa: ANN401 - a key of any column type
        primitive = self._keyring.aead(target.data_class)
        context = target.context(key)
        try:
            plaintext = primitive.decrypt(bytes(value), context)
        except tink.TinkError:
            raise ReencryptionError(
                f"{target.label} row {key} does not decrypt under any enabled key"
            ) from None
        return Ciphertext(primitive.encrypt(plaintext, context))

    def _count(self, target: Target) -> int:
        with self._sessions() as session:
            statement = select(func.count()).select_from(target.table).where(*target.selection())
            return int(session.connection().execute(statement).scalar_one())

    def _resume_point(self, target: Target) -> tuple[int, int, Any]:
        with self._sessions() as session:
            saved = session.get(ReencryptionProgress, (target.table.name, _progress_column(target)))
            if saved is None:
                return 0, 0, None
            python_type = target.key.type.python_type
            last = saved.last_row_key if python_type is str else python_type(saved.last_row_key)
            done = self._count_through(session.connection(), target, last)
            return done, saved.rows_rewritten, last

    def _count_through(self, connection: Connection, target: Target, last: Any) -> int:  # noqa: ANN401 - a key of any column type
        statement = (
            select(func.count())
            .select_from(target.table)
            .where(target.key <= last, *target.selection())
        )
        return int(connection.execute(statement).scalar_one())

    def _save_progress(self, session: Session, target: Target, last: Any, rewritten: int) -> None:  # noqa: ANN401 - a key of any column type
        key = (target.table.name, _progress_column(target))
        saved = session.get(ReencryptionProgress, key)
        if saved is None:
            saved = ReencryptionProgress(table_name=key[0], column_name=key[1], rows_rewritten=0)
            session.add(saved)
        saved.last_row_key = str(last)
        saved.rows_rewritten += rewritten
        saved.updated_at_ns = self._clock.now_ns()

    def _disable_old_keys(self, data_class: DataClass) -> list[int]:
        with self._sessions() as session, session.begin():
            old = self._keyring.enabled_key_ids(data_class.value)
            return self._keyring.disable_keys(session, data_class.value, old)

    def _forget_progress(self, targets: Iterable[Target]) -> None:
        with self._sessions() as session, session.begin():
            for target in targets:
                session.execute(
                    delete(ReencryptionProgress).where(
                        ReencryptionProgress.table_name == target.table.name,
                        ReencryptionProgress.column_name == _progress_column(target),
                    )
                )


def _bulk_update(target: Target) -> Update:
    """One statement, executed for many rows: set the value where the key matches."""
    return (
        update(target.table)
        .where(target.key == bindparam("row_key"), *target.selection())
        .values({target.value.name: bindparam("fresh")})
    )


def _progress_column(target: Target) -> str:
    return target.label.split(".", 1)[-1] if "." in target.label else target.label


def _rotating_classes() -> list[DataClass]:
    return [spec.data_class for spec in keyset_specs() if spec.kind is KeysetKind.AEAD]
