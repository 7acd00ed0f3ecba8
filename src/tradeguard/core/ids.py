"""Time-sortable identifiers: UUIDv7 (RFC 9562) with a monotonic counter.

Layout (most significant bit first): 48-bit Unix timestamp in milliseconds, version 7,
12-bit ``rand_a`` used as a counter (RFC 9562 section 6.2, method 1), variant ``0b10``
and 62 random bits from ``secrets``. Within one generator ids strictly increase: in the
same millisecond, or when the clock steps back, the counter is incremented under the last
timestamp; when the counter runs out the timestamp field moves one millisecond ahead, so
it may briefly run ahead of the clock.
"""

from __future__ import annotations

import secrets
import threading
import uuid
import weakref
from typing import TYPE_CHECKING

from tradeguard.core.clock import NS_PER_MILLISECOND, Clock, SystemClock

if TYPE_CHECKING:
    from collections.abc import Callable

UUID_VERSION = 7
_VARIANT = 0b10
_TIMESTAMP_BITS = 48
_COUNTER_BITS = 12
_RANDOM_BITS = 62
_MAX_TIMESTAMP_MS = (1 << _TIMESTAMP_BITS) - 1
_MAX_COUNTER = (1 << _COUNTER_BITS) - 1
_COUNTER_SEED_BITS = _COUNTER_BITS - 1


class UUIDv7Generator:
    """Thread-safe source of UUIDv7s that strictly increase in generation order."""

    def __init__(
        self, clock: Clock | None = None, *, randbits: Callable[[int], int] = secrets.randbits
    ) -> None:
        self._clock: Clock = SystemClock() if clock is None else clock
        self._randbits = randbits
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def new(self) -> uuid.UUID:
        """A new UUIDv7 greater than every id this generator returned before."""
        with self._lock:
            timestamp_ms, counter = self._next_state(self._clock.now_ns() // NS_PER_MILLISECOND)
        return _assemble(timestamp_ms, counter, self._randbits(_RANDOM_BITS))

    def _next_state(self, now_ms: int) -> tuple[int, int]:
        if not 0 <= now_ms <= _MAX_TIMESTAMP_MS:
            raise ValueError(f"clock time {now_ms} ms is outside the UUIDv7 range")
        if now_ms > self._last_ms:
            # A random seed with the top bit clear leaves room for 2048+ ids per millisecond.
            self._last_ms, self._counter = now_ms, self._randbits(_COUNTER_SEED_BITS)
        elif self._counter < _MAX_COUNTER:
            self._counter += 1
        else:
            self._last_ms, self._counter = self._last_ms + 1, 0
        return self._last_ms, self._counter


_system_generator = UUIDv7Generator()
_generators: weakref.WeakKeyDictionary[Clock, UUIDv7Generator] = weakref.WeakKeyDictionary()
_generators_lock = threading.Lock()


def new_id(clock: Clock | None = None) -> uuid.UUID:
    """A new UUIDv7 from ``clock`` (the system clock by default), monotonic per clock object."""
    if clock is None or isinstance(clock, SystemClock):
        return _system_generator.new()
    return _generator_for(clock).new()


def id_timestamp_ms(value: uuid.UUID) -> int:
    """The Unix timestamp in milliseconds stored in a UUIDv7."""
    if value.version != UUID_VERSION:
        raise ValueError(f"{value} is not a UUIDv7")
    return value.int >> (128 - _TIMESTAMP_BITS)


def _generator_for(clock: Clock) -> UUIDv7Generator:
    with _generators_lock:
        generator = _generators.get(clock)
        if generator is None:
            generator = _generators[clock] = UUIDv7Generator(clock)
        return generator


def _assemble(timestamp_ms: int, counter: int, random_bits: int) -> uuid.UUID:
    value = (
        timestamp_ms << 80
        | UUID_VERSION << 76
        | counter << 64
        | _VARIANT << 62
        | random_bits & ((1 << _RANDOM_BITS) - 1)
    )
    return uuid.UUID(int=value)
