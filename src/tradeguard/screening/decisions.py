"""What is screened and what the screening decides: the types every caller shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class ScreeningSubject:
    """A person or organisation to screen.

    ``dob`` is a date of birth when known (an individual); ``country`` is an ISO 3166
    alpha-2 code of nationality or residence when known.
    """

    name: str
    dob: date | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class OtherMatch:
    """Another entry that reaches the threshold for the same subject, and its score."""

    ent_num: str
    matched_name: str
    score: float
    entry_digest: str = ""
    """The entry's fingerprint, as ``ScreeningDecision.entry_digest`` (clearances name it)."""


@dataclass(frozen=True, slots=True)
class ScreeningDecision:
    """The outcome of screening one subject against the loaded lists.

    ``match`` is true only for a potential match that must go to review. ``score`` is
    the best entry's score after date-of-birth and country evidence (0 to 1);
    ``ent_num``, ``list_name`` and ``matched_name`` name that entry when it scores
    above 0.5, else they are ``None``. ``reasons`` say how the score came about.
    """

    match: bool
    score: float
    ent_num: str | None
    matched_name: str | None
    reasons: list[str] = field(default_factory=list)
    list_name: str | None = None
    list_version: str | None = None
    entry_digest: str | None = None
    """The named entry's fingerprint (``ListEntry.digest``): unchanged while the entry is."""
    also_matched: tuple[OtherMatch, ...] = ()
    """Other entries that reach the threshold too (namesakes), best first; also in ``reasons``."""


NO_MATCH = ScreeningDecision(
    match=False,
    score=0.0,
    ent_num=None,
    matched_name=None,
    reasons=["no listed name shares a distinctive token or its sound with the name"],
)
