"""Adaptive throttling: a client whose requests are mostly refused gets tighter limits.

For each client (an IP address, and the user once known) two counters run over windows
of ``window_seconds`` aligned to the clock: requests the service answered, and those it
refused as an attack would be refused (``is_rejection``). At every ``min_rejections``-th
rejection in a window, if at least ``rejected_percent`` of the window's answered
requests were rejections, the client's level rises by one (its limits halve), up to
``max_level``. At every ``calm_requests``-th answered request, if the share is below
that, the level falls by one. A level lapses ``hold_seconds`` after it was last set. The
counters and levels live in the rate-limit store, so every node sees the same level.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tradeguard.config import Settings
from tradeguard.ratelimit.counters import CounterCall, Counters, get, incr, runner
from tradeguard.ratelimit.verdicts import OWN_REASONS

LEVEL_PREFIX = "ad/level/"
REJECTION_PREFIXES = ("AUTH_", "APIKEY_", "RISK_")
REJECTION_CODES = frozenset({"ACCESS_DENIED"})
ROUTINE_CODES = frozenset(
    {"AUTH_TOKEN_EXPIRED", "AUTH_STEP_UP_REQUIRED", "AUTH_MFA_ENROLLMENT_REQUIRED"}
)
"""Refusals that ask a well-behaved client for its next step; they are not held against it."""


def is_rejection(reason_code: str | None) -> bool:
    """Whether ``reason_code`` refused the caller: credentials, signature, permission, risk."""
    if reason_code is None or reason_code in ROUTINE_CODES:
        return False
    return reason_code in REJECTION_CODES or reason_code.startswith(REJECTION_PREFIXES)


def is_judged(reason_code: str | None) -> bool:
    """Whether a response counts at all: this package's own refusals do not."""
    return reason_code not in OWN_REASONS


@dataclass(frozen=True, slots=True)
class AdaptiveRules:
    """When a client's level rises and falls."""

    window_seconds: int
    min_rejections: int
    rejected_percent: int
    calm_requests: int
    max_level: int
    hold_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> AdaptiveRules:
        """The rules the settings configure."""
        return cls(
            window_seconds=settings.rate_limit_adaptive_window_seconds,
            min_rejections=settings.rate_limit_adaptive_min_rejections,
            rejected_percent=settings.rate_limit_adaptive_rejected_percent,
            calm_requests=settings.rate_limit_adaptive_calm_requests,
            max_level=settings.rate_limit_adaptive_max_level,
            hold_seconds=settings.rate_limit_adaptive_hold_seconds,
        )

    def mostly_rejected(self, rejected: int, answered: int) -> bool:
        """Whether ``rejected`` of ``answered`` reaches the configured share."""
        return rejected * 100 >= self.rejected_percent * answered


@dataclass(frozen=True, slots=True)
class LevelChange:
    """A client's level moved, after ``answered`` requests of which ``rejected`` in a window."""

    client: str
    before: int
    after: int
    answered: int
    rejected: int
    window_seconds: int

    @property
    def tightened(self) -> bool:
        """Whether the limits became tighter."""
        return self.after > self.before


def level_key(client: str) -> str:
    """The counter holding ``client``'s level (it lapses with the counter)."""
    return LEVEL_PREFIX + client


class AdaptiveThrottle:
    """Levels of clients, read before each request and judged after each answer."""

    def __init__(
        self, counters: Counters, rules: AdaptiveRules, wall: Callable[[], float] = time.time
    ) -> None:
        self._counters = counters
        self._run = runner(counters)
        self.rules = rules
        self._wall = wall

    def level(self, client: str) -> int:
        """The client's level: 0 untouched, each level halves its limits."""
        return self.capped(self._counters.get(level_key(client)))

    def capped(self, stored: int) -> int:
        """The level a stored level counter stands for."""
        return min(stored, self.rules.max_level)

    def observe(self, clients: Sequence[str], *, rejected: bool) -> list[LevelChange | None]:
        """Count one answered request of each of ``clients``; the level change each caused.

        The counts of every client go to the store together (one round trip when it can
        batch them); judging a level, at most once per batch of requests, reads on its own.
        """
        answers = self._run(self.observation(clients, rejected=rejected))
        return self.judged(clients, answers, rejected=rejected)

    def observation(self, clients: Sequence[str], *, rejected: bool) -> list[CounterCall]:
        """The store calls that count one answered request of each of ``clients``."""
        window = self.rules.window_seconds
        period = int(self._wall()) // window
        calls: list[CounterCall] = []
        for client in clients:
            suffix = f"{client}/{period}"
            calls.append(incr("ad/seen/" + suffix, window))
            calls.append(incr("ad/rej/" + suffix, window) if rejected else get("ad/rej/" + suffix))
        return calls

    def judging(self, answers: Sequence[float], *, rejected: bool) -> bool:
        """Whether the counts ``observation`` answered call for judging a level.

        Rarely true; only ``judged`` then reads and writes the store.
        """
        return any(
            self._due(int(answered), int(rejections), rejected=rejected)
            for answered, rejections in zip(answers[::2], answers[1::2], strict=True)
        )

    def judged(
        self, clients: Sequence[str], answers: Sequence[float], *, rejected: bool
    ) -> list[LevelChange | None]:
        """The level change each client's counts caused (read and set in the store)."""
        return [
            self._after(client, int(answered), int(rejections), rejected=rejected)
            for client, answered, rejections in zip(
                clients, answers[::2], answers[1::2], strict=True
            )
        ]

    def _due(self, answered: int, rejections: int, *, rejected: bool) -> bool:
        """Whether a level may change after these counts.

        So it may for a mostly rejected client at every ``min_rejections`` rejections, and
        for a mostly answered one at every ``calm_requests`` answers.
        """
        if rejected:
            counted = rejections % self.rules.min_rejections == 0
        else:
            counted = answered % self.rules.calm_requests == 0
        return counted and self.rules.mostly_rejected(rejections, answered) == rejected

    def _after(
        self, client: str, answered: int, rejections: int, *, rejected: bool
    ) -> LevelChange | None:
        if not self._due(answered, rejections, rejected=rejected):
            return None
        return self._judge(client, answered, rejections, step=1 if rejected else -1)

    def _judge(
        self, client: str, answered: int, rejections: int, *, step: int
    ) -> LevelChange | None:
        before = self.level(client)
        after = min(max(before + step, 0), self.rules.max_level)
        if after != before or step > 0:  # at the top level, a tightening renews the hold
            self._set_level(client, after)
        if after == before:
            return None
        return LevelChange(client, before, after, answered, rejections, self.rules.window_seconds)

    def _set_level(self, client: str, level: int) -> None:
        key = level_key(client)
        self._counters.clear(key)
        if level > 0:
            self._counters.incr(key, self.rules.hold_seconds, amount=level)
