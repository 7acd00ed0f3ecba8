"""The hand-labelled set of how real names vary (name_variants.tsv), screened as a list.

The set was written from public knowledge of naming and romanisation, independently of
the benchmark's generator: transliterations of Arabic, Persian, Cyrillic, Chinese and
Korean names, name order, particles, hypocorisms, initials, middle names, legal forms,
and hard negatives (namesakes, one-letter-off surnames, companies sharing generic words).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[3] / "bench"))

from screening_pairs import PairResult, labelled_pairs, rates, screen_pairs

THRESHOLD = 0.85


@pytest.fixture(scope="module")
def results() -> list[PairResult]:
    return screen_pairs(labelled_pairs())


def test_pairs_when_screened_then_recall_and_false_positives_hold(
    results: list[PairResult],
) -> None:
    recall, false_positives = rates(results, THRESHOLD)
    missed = [result.pair.screened for result in results if not result.right(THRESHOLD)]
    assert recall >= 0.97, missed
    assert false_positives <= 0.08, missed


@pytest.mark.parametrize(
    "kind",
    [
        "order",
        "arabic",
        "cyrillic",
        "european",
        "vietnamese",
        "persian",
        "turkish",
        "chinese",
        "korean",
        "hispanic",
        "nickname",
        "suffix",
        "entity",
        "typo",
    ],
)
def test_pairs_when_a_kind_of_variation_then_every_variant_found(
    results: list[PairResult], kind: str
) -> None:
    missed = [
        result.pair.screened
        for result in results
        if result.pair.kind == kind and not result.right(THRESHOLD)
    ]
    assert missed == []


def test_pairs_when_namesakes_or_generic_companies_then_never_flagged(
    results: list[PairResult],
) -> None:
    flagged = [
        result.pair.screened
        for result in results
        if result.pair.kind in {"neg-surname", "neg-given", "neg-generic", "neg-nickname"}
        and not result.right(THRESHOLD)
    ]
    assert flagged == []
