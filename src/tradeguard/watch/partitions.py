"""Partitions of the event stream: by symbol, else by account, else by subject.

The relay and the consumers agree on one function, so partition N of M always receives
every event of the symbols (or accounts) it owns, in order.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from tradeguard.audit.search import AuditEvent


def partition_key(event: AuditEvent) -> str:
    """What an event is partitioned by: its symbol, its account, or its subject."""
    data = event.data
    for member in ("symbol", "account"):
        value = data.get(member)
        if isinstance(value, str) and value:
            return value
    return event.subject or ""


def partition_of(key: str, count: int) -> int:
    """The partition (0-based) that owns ``key`` among ``count``."""
    return zlib.crc32(key.encode("utf-8")) % count


@dataclass(frozen=True, slots=True)
class Partition:
    """Partition ``index`` of ``count`` (0-based); ``1/1`` is the whole stream."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"no partition {self.index} of {self.count}")

    @classmethod
    def whole(cls) -> Partition:
        """The one partition that owns every event."""
        return cls(0, 1)

    @classmethod
    def parse(cls, text: str) -> Partition:
        """``N/M`` with N counted from 1, as the command line writes it."""
        number, _, total = text.partition("/")
        try:
            return cls(int(number) - 1, int(total))
        except ValueError:
            raise ValueError(f"a partition is written N/M (1 <= N <= M), not {text!r}") from None

    def owns(self, event: AuditEvent) -> bool:
        """Whether this partition processes ``event``."""
        return self.count == 1 or partition_of(partition_key(event), self.count) == self.index

    def select(self, events: Iterable[AuditEvent]) -> list[AuditEvent]:
        """The events this partition owns, in order."""
        return [event for event in events if self.owns(event)]

    def cursor_name(self, watcher: str) -> str:
        """The cursor key of a watcher running this partition."""
        return watcher if self.count == 1 else f"{watcher}@{self.index + 1}/{self.count}"
