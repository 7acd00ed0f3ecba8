"""What a watcher hands the alert store: a typology, a score, a subject, a window, evidence.

Pure values, no storage: detectors build ``AlertDraft`` objects and the store keeps them.
Nothing here is specific to one kind of watcher; typology is any dotted or snake-case name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tradeguard.core.canonical_json import canonical_dumps


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom or what an alert is about: a customer, accounts, an instrument (each optional)."""

    customer: str | None = None
    accounts: tuple[str, ...] = ()
    symbol: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "accounts", tuple(sorted(set(self.accounts))))

    def to_json(self) -> dict[str, Any]:
        """The subject as JSON members."""
        return {"customer": self.customer, "accounts": list(self.accounts), "symbol": self.symbol}


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """One alert as a watcher raises it, before the store gives it an id.

    ``episode`` names the episode the alert stands for (for example the group and the
    time its first order was seen): the same watcher raising the same typology, symbol,
    customer and episode again updates the one alert instead of adding another (its
    accounts are merged), which makes delivery at least once safe.
    """

    typology: str
    score: float
    subject: Subject
    start_ns: int
    end_ns: int
    rule: str
    episode: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"an alert score is between 0 and 1, not {self.score}")
        if self.end_ns < self.start_ns:
            raise ValueError("an alert window ends before it starts")
        if not self.typology or not self.rule:
            raise ValueError("an alert names its typology and its rule")

    def key(self, source: str) -> str:
        """The alert's identity: source, typology, symbol, customer and episode, hashed.

        The accounts are not part of it: an episode may name more accounts as it goes on.
        """
        identity = {
            "source": source,
            "typology": self.typology,
            "symbol": self.subject.symbol,
            "customer": self.subject.customer,
            "episode": self.episode,
        }
        return hashlib.sha256(canonical_dumps(identity)).hexdigest()
