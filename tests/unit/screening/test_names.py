"""Names as tokens: scripts, case, punctuation, titles, legal forms; the phonetic skeleton."""

from __future__ import annotations

import pytest

from tradeguard.screening.names import name_tokens, skeleton


@pytest.mark.parametrize(
    ("written", "tokens"),
    [
        ("Dr. José O'Brien-Núñez", ("JOSE", "OBRIEN", "NUNEZ")),
        ("PUTIN, Vladimir Vladimirovich", ("PUTIN", "VLADIMIR", "VLADIMIROVICH")),
        ("Владимир Путин", ("VLADIMIR", "PUTIN")),
        ("习近平", ("XI", "JIN", "PING")),
        ("Müller GmbH", ("MULLER", "GMBH")),
        ("Foo Limited Liability Company", ("FOO", "LLC")),
        ("FOO L.L.C.", ("FOO", "LLC")),
        ("Acme Corporation", ("ACME", "CORP")),
        ("Acme Co., Ltd.", ("ACME", "CO", "LTD")),
        ("Acme Company Limited", ("ACME", "CO", "LTD")),
        ("Sheikh Hamad", ("HAMAD",)),
        ("Mr", ("MR",)),
        ("Smith & Sons", ("SMITH", "AND", "SONS")),
        ("", ()),
    ],
)
def test_name_tokens_when_written_any_way_then_one_form(
    written: str, tokens: tuple[str, ...]
) -> None:
    assert name_tokens(written) == tokens


@pytest.mark.parametrize(
    "spellings",
    [
        ("MUHAMMAD", "MOHAMMED", "MOHAMAD", "MOHAMMAD"),
        ("QADHAFI", "GADDAFI", "KADHAFI"),
        ("HUSSEIN", "HUSAYN", "HOSEIN"),
        ("YUSUF", "YOUSSEF"),
        ("ZHUKOV", "JUKOV"),
        ("SMITH", "SMYTH"),
    ],
)
def test_skeleton_when_transliterations_of_one_name_then_equal(spellings: tuple[str, ...]) -> None:
    assert len({skeleton(spelling) for spelling in spellings}) == 1


@pytest.mark.parametrize(
    ("left", "right"), [("SMITH", "JONES"), ("PUTIN", "PATEL"), ("KIM", "LEE")]
)
def test_skeleton_when_different_names_then_differ(left: str, right: str) -> None:
    assert skeleton(left) != skeleton(right)


@pytest.mark.parametrize(
    ("written", "tokens"),
    [
        ("Abdulrahman", ("ABD", "AL", "RAHMAN")),
        ("Abd al-Rahman", ("ABD", "AL", "RAHMAN")),
        ("Abdel Rahman", ("ABD", "AL", "RAHMAN")),
        ("Abdurrahman", ("ABD", "AL", "RAHMAN")),
        ("Abdullah", ("ABDULLAH",)),
        ("Abdulahi", ("ABDULAHI",)),
        ("Zhukovskii", ("ZHUKOVSKY",)),
        ("Zhukovskiy", ("ZHUKOVSKY",)),
        ("M.A. Khan", ("M", "A", "KHAN")),
        ("Lumen S.p.A.", ("LUMEN", "SPA")),
        ("Thomas Harrington Jr.", ("THOMAS", "HARRINGTON")),
        ("Helios mit beschränkter Haftung", ("HELIOS", "GMBH")),
        ("Helios mbH", ("HELIOS", "GMBH")),
        ("AO Vostok", ("JSC", "VOSTOK")),
        ("Obshchestvo s ogranichennoi otvetstvennostiu Tekhno", ("OOO", "TEKHNO")),
    ],
)
def test_name_tokens_when_a_naming_convention_varies_then_one_form(
    written: str, tokens: tuple[str, ...]
) -> None:
    assert name_tokens(written) == tokens
