"""Seeded variants of every listed name in the sample, and generic-word look-alikes.

Each individual on the sample list is written as people write names: given name
first, lower case, with accents, without the middle name or patronymic, with one
typo in the surname. Each must still find its entry. Companies that share only
generic words and a legal form with listed ones must not match.
"""

from __future__ import annotations

import random

import pytest
from screening_kit import sample_watchlist

from tradeguard.screening.decide import ScreeningParameters, decide
from tradeguard.screening.decisions import ScreeningSubject
from tradeguard.screening.vocabulary import HONORIFICS
from tradeguard.screening.watchlist import EntryKind, NameKind

SAMPLE = sample_watchlist()
PARAMETERS = ScreeningParameters()
PEOPLE = [
    (entry.ent_num, name.text)
    for entry in SAMPLE.entries
    if entry.kind is EntryKind.INDIVIDUAL
    for name in entry.names
    if name.kind is not NameKind.WEAK
]
ACCENTS = str.maketrans("aeiouAEIOU", "áéíóúÁÉÍÓÚ")
GENERIC = ["TRADING", "GENERAL", "INTERNATIONAL", "GROUP", "HOLDING", "SHIPPING", "INDUSTRIES"]
LEGAL = ["CO., LTD.", "LLC", "LIMITED", "CORP.", "INC.", "S.A.", "GMBH", "JSC"]


def _parts(listed: str) -> tuple[list[str], list[str]]:
    """Surnames and given names, a title (Sayyid) left out."""
    surname, _, given = listed.partition(",")
    return surname.split(), [name for name in given.split() if name.upper() not in HONORIFICS]


def _typo(word: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(word) - 1)
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def variants(listed: str, rng: random.Random) -> list[str]:
    surnames, given = _parts(listed)
    longest = max(range(len(surnames)), key=lambda index: len(surnames[index]))
    typoed = [_typo(name, rng) if i == longest else name for i, name in enumerate(surnames)]
    return [
        " ".join([*given, *surnames]),
        " ".join([*given, *surnames]).lower(),
        " ".join([*given, *surnames]).translate(ACCENTS),
        " ".join([*given[:1], *surnames]),
        " ".join([*given, *typoed]),
        " ".join([*surnames, *given]).upper(),
    ]


@pytest.mark.parametrize(("ent_num", "listed"), PEOPLE)
def test_variants_when_written_as_people_do_then_entry_found(ent_num: str, listed: str) -> None:
    rng = random.Random(f"{ent_num}:{listed}")  # noqa: S311 - seeded test data
    for variant in variants(listed, rng):
        decision = decide(ScreeningSubject(variant), [SAMPLE], PARAMETERS)
        assert (variant, decision.match, decision.ent_num) == (variant, True, ent_num)


def _made_up_company(rng: random.Random) -> str:
    word = "".join(rng.choice("BCDFGHKLMNPRSTVZ") + rng.choice("AEIOU") for _ in range(3))
    generic = rng.sample(GENERIC, rng.randint(1, 2))
    return " ".join([word, *generic, rng.choice(LEGAL)])


def test_generic_word_companies_when_screened_then_none_matches() -> None:
    rng = random.Random(20261206)  # noqa: S311 - seeded test data
    names = [_made_up_company(rng) for _ in range(300)]

    matched = [name for name in names if decide(ScreeningSubject(name), [SAMPLE], PARAMETERS).match]

    assert matched == []
