"""The customers that a list load rescreens, as the screening side sees them.

Screening keeps no customers of its own. The package that owns customers implements
``ScreenedParties`` and hands it to ``SanctionsScreening.rescreen`` (the registry wires
it): ``parties()`` yields every customer to screen, and ``raise_hit`` receives each
potential match for review, inside the load's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from tradeguard.screening.decisions import ScreeningDecision, ScreeningSubject


@dataclass(frozen=True, slots=True)
class ScreenedParty:
    """One customer to rescreen: its owner's id for it and what to screen."""

    party_id: str
    subject: ScreeningSubject


class ScreenedParties(Protocol):
    """The customers to rescreen after a list changes, and where their hits go."""

    def parties(self, session: Session) -> Iterable[ScreenedParty]:
        """Every customer that must be screened against the current lists."""
        ...

    def raise_hit(self, session: Session, party_id: str, decision: ScreeningDecision) -> None:
        """Record a potential match of ``party_id`` for review (audited by the owner)."""
        ...


class NoParties:
    """No customers yet: rescreening has nobody to screen."""

    def parties(self, session: Session) -> Iterable[ScreenedParty]:
        """Nobody."""
        del session
        return ()

    def raise_hit(self, session: Session, party_id: str, decision: ScreeningDecision) -> None:
        """Never called: there are no parties."""
        del session, party_id, decision
