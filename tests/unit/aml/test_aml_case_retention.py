"""Five years for AML alerts and cases, SAR files sealed at rest, a deleted SAR out of batches."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aml_kit import FILER, schema_errors
from sqlalchemy import func, select
from test_aml_sar_clock import NAME, NARRATIVE, OFFICER

from tradeguard.aml.batches import FilingBatches
from tradeguard.aml.retention import AmlRetention
from tradeguard.aml.sar_service import SarForm, SarReports
from tradeguard.aml.sealed_files import SealedFiles
from tradeguard.audit.models import AuditEventRow
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.models import AlertRow, CaseNoteRow, CaseRow
from tradeguard.cases.service import Cases, Decision
from tradeguard.cases.store import AlertStore
from tradeguard.core.errors import ProblemError
from tradeguard.db.session import transaction
from unit.audit.audit_kit import AuditKit

NOON = int(datetime(2026, 3, 2, 17, tzinfo=UTC).timestamp()) * 10**9


def alert(kit: AuditKit, store: AlertStore, source: str = "aml", episode: str = "e1") -> str:
    draft = AlertDraft("structuring", 0.9, Subject("user-9", ("acct-1",)), NOON, NOON,
                       "aml.structuring", episode, {"total": "38400.00"})  # fmt: skip
    with transaction(kit.sessions) as db:
        row = store.raise_alert(db, draft, source)
        assert row is not None
        return row.id


def closed_case(kit: AuditKit, alert_ids: list[str], when: datetime) -> str:
    """A case of ``alert_ids`` with a note, closed as a false positive at ``when``."""
    cases = Cases(kit.trail, kit.clock)
    with transaction(kit.sessions) as db:
        case = cases.open_case(db, OFFICER, alert_ids, "Cash")
        cases.comment(db, OFFICER, case.id, "Spoke to the branch.")
    kit.clock.set(when)
    with transaction(kit.sessions) as db:
        cases.decide(db, OFFICER, case.id, Decision.FALSE_POSITIVE, "payroll")
    return case.id


def count(kit: AuditKit, table: type[object]) -> int:
    with kit.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def refused(kit: AuditKit, call: object, *args: object) -> str:
    with transaction(kit.sessions) as db, pytest.raises(ProblemError) as caught:
        call(db, OFFICER, *args)  # type: ignore[operator]
    return str(caught.value.reason_code)


def test_case_when_within_five_years_of_closure_then_deletion_refused_and_all_kept(
    kit: AuditKit, store: AlertStore, tmp_path: Path
) -> None:
    case_id = closed_case(kit, [alert(kit, store)], datetime(2026, 4, 1, 15, tzinfo=UTC))
    retention = AmlRetention(kit.trail, tmp_path)
    assert refused(kit, retention.delete_case, case_id, date(2031, 4, 1)) == "AML_RETENTION_ACTIVE"
    assert (count(kit, CaseRow), count(kit, AlertRow), count(kit, CaseNoteRow)) == (1, 1, 1)
    with transaction(kit.sessions) as db:
        retention.delete_case(db, OFFICER, case_id, date(2031, 4, 2))
    assert (count(kit, CaseRow), count(kit, AlertRow), count(kit, CaseNoteRow)) == (0, 0, 0)


def test_case_when_open_or_not_aml_then_never_deleted(
    kit: AuditKit, store: AlertStore, tmp_path: Path
) -> None:
    retention = AmlRetention(kit.trail, tmp_path)
    with transaction(kit.sessions) as db:
        open_case = Cases(kit.trail, kit.clock).open_case(db, OFFICER, [alert(kit, store)], "Open")
    assert refused(kit, retention.delete_case, open_case.id, date(2040, 1, 1)) == (
        "AML_RETENTION_ACTIVE"
    )
    mixed = closed_case(
        kit, [alert(kit, store, episode="e2"), alert(kit, store, "surveillance", "e3")],
        datetime(2026, 4, 1, 15, tzinfo=UTC),
    )  # fmt: skip
    assert refused(kit, retention.delete_case, mixed, date(2040, 1, 1)) == "AML_NOT_AML_RECORD"


def test_alert_in_a_case_goes_only_with_it_and_an_open_alert_stays(
    kit: AuditKit, store: AlertStore, tmp_path: Path
) -> None:
    retention = AmlRetention(kit.trail, tmp_path)
    in_case = alert(kit, store)
    closed_case(kit, [in_case], datetime(2026, 4, 1, 15, tzinfo=UTC))
    loose = alert(kit, store, episode="e9")
    assert refused(kit, retention.delete_alert, in_case, date(2040, 1, 1)) == "AML_ALERT_IN_CASE"
    assert refused(kit, retention.delete_alert, loose, date(2040, 1, 1)) == "AML_RETENTION_ACTIVE"
    other = alert(kit, store, "surveillance", "e4")
    assert refused(kit, retention.delete_alert, other, date(2040, 1, 1)) == "AML_NOT_AML_RECORD"


def test_purge_when_cases_and_loose_alerts_expired_then_deleted_once_and_audited(
    kit: AuditKit, store: AlertStore, tmp_path: Path
) -> None:
    old = closed_case(kit, [alert(kit, store)], datetime(2026, 4, 1, 15, tzinfo=UTC))
    loose = alert(kit, store, episode="e3")  # last changed 2026-04-01
    with transaction(kit.sessions) as db:
        db.get(AlertRow, loose).status = "closed"  # type: ignore[union-attr]
    recent = closed_case(kit, [alert(kit, store, episode="e2")], datetime(2027, 1, 5, tzinfo=UTC))
    retention = AmlRetention(kit.trail, tmp_path)
    with transaction(kit.sessions) as db:
        purged = retention.purge(db, OFFICER, date(2032, 1, 1))
    assert (purged.cases, purged.alerts) == ([old], [loose])
    with kit.sessions() as db:
        assert db.get(CaseRow, recent) is not None
        events = db.scalar(
            select(func.count()).where(AuditEventRow.event_type == "aml.case.deleted")
        )
    assert events == 1
    with transaction(kit.sessions) as db:
        assert retention.purge(db, OFFICER, date(2032, 1, 1)).cases == []


def sar_desk(kit: AuditKit, store: AlertStore, tmp_path: Path) -> tuple[SarReports, str, str]:
    """A generated SAR of a case closed on 2026-04-01; the reports, the SAR and the case."""
    files = SealedFiles(kit.crypto.keyring)
    reports = SarReports(kit.trail, kit.clock, FILER, tmp_path, files)
    case_id = closed_case(kit, [alert(kit, store)], datetime(2026, 3, 12, 15, tzinfo=UTC))
    form = SarForm(NAME, "1980-01-02", "teacher", NARRATIVE, date(2026, 3, 10), 3_840_000)
    with transaction(kit.sessions) as db:
        sar_id = reports.draft(db, OFFICER, case_id, form).id
        reports.generate(db, OFFICER, sar_id, date(2026, 3, 12))
    return reports, sar_id, case_id


def test_sar_file_when_generated_then_sealed_on_disk_and_plain_on_download(
    kit: AuditKit, store: AlertStore, tmp_path: Path
) -> None:
    reports, sar_id, _ = sar_desk(kit, store, tmp_path)
    on_disk = (tmp_path / f"sar-{sar_id}.xml").read_bytes()
    assert b"QUIXOTE-MARCHETTI" not in on_disk.upper()
    assert b"<?xml" not in on_disk
    with transaction(kit.sessions) as db:
        document = reports.downloaded(db, OFFICER, sar_id)
        reports.viewed(db, OFFICER, sar_id)
    assert schema_errors("SARX", document) == []
    assert b"QUIXOTE-MARCHETTI" in document.upper()
    with kit.sessions() as db:
        audited = set(db.scalars(select(AuditEventRow.event_type)))
    assert {"aml.sar.viewed", "aml.sar.downloaded"} <= audited


def test_sar_file_when_moved_over_another_or_tampered_then_it_does_not_open(
    kit: AuditKit, store: AlertStore, tmp_path: Path
) -> None:
    reports, sar_id, _ = sar_desk(kit, store, tmp_path)
    path = tmp_path / f"sar-{sar_id}.xml"
    sealed = path.read_bytes()
    path.write_bytes(sealed[:-1] + bytes([sealed[-1] ^ 1]))
    with transaction(kit.sessions) as db, pytest.raises(ProblemError) as tampered:
        reports.xml_of(reports.get(db, sar_id))
    assert tampered.value.reason_code == "AML_FILE_UNREADABLE"
    files = SealedFiles(kit.crypto.keyring)
    files.write(tmp_path / "sar-other.xml", b"<x/>")
    path.write_bytes((tmp_path / "sar-other.xml").read_bytes())
    with pytest.raises(ProblemError):
        files.read(path)


def test_sar_deleted_after_retention_then_its_batches_go_and_its_case_can_follow(
    kit: AuditKit, store: AlertStore, tmp_path: Path
) -> None:
    reports, sar_id, case_id = sar_desk(kit, store, tmp_path)
    batches = FilingBatches(kit.trail, kit.clock, tmp_path, SealedFiles(kit.crypto.keyring))
    with transaction(kit.sessions) as db:
        batch = batches.export(db, OFFICER, "SARX")
    batch_path = tmp_path / "batches" / batch.file
    assert b"QUIXOTE-MARCHETTI" not in batch_path.read_bytes().upper()
    assert schema_errors("SARX", batches.read(batch.file, "SARX")) == []
    with transaction(kit.sessions) as db:
        reports.record_filing(db, OFFICER, sar_id, "31000123456789", date(2026, 3, 20))
    retention = AmlRetention(kit.trail, tmp_path)
    # the case closed on 2026-03-12 would end in 2031; its SAR filed 2026-03-20 keeps it longer
    assert refused(kit, retention.delete_case, case_id, date(2031, 3, 15)) == (
        "AML_RETENTION_ACTIVE"
    )
    with transaction(kit.sessions) as db:
        purged = retention.purge(db, OFFICER, date(2031, 3, 21))
    assert (purged.sars, purged.cases) == ([sar_id], [case_id])
    assert not batch_path.exists()
    assert not (tmp_path / f"sar-{sar_id}.xml").exists()
