"""The batch file: the whole input checked first, one output line per row in input order."""

from __future__ import annotations

import json
from datetime import date

import pytest
from screening_kit import sample_watchlist

from tradeguard.screening.batch import BatchFileError, read_batch, screened_lines
from tradeguard.screening.decide import ScreeningParameters
from tradeguard.screening.service import Screener

SCREENER = Screener([sample_watchlist()], ScreeningParameters())


def test_batch_when_rows_then_contract_fields_in_input_order() -> None:
    text = (
        "\ufeffid,name,dob,country\r\n"
        "a,Vladimir Putin,1952-10-07,ru\r\n"
        'b,"BELLETECH CORP",,\r\n'
        "c,Joseph Kony,,\r\n"
    )
    rows = read_batch(text)

    lines = [json.loads(line) for line in screened_lines(rows, SCREENER.screen)]

    assert [line["id"] for line in lines] == ["a", "b", "c"]
    assert set(lines[0]) == {"id", "match", "score", "ent_num", "matched_name", "reasons"}
    assert (lines[0]["match"], lines[0]["ent_num"]) == (True, "35096")
    assert (lines[1]["match"], lines[1]["ent_num"], lines[1]["matched_name"]) == (False, None, None)
    assert lines[2]["match"] is True
    assert rows[0].subject.dob == date(1952, 10, 7)
    assert rows[0].subject.country == "RU"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("id,name\n1,Ann\n", "line 1: the header lacks dob, country"),
        ("id,name,dob,country\n1,Ann,07/10/1952,\n", "line 2: dob '07/10/1952'"),
        ("id,name,dob,country\n1,Ann,1952-13-01,\n", "line 2: dob '1952-13-01'"),
        ("id,name,dob,country\n1,Ann,,\n2,Bo,,RUS\n", "line 3: country 'RUS'"),
        (f"id,name,dob,country\n1,{'x' * 501},,\n", "line 2: the name is longer"),
    ],
)
def test_batch_when_a_row_is_malformed_then_refused_naming_the_line(
    text: str, problem: str
) -> None:
    with pytest.raises(BatchFileError, match=problem):
        read_batch(text)
