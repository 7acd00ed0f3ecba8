"""Loading a list: all or nothing, the previous version replaced atomically, audited, rescreened."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pytest
from screening_kit import OPERATOR, SAMPLE, copy_sample, screening_service
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from support import TestDatabase
from tradeguard.audit.search import AuditQuery, search
from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import ProblemError
from tradeguard.screening.decisions import ScreeningDecision, ScreeningSubject
from tradeguard.screening.models import ListEntryRow, ListNameRow, ListVersionRow
from tradeguard.screening.ofac_csv import ListFileError
from tradeguard.screening.parties import ScreenedParty
from tradeguard.screening.service import SanctionsScreening


class RecordingParties:
    """Customers to rescreen, and the hits raised for them."""

    def __init__(self, *parties: ScreenedParty) -> None:
        self.listed = parties
        self.hits: list[tuple[str, ScreeningDecision]] = []

    def parties(self, session: Session) -> Iterable[ScreenedParty]:
        del session
        return self.listed

    def raise_hit(self, session: Session, party_id: str, decision: ScreeningDecision) -> None:
        del session
        self.hits.append((party_id, decision))


@pytest.fixture
def screening(
    clean_database: TestDatabase, clock: FixedClock, tmp_path: Path
) -> SanctionsScreening:
    return screening_service(clean_database, clock, tmp_path)


def counts(screening: SanctionsScreening) -> tuple[int, int, int]:
    with screening._sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(ListVersionRow)) or 0,
            session.scalar(select(func.count()).select_from(ListEntryRow)) or 0,
            session.scalar(select(func.count()).select_from(ListNameRow)) or 0,
        )


def load_events(screening: SanctionsScreening) -> list[dict[str, object]]:
    with screening._sessions() as session:
        events = search(session, AuditQuery(event_type="screening.list.loaded"))
        return [dict(event.data) for event in events.events]


def test_load_when_sample_then_stored_audited_with_hashes_and_counts(
    screening: SanctionsScreening,
) -> None:
    report = screening.load(SAMPLE, "ofac-sdn", OPERATOR)

    assert (report.entries, report.aliases, report.addresses) == (18, 17, 8)
    expected = {
        name: hashlib.sha256((SAMPLE / name).read_bytes()).hexdigest()
        for name in ("sdn.csv", "alt.csv", "add.csv")
    }
    assert report.file_hashes == expected
    # 18 primary names, 17 aliases, 2 weak aliases written in the remarks (BNC, EL CHAPO)
    assert counts(screening) == (1, 18, 18 + 17 + 2)
    (event,) = load_events(screening)
    assert event["file_sha256"] == expected
    assert (event["entries"], event["aliases"], event["replaced"]) == (18, 17, None)


def test_load_when_loaded_then_screening_uses_it(screening: SanctionsScreening) -> None:
    screening.load(SAMPLE, "ofac-sdn", OPERATOR)

    decision = screening.screen(ScreeningSubject("Vladimir Putin", date(1952, 10, 7), "RU"))

    assert decision.match
    assert decision.ent_num == "35096"
    assert decision.list_name == "ofac-sdn"


def test_screen_when_no_list_loaded_then_refused_not_cleared(screening: SanctionsScreening) -> None:
    with pytest.raises(ProblemError) as refused:
        screening.screen(ScreeningSubject("Vladimir Putin"))

    assert refused.value.reason_code == "SCREENING_NO_LIST_LOADED"
    assert refused.value.status == 503


def test_load_when_reloaded_then_previous_version_replaced(
    screening: SanctionsScreening, tmp_path: Path
) -> None:
    first = screening.load(SAMPLE, "ofac-sdn", OPERATOR)
    changed = copy_sample(tmp_path / "changed")
    for name in ("sdn.csv", "add.csv"):
        lines = (changed / name).read_bytes().splitlines(keepends=True)
        (changed / name).write_bytes(b"".join(line for line in lines if b"35096" not in line))

    second = screening.load(changed, "ofac-sdn", OPERATOR)

    assert second.replaced == first.version_id
    versions = screening.versions()
    assert [version.id for version in versions] == [second.version_id]
    assert counts(screening)[:2] == (2, 17)
    assert screening.screen(ScreeningSubject("Vladimir Putin")).ent_num is None
    assert json.loads(versions[0].file_hashes)["sdn.csv"] != first.file_hashes["sdn.csv"]


@pytest.mark.parametrize(
    ("file", "damage", "expected"),
    [
        ("sdn.csv", '99,"SHORT ROW","-0- "\r\n', "sdn.csv line 19: 3 fields, expected 12"),
        ("alt.csv", '424242,1,"aka","NOBODY","-0- "\r\n', "alt.csv line 18: ent_num 424242 is not"),
        ("add.csv", 'x7,1,"a","b","c","d"\r\n', "add.csv line 9: ent_num 'x7' is not a number"),
        ("sdn.csv", '306,"DUPLICATE",' + '"-0- ",' * 9 + '"-0- "\r\n', "ent_num 306 appears twice"),
        ("sdn.csv", '77,"UNCLOSED QUOTE,"-0- "\r\n', "sdn.csv line"),
    ],
)
def test_load_when_a_line_is_malformed_then_nothing_changes_and_the_line_is_named(
    screening: SanctionsScreening, tmp_path: Path, file: str, damage: str, expected: str
) -> None:
    screening.load(SAMPLE, "ofac-sdn", OPERATOR)
    before = (counts(screening), [version.id for version in screening.versions()])
    damaged = copy_sample(tmp_path / "damaged")
    text = (damaged / file).read_bytes().rstrip(b"\x1a")
    (damaged / file).write_bytes(text + damage.encode() + b"\x1a")

    with pytest.raises(ListFileError) as refused:
        screening.load(damaged, "ofac-sdn", OPERATOR)

    assert expected in str(refused.value)
    assert (counts(screening), [version.id for version in screening.versions()]) == before
    assert len(load_events(screening)) == 1


def test_load_when_a_file_is_missing_then_refused(
    screening: SanctionsScreening, tmp_path: Path
) -> None:
    partial = copy_sample(tmp_path / "partial")
    (partial / "add.csv").unlink()

    with pytest.raises(ListFileError, match=r"add\.csv: missing"):
        screening.load(partial, "ofac-sdn", OPERATOR)

    assert counts(screening) == (0, 0, 0)


def test_load_when_parties_exist_then_each_rescreened_and_hits_raised(
    clean_database: TestDatabase, clock: FixedClock, tmp_path: Path
) -> None:
    parties = RecordingParties(
        ScreenedParty("c-1", ScreeningSubject("Jane Doe", date(1990, 1, 2), "US")),
        ScreenedParty("c-2", ScreeningSubject("Nicolas Maduro", date(1962, 11, 23), "VE")),
        ScreenedParty("c-3", ScreeningSubject("Nicolas Maduro", date(1990, 5, 5), "VE")),
    )
    screening = screening_service(clean_database, clock, tmp_path, parties)
    progress: list[int] = []

    report = screening.load(SAMPLE, "ofac-sdn", OPERATOR, progress.append)

    assert report.rescreen is not None
    assert (report.rescreen.screened, report.rescreen.hits) == (3, 1)
    assert [(party, hit.ent_num) for party, hit in parties.hits] == [("c-2", "22151")]
    assert sum(progress) == 3
    with screening._sessions() as session:
        (event,) = search(session, AuditQuery(event_type="screening.rescreen.completed")).events
    assert (event.data["screened"], event.data["hits"]) == (3, 1)


def test_reload_changed_when_files_unchanged_then_nothing_loaded(
    screening: SanctionsScreening, tmp_path: Path
) -> None:
    directory = copy_sample(tmp_path / "watched")
    first = screening.reload_changed(directory, OPERATOR)
    again = screening.reload_changed(directory, OPERATOR)

    assert [report.list_name for report in first] == ["ofac-sdn"]
    assert again == []
    assert len(load_events(screening)) == 1


def test_reload_changed_when_a_file_changed_then_new_version(
    screening: SanctionsScreening, tmp_path: Path
) -> None:
    directory = copy_sample(tmp_path / "watched")
    (first,) = screening.reload_changed(directory, OPERATOR)
    alt = (directory / "alt.csv").read_bytes().rstrip(b"\x1a")
    (directory / "alt.csv").write_bytes(alt + b'35096,9999,"aka","PUTIN, Vova","-0- "\r\n\x1a')

    (second,) = screening.reload_changed(directory, OPERATOR)

    assert second.replaced == first.version_id
    assert screening.screen(ScreeningSubject("Vova Putin")).ent_num == "35096"
