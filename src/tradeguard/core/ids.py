"""Time-sortable identifiers: UUIDv7 (RFC 9562) with a monotonic counter.

Layout (most significant bit first): 48-bit Unix timestamp in milliseconds, version 7,
12-bit ``rand_a`` used as a counter (RFC 9562 section 6.2, method 1), variant ``0b10``
and 62 random bits from the operating system. Within one generator ids strictly increase: in the
same millisecond, or when the clock steps back, the counter is incremented under the last
timestamp; when the counter runs out the timestamp field moves one millisecond ahead, so
it may briefly run ahead of the clock.

Random bits come from the operating system in blocks (``RandomPool``: one ``os.urandom``
call per 512 ids), each id still getting its own 62 bits that no other id uses; a forked
child drops the block it inherited. ``new_text`` writes the hyphenated text directly, for
callers that store ids as text (the trading desk draws three per order).
"""

from __future__ import annotations

import os
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
_POOL_BYTES = 4096
_DRAW_BYTES = 8
_MAX_DRAW_BITS = _DRAW_BYTES * 8


class RandomPool:
    """Random bits from ``os.urandom``, fetched a block at a time; no byte is handed out twice.

    ``randbits(k)`` (k <= 64) costs a slice instead of a system call. After ``fork`` the
    child starts a new block, so parent and child never share bits.
    """

    def __init__(self, block_bytes: int = _POOL_BYTES) -> None:
        self._block_bytes = block_bytes
        self._lock = threading.Lock()
        self._block = b""
        self._offset = 0
        os.register_at_fork(after_in_child=self._forget)

    def randbits(self, bits: int) -> int:
        """``bits`` fresh random bits as a non-negative int (at most 64)."""
        if not 0 <= bits <= _MAX_DRAW_BITS:
            raise ValueError(f"at most {_MAX_DRAW_BITS} bits per draw")
        with self._lock:
            block, start = self._block, self._offset
            if start + _DRAW_BYTES > len(block):
                block = self._block = os.urandom(self._block_bytes)
                start = 0
            self._offset = start + _DRAW_BYTES
        return int.from_bytes(block[start : start + _DRAW_BYTES], "little") & ((1 << bits) - 1)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._block, self._offset = b"", 0


_random_pool = RandomPool()


class UUIDv7Generator:
    """Thread-safe source of UUIDv7s that strictly increase in generation order."""

    def __init__(
        self, clock: Clock | None = None, *, randbits: Callable[[int], int] | None = None
    ) -> None:
        self._clock: Clock = SystemClock() if clock is None else clock
        self._randbits = _random_pool.randbits if randbits is None else randbits
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def new(self) -> uuid.UUID:
        """A new UUIDv7 greater than every id this generator returned before."""
        with self._lock:
            timestamp_ms, counter = self._next_state(self._clock.now_ns() // NS_PER_MILLISECOND)
        return uuid.UUID(int=_assemble(timestamp_ms, counter, self._randbits(_RANDOM_BITS)))

    def new_text(self) -> str:
        """``str(self.new())`` without building the ``UUID`` object."""
        with self._lock:
            timestamp_ms, counter = self._next_state(self._clock.now_ns() // NS_PER_MILLISECOND)
        digits = f"{_assemble(timestamp_ms, counter, self._randbits(_RANDOM_BITS)):032x}"
        return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"

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
    return generator_for(clock).new()


def new_id_text(clock: Clock | None = None) -> str:
    """``str(new_id(clock))``, written directly."""
    return generator_for(clock).new_text()


def id_timestamp_ms(value: uuid.UUID) -> int:
    """The Unix timestamp in milliseconds stored in a UUIDv7."""
    if value.version != UUID_VERSION:
        raise ValueError(f"{value} is not a UUIDv7")
    return value.int >> (128 - _TIMESTAMP_BITS)


def generator_for(clock: Clock | None) -> UUIDv7Generator:
    """The generator of ``clock``'s ids (one per clock object): hold it to skip the lookup."""
    if clock is None or isinstance(clock, SystemClock):
        return _system_generator
    with _generators_lock:
        generator = _generators.get(clock)
        if generator is None:
            generator = _generators[clock] = UUIDv7Generator(clock)
        return generator


def _assemble(timestamp_ms: int, counter: int, random_bits: int) -> int:
    return (
        timestamp_ms << 80
        | UUID_VERSION << 76
        | counter << 64
        | _VARIANT << 62
        | random_bits & ((1 << _RANDOM_BITS) - 1)
    )
