"""The hand-labelled pairs of tests/unit/screening/name_variants.tsv as a list and queries.

Each distinct listed name is one entry of a small list (an individual when written
``LAST, First``, else an entity); every screened name is screened against that whole
list. A true variant is found when its own entry matches; a negative is a false
positive when any entry matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tradeguard.screening.decide import ScreeningParameters, decide
from tradeguard.screening.decisions import ScreeningDecision, ScreeningSubject
from tradeguard.screening.watchlist import EntryKind, ListedName, ListEntry, NameKind, Watchlist

PAIRS = Path(__file__).parent.parent / "tests" / "unit" / "screening" / "name_variants.tsv"


@dataclass(frozen=True, slots=True)
class LabelledPair:
    """One line of the set: its kind, whether it is the listed person, both names."""

    kind: str
    same: bool
    listed: str
    screened: str


def labelled_pairs(path: Path = PAIRS) -> list[LabelledPair]:
    """The pairs of the file, comments left out."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            kind, label, listed, screened = line.split("\t")
            pairs.append(LabelledPair(kind, label == "match", listed, screened))
    return pairs


def pairs_watchlist(pairs: list[LabelledPair]) -> Watchlist:
    """Every listed name of ``pairs`` as one entry of a list."""
    listed = sorted({pair.listed for pair in pairs})
    entries = [
        ListEntry(
            ent_num=str(number),
            kind=EntryKind.INDIVIDUAL if "," in name else EntryKind.ENTITY,
            names=(ListedName(name, NameKind.PRIMARY),),
        )
        for number, name in enumerate(listed, start=1)
    ]
    return Watchlist("pairs", "hand-labelled", entries)


@dataclass(frozen=True, slots=True)
class PairResult:
    """A pair and what screening its name against the list decided."""

    pair: LabelledPair
    decision: ScreeningDecision

    def right(self, threshold: float) -> bool:
        """Found when it should be (its own entry), not flagged when it should not be."""
        flagged = self.decision.score >= threshold
        if self.pair.same:
            return flagged and self.decision.matched_name == self.pair.listed
        return not flagged


def screen_pairs(
    pairs: list[LabelledPair], parameters: ScreeningParameters | None = None
) -> list[PairResult]:
    """Screen every pair's name against the list of all listed names."""
    watchlist = pairs_watchlist(pairs)
    chosen = parameters or ScreeningParameters()
    return [
        PairResult(pair, decide(ScreeningSubject(pair.screened), [watchlist], chosen))
        for pair in pairs
    ]


def rates(results: list[PairResult], threshold: float) -> tuple[float, float]:
    """Recall over the true variants and false-positive rate over the negatives."""
    positives = [result for result in results if result.pair.same]
    negatives = [result for result in results if not result.pair.same]
    recall = sum(result.right(threshold) for result in positives) / len(positives)
    false = sum(not result.right(threshold) for result in negatives) / len(negatives)
    return recall, false
