"""The decision over the hand-written sample list: names, aliases, dates of birth, countries."""

from __future__ import annotations

from datetime import date

import pytest
from screening_kit import sample_watchlist

from tradeguard.screening.birth_dates import BirthSpan, birth_spans
from tradeguard.screening.decide import ScreeningParameters, decide
from tradeguard.screening.decisions import ScreeningDecision, ScreeningSubject
from tradeguard.screening.watchlist import EntryKind, ListedName, ListEntry, NameKind, Watchlist

SAMPLE = sample_watchlist()
PARAMETERS = ScreeningParameters()


def screen(name: str, dob: date | None = None, country: str | None = None) -> ScreeningDecision:
    return decide(ScreeningSubject(name, dob, country), [SAMPLE], PARAMETERS)


@pytest.mark.parametrize(
    ("name", "ent_num"),
    [
        ("Vladimir Putin", "35096"),
        ("Владимир Путин", "35096"),
        ("Osama bin Laden", "6365"),
        ("Bashar Assad", "25370"),
        ("Kim Jong Un", "15034"),
        ("Ali Hosseini Khamenei", "32320"),
        ("Melli Bank Iran", "9641"),
        ("National Bank of Iran", "9641"),
        ("Grace 1", "22388"),
        ("Shanghai Jinzhou Trading Company Limited", "36700"),
        ("Saddam Husain", "2674"),
    ],
)
def test_decide_when_listed_name_or_alias_then_match(name: str, ent_num: str) -> None:
    decision = screen(name)

    assert decision.match
    assert decision.ent_num == ent_num
    assert decision.list_name == "ofac-sdn"
    assert decision.reasons[-1].endswith("review")


def test_decide_when_matched_through_alias_then_alias_named() -> None:
    decision = screen("Osama Bin Laden")

    assert decision.matched_name == "BIN LADEN, Osama"
    assert "aka name 'BIN LADEN, Osama'" in decision.reasons[0]


def test_decide_when_weak_alias_only_then_reported_not_matched() -> None:
    decision = screen("El Chapo")

    assert (decision.match, decision.ent_num) == (False, "7850")
    assert "weak alias: x0.8" in decision.reasons


@pytest.mark.parametrize("name", ["BELLETECH CORP", "Global Trading Co Ltd", "International Bank"])
def test_decide_when_generic_words_only_then_no_entry_named(name: str) -> None:
    decision = screen(name)

    assert (decision.match, decision.ent_num, decision.matched_name) == (False, None, None)
    assert decision.score <= 0.5


def test_decide_when_same_birth_day_and_country_then_raised_and_explained() -> None:
    decision = screen("Vladimir Putin", date(1952, 10, 7), "RU")

    assert decision.match
    assert decision.score > screen("Vladimir Putin").score
    assert "date of birth agrees with DOB 07 Oct 1952: +0.05" in decision.reasons
    assert "country RU agrees (RUSSIA): +0.03" in decision.reasons


@pytest.mark.parametrize(
    ("dob", "expected"),
    [
        (date(1952, 10, 7), True),
        (date(1952, 7, 10), True),  # day and month swapped
        (date(1953, 10, 7), True),  # a year off
        (date(1955, 10, 6), True),  # just under three years
        (date(1955, 10, 7), False),  # three years: a different person
        (date(1980, 1, 1), False),
    ],
)
def test_decide_when_birth_date_differs_then_only_three_years_clears(
    dob: date, expected: object
) -> None:
    decision = screen("Vladimir Putin", dob)

    assert decision.match is expected
    assert decision.ent_num == "35096"


def test_decide_when_cleared_by_date_then_reason_says_so() -> None:
    decision = screen("Hassan Nasrallah", date(1990, 1, 1))

    assert not decision.match
    assert decision.reasons[-1] == "cleared by the date of birth"


def test_decide_when_any_date_on_the_entry_is_near_then_not_cleared() -> None:
    """Kony is listed with DOB 1959, 1961, 1964 and 18 Sep 1961: 1966 is near 1964."""
    assert screen("Joseph Kony", date(1966, 5, 5)).match
    assert not screen("Joseph Kony", date(1968, 5, 5)).match


def test_decide_when_year_range_then_near_years_do_not_clear() -> None:
    assert screen("Mohammed Omar", date(1971, 5, 5)).match
    assert not screen("Mohammed Omar", date(1972, 5, 5)).match


def test_decide_when_country_differs_then_lowered_a_little_not_cleared() -> None:
    decision = screen("Vladimir Putin", None, "FR")

    assert decision.match
    assert "country FR not on the entry: -0.03" in decision.reasons


def test_decide_when_person_against_a_vessel_then_lowered() -> None:
    decision = screen("Grace 1", date(1980, 1, 1))

    assert any("against an vessel entry" in reason for reason in decision.reasons)
    assert decision.score < screen("Grace 1").score


def test_decide_when_nothing_listed_resembles_then_zero_and_a_reason() -> None:
    decision = screen("Zyxwv Qutrop")

    assert (decision.match, decision.score, decision.ent_num) == (False, 0.0, None)
    assert decision.reasons


def test_decide_when_empty_lists_then_no_match() -> None:
    empty = Watchlist("ofac-sdn", "empty", [])
    assert not decide(ScreeningSubject("Vladimir Putin"), [empty], PARAMETERS).match


def test_decide_when_threshold_raised_then_partial_names_no_longer_match() -> None:
    strict = ScreeningParameters(match_threshold=0.95)
    assert not decide(ScreeningSubject("Nicolas Maduro"), [SAMPLE], strict).match
    assert decide(ScreeningSubject("Joseph Kony"), [SAMPLE], strict).match


def test_decide_when_only_the_patronymic_is_missing_then_still_a_strong_match() -> None:
    strict = ScreeningParameters(match_threshold=0.95)
    assert decide(ScreeningSubject("Vladimir Putin"), [SAMPLE], strict).match


def _namesakes(count: int) -> Watchlist:
    """``count`` listed people of one name, born ten years apart (1940, 1950, ...)."""
    entries = [
        ListEntry(
            ent_num=str(100 + number),
            kind=EntryKind.INDIVIDUAL,
            names=(ListedName("DEMIR, Ismail", NameKind.PRIMARY),),
            births=(_born(1940 + 10 * number),),
        )
        for number in range(count)
    ]
    return Watchlist("ofac-sdn", "namesakes", entries)


def _born(year: int) -> BirthSpan:
    return birth_spans(f"DOB 15 Mar {year}")[0]


def test_decide_when_namesakes_then_each_other_entry_named_and_explained() -> None:
    decision = decide(ScreeningSubject("Ismail Demir"), [_namesakes(3)], PARAMETERS)

    assert decision.match
    named = {decision.ent_num, *(other.ent_num for other in decision.also_matched)}
    assert named == {"100", "101", "102"}
    assert decision.reasons[-1].startswith("other entries also reach the threshold: ")


def test_decide_when_more_namesakes_than_assessed_then_the_date_of_birth_finds_its_own() -> None:
    decision = decide(
        ScreeningSubject("Ismail Demir", date(2010, 3, 15)), [_namesakes(10)], PARAMETERS
    )

    assert (decision.match, decision.ent_num) == (True, "107")
    assert decision.also_matched == ()


def test_decide_when_no_match_then_no_other_entry_named() -> None:
    decision = decide(
        ScreeningSubject("Ismail Demir", date(2040, 3, 15)), [_namesakes(3)], PARAMETERS
    )

    assert not decision.match
    assert decision.also_matched == ()
