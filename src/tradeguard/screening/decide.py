"""The one decision function: a subject against the loaded lists, explained.

For each listed name the index offers, the name score (``name_match.compare``) is
adjusted by what else is known: a weak alias counts less; a person screened against
an entity, vessel or aircraft counts less; a date of birth on the same day raises the
score, one three or more years from every date on the entry clears the entry; a
country that agrees raises it a little, one that differs lowers it a little. The best
entry decides; ``match`` is true when its score reaches the threshold and nothing
cleared it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tradeguard.screening.birth_dates import BirthEvidence, birth_evidence
from tradeguard.screening.countries import mentions_country
from tradeguard.screening.decisions import (
    NO_MATCH,
    OtherMatch,
    ScreeningDecision,
    ScreeningSubject,
)
from tradeguard.screening.name_match import NameComparison, compare, prepare
from tradeguard.screening.watchlist import EntryKind, IndexedName, NameKind, Watchlist

ASSESSED = 6
"""How many of the best names by name score are weighed with dates and countries (and
every other name that reaches the threshold by name alone: namesakes on the list)."""
OTHERS_NAMED = 5
"""How many other entries that also reach the threshold the reasons name."""


@dataclass(frozen=True, slots=True)
class ScreeningParameters:
    """The decision's thresholds and adjustments (documented in docs/screening.md)."""

    match_threshold: float = 0.85
    report_floor: float = 0.5
    weak_alias_factor: float = 0.8
    kind_mismatch_factor: float = 0.9
    same_birth_day_bonus: float = 0.05
    birth_agrees_bonus: float = 0.02
    birth_clears_factor: float = 0.6
    country_agrees_bonus: float = 0.03
    country_differs_penalty: float = 0.03


@dataclass(slots=True)
class Assessment:
    """One listed name's score for the subject and how it came about."""

    name: IndexedName
    score: float
    reasons: list[str] = field(default_factory=list)
    cleared: bool = False


def decide(
    subject: ScreeningSubject,
    watchlists: Sequence[Watchlist],
    parameters: ScreeningParameters,
) -> ScreeningDecision:
    """Screen ``subject`` against every list; the best-scoring entry decides.

    Every candidate the index offers is compared by name; the ``ASSESSED`` best by name
    are then weighed with the rest of the evidence (a date of birth can clear the best
    name and leave the next one standing).
    """
    compared = [
        (compare(screened, candidate.form), candidate, watchlist)
        for watchlist in watchlists
        for screened in (prepare(subject.name, watchlist.weights.weigh),)
        for candidate in watchlist.candidates(screened)
    ]
    compared.sort(key=lambda item: item[0].score, reverse=True)
    assessed = [
        (assess(subject, comparison, candidate, parameters), watchlist)
        for rank, (comparison, candidate, watchlist) in enumerate(compared)
        if rank < ASSESSED or comparison.score >= parameters.match_threshold
    ]
    best: tuple[Assessment, Watchlist] | None = None
    for assessment, watchlist in assessed:
        if best is None or _better(assessment, best[0]):
            best = (assessment, watchlist)
    if best is None:
        return NO_MATCH
    others = _others_matching(best[0], [assessment for assessment, _ in assessed], parameters)
    return _decision(*best, parameters, others)


def _others_matching(
    best: Assessment, assessed: list[Assessment], parameters: ScreeningParameters
) -> list[Assessment]:
    """Other entries that reach the threshold too (namesakes): best name of each, best first.

    A name alone cannot tell two listed people of one name apart; the reviewer sees
    them all.
    """
    by_entry: dict[str, Assessment] = {}
    for assessment in assessed:
        ent_num = assessment.name.entry.ent_num
        matching = assessment.score >= parameters.match_threshold and not assessment.cleared
        better = ent_num not in by_entry or assessment.score > by_entry[ent_num].score
        if ent_num != best.name.entry.ent_num and matching and better:
            by_entry[ent_num] = assessment
    others = sorted(by_entry.values(), key=lambda assessment: assessment.score, reverse=True)
    return others[:OTHERS_NAMED]


def _better(assessment: Assessment, incumbent: Assessment) -> bool:
    """Higher score wins; at equal score an entry not cleared wins."""
    return (assessment.score, not assessment.cleared) > (incumbent.score, not incumbent.cleared)


def assess(
    subject: ScreeningSubject,
    comparison: NameComparison,
    candidate: IndexedName,
    parameters: ScreeningParameters,
) -> Assessment:
    """The score of one listed name for ``subject`` with every adjustment explained."""
    assessment = Assessment(candidate, comparison.score, [_name_reason(candidate, comparison)])
    _weigh_alias(assessment, parameters)
    _weigh_kind(subject, assessment, parameters)
    _weigh_birth(subject, assessment, parameters)
    _weigh_country(subject, assessment, parameters)
    assessment.score = round(min(1.0, max(0.0, assessment.score)), 4)
    return assessment


def _name_reason(candidate: IndexedName, comparison: NameComparison) -> str:
    """Which tokens agreed and how, and which were left over on each side."""
    listed = candidate.form.tokens
    agreed = [
        f"{'+'.join(listed[j] for j in pair.listed)} {pair.how} {pair.similarity:.2f}"
        for pair in comparison.pairs
    ]
    paired = {j for pair in comparison.pairs for j in pair.listed}
    unpaired = [token for j, token in enumerate(listed) if j not in paired]
    text = f"name {comparison.score:.2f} against {candidate.name.kind} name "
    text += f"'{candidate.name.text}': " + (", ".join(agreed) or "no token agrees")
    if unpaired:
        text += f"; listed tokens not found: {' '.join(unpaired)}"
    if comparison.capped:
        text += "; only one distinctive token agrees (capped)"
    return text


def _weigh_alias(assessment: Assessment, parameters: ScreeningParameters) -> None:
    if assessment.name.name.kind is NameKind.WEAK:
        assessment.score *= parameters.weak_alias_factor
        assessment.reasons.append(f"weak alias: x{parameters.weak_alias_factor}")


def _weigh_kind(
    subject: ScreeningSubject, assessment: Assessment, parameters: ScreeningParameters
) -> None:
    kind = assessment.name.entry.kind
    if subject.dob is not None and kind is not EntryKind.INDIVIDUAL:
        assessment.score *= parameters.kind_mismatch_factor
        assessment.reasons.append(
            f"a person (date of birth given) against an {kind} entry: "
            f"x{parameters.kind_mismatch_factor}"
        )


def _weigh_birth(
    subject: ScreeningSubject, assessment: Assessment, parameters: ScreeningParameters
) -> None:
    if subject.dob is None:
        return
    evidence, text = birth_evidence(subject.dob, assessment.name.entry.births)
    if evidence is BirthEvidence.SAME_DAY:
        assessment.score += parameters.same_birth_day_bonus
        assessment.reasons.append(
            f"date of birth agrees with {text}: +{parameters.same_birth_day_bonus}"
        )
    elif evidence in (BirthEvidence.SWAPPED, BirthEvidence.WITHIN_SPAN):
        assessment.score += parameters.birth_agrees_bonus
        assessment.reasons.append(
            f"date of birth {evidence} {text}: +{parameters.birth_agrees_bonus}"
        )
    elif evidence is BirthEvidence.NEAR:
        assessment.reasons.append(f"date of birth near {text}: does not clear")
    elif evidence is BirthEvidence.CLEARS:
        assessment.score *= parameters.birth_clears_factor
        assessment.cleared = True
        assessment.reasons.append(
            "date of birth 3 or more years from every date on the entry: a different person, "
            f"x{parameters.birth_clears_factor}"
        )


def _weigh_country(
    subject: ScreeningSubject, assessment: Assessment, parameters: ScreeningParameters
) -> None:
    tokens = assessment.name.entry.country_tokens
    if not subject.country or not tokens:
        return
    agreed = mentions_country(tokens, subject.country)
    if agreed:
        assessment.score += parameters.country_agrees_bonus
        assessment.reasons.append(
            f"country {subject.country} agrees ({agreed}): +{parameters.country_agrees_bonus}"
        )
    else:
        assessment.score -= parameters.country_differs_penalty
        assessment.reasons.append(
            f"country {subject.country} not on the entry: -{parameters.country_differs_penalty}"
        )


def _decision(
    assessment: Assessment,
    watchlist: Watchlist,
    parameters: ScreeningParameters,
    others: list[Assessment],
) -> ScreeningDecision:
    """The decision from the best assessment; the entry is named only above the floor."""
    match = assessment.score >= parameters.match_threshold and not assessment.cleared
    reasons = [*assessment.reasons, _verdict(assessment, match=match, parameters=parameters)]
    if match and others:
        reasons.append(_others_reason(others))
    if assessment.score <= parameters.report_floor:
        return ScreeningDecision(
            match=False,
            score=assessment.score,
            ent_num=None,
            matched_name=None,
            reasons=reasons[-1:],
        )
    return ScreeningDecision(
        match=match,
        score=assessment.score,
        ent_num=assessment.name.entry.ent_num,
        matched_name=assessment.name.name.text,
        reasons=reasons,
        list_name=watchlist.list_name,
        list_version=watchlist.version,
        entry_digest=assessment.name.entry.digest(),
        also_matched=tuple(_other(other) for other in others) if match else (),
    )


def _other(assessment: Assessment) -> OtherMatch:
    entry = assessment.name.entry
    return OtherMatch(entry.ent_num, assessment.name.name.text, assessment.score, entry.digest())


def _others_reason(others: list[Assessment]) -> str:
    named = ", ".join(
        f"{other.name.entry.ent_num} '{other.name.name.text}' {other.score:.2f}" for other in others
    )
    return f"other entries also reach the threshold: {named}"


def _verdict(assessment: Assessment, *, match: bool, parameters: ScreeningParameters) -> str:
    threshold = parameters.match_threshold
    if match:
        return f"score {assessment.score:.2f} reaches the threshold {threshold}: review"
    if assessment.cleared:
        return "cleared by the date of birth"
    return f"score {assessment.score:.2f} below the threshold {threshold}"
