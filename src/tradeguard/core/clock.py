"""Injected wall clocks: the system clock, a settable clock for tests, and time helpers.

Time is kept as integer Unix-epoch nanoseconds; ``datetime`` values are timezone-aware
UTC with microsecond precision, so converting nanoseconds to ``datetime`` truncates.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol

NS_PER_MICROSECOND = 1_000
NS_PER_MILLISECOND = 1_000_000
NS_PER_SECOND = 1_000_000_000
_SECONDS_PER_DAY = 86_400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    """A source of wall-clock time."""

    def now_ns(self) -> int:
        """Unix epoch time in nanoseconds."""
        ...

    def now(self) -> datetime:
        """The current time as a timezone-aware UTC ``datetime``."""
        ...


class SystemClock:
    """The operating system's wall clock."""

    def now_ns(self) -> int:
        """Unix epoch time in nanoseconds from ``time.time_ns()``."""
        return time.time_ns()

    def now(self) -> datetime:
        """The current UTC time."""
        return ns_to_datetime(self.now_ns())


class FixedClock:
    """A clock that stands still until told to move; for tests."""

    def __init__(self, start: datetime | int) -> None:
        self._ns = _to_ns(start)
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        """The clock's current Unix epoch time in nanoseconds."""
        return self._ns

    def now(self) -> datetime:
        """The clock's current time as UTC ``datetime`` (truncated to microseconds)."""
        return ns_to_datetime(self._ns)

    def advance(self, *, seconds: int = 0, milliseconds: int = 0, nanoseconds: int = 0) -> None:
        """Move the clock forward; moving it backwards this way raises ``ValueError``."""
        delta = (
            _require_int("seconds", seconds) * NS_PER_SECOND
            + _require_int("milliseconds", milliseconds) * NS_PER_MILLISECOND
            + _require_int("nanoseconds", nanoseconds)
        )
        if delta < 0:
            raise ValueError("advance() only moves forward; use set() to go back")
        with self._lock:
            self._ns += delta

    def set(self, when: datetime | int) -> None:
        """Jump to ``when`` (a ``datetime`` or epoch nanoseconds), backwards if need be."""
        ns = _to_ns(when)
        with self._lock:
            self._ns = ns


def ns_to_datetime(ns: int) -> datetime:
    """The UTC ``datetime`` for Unix epoch nanoseconds, truncated to microseconds."""
    return _EPOCH + timedelta(microseconds=_require_int("ns", ns) // NS_PER_MICROSECOND)


def datetime_to_ns(when: datetime) -> int:
    """Unix epoch nanoseconds for a timezone-aware ``datetime``, computed without floats."""
    delta = _require_aware(when) - _EPOCH
    seconds = delta.days * _SECONDS_PER_DAY + delta.seconds
    return seconds * NS_PER_SECOND + delta.microseconds * NS_PER_MICROSECOND


def to_rfc3339(when: datetime) -> str:
    """RFC 3339 text in UTC with a ``Z`` suffix; microseconds only when non-zero."""
    utc = _require_aware(when).astimezone(UTC).replace(tzinfo=None)
    timespec = "microseconds" if utc.microsecond else "seconds"
    return f"{utc.isoformat(timespec=timespec)}Z"


def ns_to_rfc3339(ns: int) -> str:
    """RFC 3339 UTC text with nine fractional digits: ``2026-11-21T09:30:00.000000001Z``."""
    seconds, fraction = divmod(_require_int("ns", ns), NS_PER_SECOND)
    return f"{_second_text(seconds)}.{fraction:09d}Z"


@lru_cache(maxsize=1024)
def _second_text(seconds: int) -> str:
    """The date and time of a whole second (cached: timestamps cluster around now)."""
    return f"{_EPOCH + timedelta(seconds=seconds):%Y-%m-%dT%H:%M:%S}"


def _to_ns(when: datetime | int) -> int:
    if isinstance(when, datetime):
        return datetime_to_ns(when)
    return _require_int("when", when)


def _require_aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return when


def _require_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value
