"""Settings administrators change at run time, and how any module reads them.

A few settings may change while the service runs (``PUT /v1/admin/config/{key}``, which
needs ``admin:config``): the keys of ``RUNTIME_KEYS``. Each keeps the range its field has
in ``Settings``. A module reads the value in force with::

    RuntimeSettings.current(db, settings, "anomaly_denials")

which is the stored value, or the configured one when no administrator set any;
``RuntimeSettings.get(db, key, default)`` does the same with an explicit default. The
read is one primary-key lookup in the caller's transaction, so a change is seen by the
next transaction on every node.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.access.models import RuntimeSetting
from tradeguard.config import Settings

RUNTIME_KEYS = (
    "anomaly_denials",
    "anomaly_distinct_records",
    "anomaly_window_seconds",
    "grant_max_hours",
    "staff_hours_end",
    "staff_hours_start",
)


@dataclass(frozen=True, slots=True)
class RuntimeKey:
    """A setting that may change at run time, with its allowed range (inclusive)."""

    name: str
    minimum: int
    maximum: int
    description: str

    def allows(self, value: int) -> bool:
        """Whether ``value`` is within the range."""
        return self.minimum <= value <= self.maximum


def runtime_key(name: str) -> RuntimeKey | None:
    """The run-time setting called ``name``, or None when it cannot change at run time."""
    if name not in RUNTIME_KEYS:
        return None
    field = Settings.model_fields[name]
    return RuntimeKey(
        name=name,
        minimum=_bound(field.metadata, "ge"),
        maximum=_bound(field.metadata, "le"),
        description=field.description or name.replace("_", " ").capitalize(),
    )


def runtime_keys() -> tuple[RuntimeKey, ...]:
    """Every setting that may change at run time, in name order."""
    return tuple(key for name in RUNTIME_KEYS if (key := runtime_key(name)) is not None)


class RuntimeSettings:
    """Reads run-time settings: the stored value or a default."""

    @staticmethod
    def get(db: Session, key: str, default: int) -> int:
        """The value an administrator set for ``key``, or ``default``; KeyError for other keys."""
        stored = RuntimeSettings.stored(db, key)
        return default if stored is None else stored

    @staticmethod
    def current(db: Session, settings: Settings, key: str) -> int:
        """The value of ``key`` in force: stored, or else the configured one."""
        configured: int = getattr(settings, key)
        return RuntimeSettings.get(db, key, configured)

    @staticmethod
    def stored(db: Session, key: str) -> int | None:
        """The value an administrator set for ``key``, None when none was set."""
        if key not in RUNTIME_KEYS:
            raise KeyError(f"{key} is not a run-time setting")
        value = db.scalar(select(RuntimeSetting.value).where(RuntimeSetting.key == key))
        return None if value is None else _int(value)


def _int(stored: str) -> int | None:
    value = json.loads(stored)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bound(metadata: list[object], name: str) -> int:
    for constraint in metadata:
        found = getattr(constraint, name, None)
        if isinstance(found, int):
            return found
    raise LookupError(f"a run-time setting needs a {name} bound in Settings")
