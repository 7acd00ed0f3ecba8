"""Turning an episode into the alert draft the store and the replay output take."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.surveillance.episodes import Episode

SOURCE = "surveillance"
EVIDENCE_LIMIT = 50
"""The most items of a growing evidence list an alert shows."""


def episode_alert(  # noqa: PLR0913, PLR0917 - the parts of an alert
    typology: str,
    symbol: str,
    group: str,
    episode: Episode,
    rule: str,
    score: float,
    evidence: Mapping[str, Any],
    parameters: Mapping[str, Any],
) -> AlertDraft:
    """The alert of an episode so far."""
    return AlertDraft(
        typology=typology,
        score=round(min(max(score, 0.0), 1.0), 4),
        subject=Subject(accounts=tuple(episode.accounts), symbol=symbol),
        start_ns=episode.start,
        end_ns=episode.end,
        rule=rule,
        episode=episode.name(group),
        evidence=dict(evidence),
        parameters=dict(parameters),
    )


def capped(items: list[Any], limit: int = EVIDENCE_LIMIT) -> list[Any]:
    """At most ``limit`` items of a growing evidence list (the first ones)."""
    return items[:limit]
