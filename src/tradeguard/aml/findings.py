"""Findings of the monitors and the episodes they group into: one alert per customer and episode."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tradeguard.aml.transactions import NS_PER_DAY

MAX_EVIDENCE_TRANSACTIONS = 500
"""An episode lists at most this many transactions; the totals still count every one."""


class Typology(StrEnum):
    """What kind of activity an alert is about."""

    STRUCTURING = "structuring"
    RAPID_MOVEMENT = "rapid_movement"
    FAN_IN = "fan_in"
    FAN_OUT = "fan_out"
    HIGH_RISK_GEOGRAPHY = "high_risk_geography"
    UNUSUAL_ACTIVITY = "unusual_activity"
    LOW_PRICED_SECURITIES = "low_priced_securities"
    LARGE_TRANSACTION = "large_transaction"


REPLAY_TYPOLOGIES = frozenset(Typology) - {Typology.LARGE_TRANSACTION}
"""The typologies replay writes; large transactions are a live-only notice.

Low-priced securities needs each trade's symbol and price, which the contract's lines
may carry as optional members: data without them never raises it.
"""


@dataclass(frozen=True, slots=True)
class Finding:
    """One firing of a monitor: the transactions behind it, its window, score and thresholds."""

    typology: Typology
    customer: str
    accounts: frozenset[str]
    start_ts: int
    end_ts: int
    score: float
    transactions: tuple[str, ...]
    facts: dict[str, Any]


@dataclass(slots=True)
class Episode:
    """The alert of one customer and typology while its activity goes on."""

    typology: Typology
    customer: str
    start_ts: int
    end_ts: int
    score: float
    accounts: set[str] = field(default_factory=set)
    transactions: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    findings: int = 0
    opened_ts: int = 0
    """Where the first finding's window began: with the customer, the episode's stable name."""

    def absorb(self, finding: Finding) -> None:
        """Widen the episode by ``finding``: window, accounts, transactions, top score."""
        self.start_ts = min(self.start_ts, finding.start_ts)
        self.end_ts = max(self.end_ts, finding.end_ts)
        self.score = max(self.score, finding.score)
        self.accounts |= finding.accounts
        seen = set(self.transactions)
        room = MAX_EVIDENCE_TRANSACTIONS - len(self.transactions)
        self.transactions.extend([t for t in finding.transactions if t not in seen][:room])
        self.facts = finding.facts
        self.findings += 1

    def as_alert(self) -> dict[str, Any]:
        """The alert as the replay contract writes it (one JSON object)."""
        return {
            "typology": str(self.typology),
            "customer": self.customer,
            "accounts": sorted(self.accounts),
            "start_ts": self.start_ts,
            "end_ts": self.end_ts,
            "score": round(self.score, 3),
            "evidence": {"transactions": self.transactions, **self.facts},
        }


def new_episode(finding: Finding) -> Episode:
    """The episode that ``finding`` opens."""
    episode = Episode(
        finding.typology, finding.customer, finding.start_ts, finding.end_ts, finding.score
    )
    episode.opened_ts = finding.start_ts
    episode.absorb(finding)
    return episode


class EpisodeBook:
    """Groups findings: a finding within ``gap_days`` of its episode's end extends it."""

    def __init__(self, gap_days: int) -> None:
        self._gap_ns = gap_days * NS_PER_DAY
        self._open: dict[tuple[str, Typology], Episode] = {}
        self.closed: list[Episode] = []

    def add(self, finding: Finding) -> tuple[Episode, bool]:
        """File ``finding``; returns its episode and whether the finding opened it."""
        key = (finding.customer, finding.typology)
        episode = self._open.get(key)
        if episode is not None and finding.start_ts <= episode.end_ts + self._gap_ns:
            episode.absorb(finding)
            return episode, False
        if episode is not None:
            self.closed.append(episode)
        episode = self._open[key] = new_episode(finding)
        return episode, True

    def current(self, customer: str, typology: Typology) -> Episode | None:
        """The latest episode of ``customer`` and ``typology``, if any."""
        return self._open.get((customer, typology))

    def all_episodes(self) -> list[Episode]:
        """Every episode, closed and open, in order of their start."""
        return sorted([*self.closed, *self._open.values()], key=_order)


def _order(episode: Episode) -> tuple[int, str, str]:
    return episode.start_ts, episode.customer, episode.typology
