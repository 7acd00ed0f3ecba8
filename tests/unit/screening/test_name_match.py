"""The name score: order, missing middle names, typos, transliterations, generic-word traps."""

from __future__ import annotations

import pytest

from tradeguard.screening.name_match import TOKEN_FLOOR, compare, prepare, token_similarity
from tradeguard.screening.names import skeleton
from tradeguard.screening.token_weights import TokenWeights

WEIGHTS = TokenWeights([])


def score(screened: str, listed: str) -> float:
    return compare(prepare(screened, WEIGHTS.weigh), prepare(listed, WEIGHTS.weigh)).score


@pytest.mark.parametrize(
    ("screened", "listed"),
    [
        ("Joseph Kony", "KONY, Joseph"),
        ("kony joseph", "KONY, Joseph"),
        ("Kim Jong-un", "KIM, Jong Un"),
        ("Xi Jinping", "习近平"),
        ("Abdulrahman Ali", "ALI, Abdul Rahman"),
        ("Bashar al-Assad", "AL-ASSAD, Bashar"),
    ],
)
def test_compare_when_same_name_written_otherwise_then_full_score(
    screened: str, listed: str
) -> None:
    assert score(screened, listed) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("screened", "listed"),
    [
        ("Vladimir Putin", "PUTIN, Vladimir Vladimirovich"),
        ("Muammar Gaddafi", "QADHAFI, Muammar"),
        ("Mouammar Kadhafi", "QADHAFI, Muammar"),
        ("Hasan Nasralah", "NASRALLAH, Hasan"),
        ("Usama bin Ladin", "BIN LADEN, Osama"),
        ("Nicolas Maduro", "MADURO MOROS, Nicolas"),
        ("Joaquin Guzman Loera", "GUZMAN LOERA, Joaquin Archivaldo"),
        ("Aleksandr Lukashenko", "LUKASHENKO, Alexander"),
    ],
)
def test_compare_when_variant_of_a_listed_name_then_above_threshold(
    screened: str, listed: str
) -> None:
    assert score(screened, listed) >= 0.85


@pytest.mark.parametrize(
    ("screened", "listed"),
    [
        ("BELLETECH CORP", "11420 CORP."),
        ("Acme Trading Co Ltd", "SEPAHAN TRADING CO., LTD."),
        ("Global Shipping International Group", "ARYA GLOBAL SHIPPING INTERNATIONAL GROUP"),
        ("First National Bank", "BANK MELLI"),
        ("John Smith", "SMITH, Jane"),
        ("Edward Taylor", "TAYLOROMI, Edward"),
        ("John", "JOHN SMITH"),
        ("Maduro", "MADURO MOROS, Nicolas"),
        ("J. Smith", "SMITH, John"),
    ],
)
def test_compare_when_only_filler_or_one_part_agrees_then_below_threshold(
    screened: str, listed: str
) -> None:
    assert score(screened, listed) < 0.85


def test_compare_when_generic_words_only_then_they_weigh_little() -> None:
    """The BELLETECH CORP / 11420 CORP. failure: a shared legal form is no match."""
    assert score("BELLETECH CORP", "11420 CORP.") < 0.2


@pytest.mark.parametrize(
    ("left", "right", "how"),
    [
        ("SMITH", "SMITH", "exact"),
        ("KHAMENEI", "KHAMRNEI", "typo"),
        ("MOHAMMED", "MUHAMMAD", "phonetic"),
        ("UWE", "UWA", "vowel"),
        ("BILL", "WILLIAM", "nickname"),
        ("SASHA", "ALEKSANDR", "nickname"),
        ("PAK", "PARK", "nickname"),
        ("MOHD", "MUHAMMAD", "nickname"),
        ("HSU", "XU", "romanisation"),
        ("CHOU", "ZHOU", "romanisation"),
        ("CHIH", "ZHI", "romanisation"),
        ("CHERIF", "SHARIF", "phonetic"),
        ("WIACZESLAW", "VYACHESLAV", "phonetic"),
        ("MYN", "MIN", "phonetic"),
        ("LY", "LI", "phonetic"),
        ("DAZNAR", "DANZAR", "typo"),
        ("DOMREX", "DORMEX", "typo"),
    ],
)
def test_token_similarity_when_related_then_counts_and_says_how(
    left: str, right: str, how: str
) -> None:
    similarity, found = token_similarity(left, right)
    assert similarity >= TOKEN_FLOOR
    assert found == how


def test_token_similarity_when_an_initial_then_it_counts_a_little() -> None:
    assert token_similarity("J", "JOHN") == (0.8, "initial")


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("JOHN", "JANE"),
        ("J", "MARY"),
        ("11420", "11421"),
        ("TAYLOR", "TAYLOROMI"),
        ("HUY", "HAI"),
        ("LY", "LE"),
        ("TATAR", "TAR"),
        ("DERIPASKAAKA", "DERIPASKA"),
        ("ROTENBERG", "ROTENBERGVO"),
        ("MOHAMMADI", "MOHAMMADIAN"),
    ],
)
def test_token_similarity_when_different_then_zero(left: str, right: str) -> None:
    assert token_similarity(left, right) == (0.0, "")


def test_weights_when_token_common_on_the_list_then_it_weighs_less() -> None:
    weights = TokenWeights([("MOHAMMED", f"X{n}") for n in range(5000)] + [("ZARIF",)])
    assert weights.weigh("MOHAMMED") < weights.weigh("ZARIF") == 1.0
    assert weights.weigh("LTD") == weights.weigh("AL") == 0.15


def test_token_similarity_when_more_than_two_slips_apart_then_no_typo() -> None:
    assert token_similarity("TIMCHENKOIBAR", "TIMCHENKOIZU") == (0.0, "")
    assert token_similarity("FEDOTOV", "FEDOROV")[1] == "typo"


@pytest.mark.parametrize(
    ("screened", "listed"),
    [
        ("Bill Henderson", "HENDERSON, William Robert"),
        ("Hsu Ming-te", "XU, Mingde"),
        ("Huang Chih-chiang", "HUANG, Zhiqiang"),
        ("Park Myung Soo", "PAK, Myong Su"),
        ("Jose Maria Delacruz Mendoza", "DE LA CRUZ MENDOZA, Jose Maria"),
        ("Abd al-Rahman Khalid al-Rashidi", "AL-RASHIDI, Abdulrahman Khalid"),
        ("Dmitri Scherbakov", "SHCHERBAKOV, Dmitriy Olegovich"),
        ("Karavan Trade LLC", "KARAVAN TRADE LIMITED LIABILITY COMPANY"),
    ],
)
def test_compare_when_a_real_naming_variant_then_above_threshold(
    screened: str, listed: str
) -> None:
    assert score(screened, listed) >= 0.85


def test_compare_when_a_nickname_of_another_surname_then_below_threshold() -> None:
    assert score("Billy Anderson", "HENDERSON, William Robert") < 0.85


def test_skeleton_when_a_letter_doubled_then_once_but_repeated_across_a_vowel_then_kept() -> None:
    assert skeleton("HASSAN") == skeleton("HASAN")
    assert skeleton("MUHAMMAD") == skeleton("MOHAMED") == "MMT"
    assert skeleton("TATAR") != skeleton("TAR")
