"""Episodes: activity of one typology, symbol and group with no gap longer than the limit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Episode:
    """One episode so far: its window, the accounts it names and what it has seen."""

    start: int
    end: int
    origin: int = 0
    """When the episode was first seen: its name, which never changes."""
    accounts: set[str] = field(default_factory=set)
    facts: dict[str, Any] = field(default_factory=dict)
    raised: bool = False

    def name(self, group: str) -> str:
        """The episode's stable name: its group and its start."""
        return f"{group}:{self.origin}"


class Episodes:
    """Open episodes by key; a key seen after a longer gap starts a new one."""

    def __init__(self, gap_ns: int) -> None:
        self.gap_ns = gap_ns
        self.open: dict[tuple[str, ...], Episode] = {}

    def at(self, key: tuple[str, ...], start: int, end: int) -> Episode:
        """The episode of ``key`` that activity from ``start`` to ``end`` belongs to."""
        episode = self.open.get(key)
        if episode is None or start - episode.end > self.gap_ns:
            episode = self.open[key] = Episode(start, end, start)
        episode.start, episode.end = min(episode.start, start), max(episode.end, end)
        return episode

    def evict(self, now: int) -> None:
        """Forget episodes that can no longer grow."""
        stale = [key for key, episode in self.open.items() if now - episode.end > self.gap_ns]
        for key in stale:
            del self.open[key]
