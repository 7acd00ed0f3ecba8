"""Precision and recall of replay alerts against planted labels, per typology, by customer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Score:
    """How one typology's alerts compare with the customers it was planted on."""

    typology: str
    planted: int
    alerted: int
    caught: int
    duplicates: int

    @property
    def recall(self) -> float:
        """Share of planted customers alerted (1 when none were planted)."""
        return self.caught / self.planted if self.planted else 1.0

    @property
    def precision(self) -> float:
        """Share of alerts that name a planted customer (1 when there are no alerts)."""
        return self.caught / self.alerted if self.alerted else 1.0


def score(labels: Mapping[str, Iterable[str]], alerts: Iterable[Mapping[str, Any]]) -> list[Score]:
    """Per typology: a second alert on the same customer counts against precision."""
    by_typology: dict[str, list[str]] = {}
    for alert in alerts:
        by_typology.setdefault(str(alert["typology"]), []).append(str(alert["customer"]))
    results = []
    for typology in sorted(set(labels) | set(by_typology)):
        planted, named = set(labels.get(typology, ())), by_typology.get(typology, [])
        caught = len(planted & set(named))
        duplicates = len(named) - len(set(named))
        results.append(Score(typology, len(planted), len(named), caught, duplicates))
    return results
