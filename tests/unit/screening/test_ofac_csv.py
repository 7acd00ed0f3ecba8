"""OFAC's legacy CSV as published: nulls, quoting, the end-of-file mark, aliases, comments."""

from __future__ import annotations

from pathlib import Path

import pytest
from screening_kit import SAMPLE, copy_sample

from tradeguard.screening.entry_facts import alias_kind, country_tokens, entry_kind, weak_aliases
from tradeguard.screening.ofac_csv import ListFileError, read_list
from tradeguard.screening.watchlist import EntryKind, NameKind


def test_read_list_when_sample_then_fields_nulls_and_quoted_commas() -> None:
    parsed = read_list(SAMPLE, "ofac-sdn")
    by_num = {entry.ent_num: entry for entry in parsed.entries}

    vessel = by_num["22388"]
    assert (vessel.sdn_type, vessel.title) == ("vessel", None)
    assert vessel.vessel == {
        "call_sign": "3FYR7",
        "vessel_type": "Crude Oil Tanker",
        "grt": "157,880",
        "vessel_flag": "Iran",
    }
    assert [alias.name for alias in vessel.aliases] == ["GRACE 1"]
    bank = by_num["9641"]
    assert [address.country for address in bank.addresses] == ["Iran", "Germany"]
    assert by_num["306"].sdn_type is None
    assert len(parsed.entries) == 18


def test_read_list_when_comments_file_present_then_remarks_continue(tmp_path: Path) -> None:
    directory = copy_sample(tmp_path / "list")
    (directory / "sdn_comments.csv").write_bytes(b'35096,"alt. DOB 08 Oct 1952."\r\n\x1a')

    parsed = read_list(directory, "ofac-sdn")

    putin = next(entry for entry in parsed.entries if entry.ent_num == "35096")
    assert putin.remarks is not None
    assert putin.remarks.endswith("alt. DOB 08 Oct 1952.")
    assert "sdn_comments.csv" in parsed.file_hashes


def test_read_list_when_cp1252_file_then_decoded(tmp_path: Path) -> None:
    directory = copy_sample(tmp_path / "list")
    sdn = (directory / "sdn.csv").read_bytes().rstrip(b"\x1a")
    row = '1,"NU\xd1EZ, Jos\xe9","individual","SDNT",' + '"-0- ",' * 7 + '"DOB 1960."\r\n'
    (directory / "sdn.csv").write_bytes(sdn + row.encode("cp1252") + b"\x1a")

    parsed = read_list(directory, "ofac-sdn")

    assert parsed.entries[-1].name == "NUÑEZ, José"


def test_read_list_when_unknown_list_then_refused() -> None:
    with pytest.raises(ListFileError, match="unknown list"):
        read_list(SAMPLE, "un-consolidated")


def test_read_list_when_consolidated_files_then_same_layout(tmp_path: Path) -> None:
    directory = tmp_path / "cons"
    directory.mkdir()
    for source, target in (("sdn", "cons_prim"), ("alt", "cons_alt"), ("add", "cons_add")):
        (directory / f"{target}.csv").write_bytes((SAMPLE / f"{source}.csv").read_bytes())

    parsed = read_list(directory, "ofac-cons")

    assert (parsed.list_name, len(parsed.entries)) == ("ofac-cons", 18)


@pytest.mark.parametrize(
    ("sdn_type", "kind"),
    [("individual", EntryKind.INDIVIDUAL), (None, EntryKind.ENTITY), ("vessel", EntryKind.VESSEL)],
)
def test_entry_kind_when_sdn_type_then_kind(sdn_type: str | None, kind: EntryKind) -> None:
    assert entry_kind(sdn_type) is kind


def test_aliases_when_typed_or_weak_then_kind() -> None:
    assert alias_kind("fka", None) is NameKind.FKA
    assert alias_kind("nka", None) is NameKind.NKA
    assert alias_kind("aka", "weak alias") is NameKind.WEAK
    assert weak_aliases("DOB 1957; a.k.a. 'EL CHAPO'; a.k.a. \u2018SHORTY\u2019.") == [
        "EL CHAPO",
        "SHORTY",
    ]


def test_country_tokens_when_remarks_and_addresses_then_country_phrases_only() -> None:
    tokens = country_tokens("DOB 1961; POB Tehran, Iran; Passport 123 (Iraq)", ["Germany", None])

    assert "IRAN" in tokens
    assert "GERMANY" in tokens
    assert "IRAQ" not in tokens
