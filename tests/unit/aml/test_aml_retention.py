"""Five-year retention of CTRs: stored with the row, deletion refused before it, the purge after."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_aml_ctr_service import cash, ctr_reports

from tradeguard.aml.ctr_service import CtrReports
from tradeguard.aml.models import CtrRow
from tradeguard.aml.retention import AmlRetention, retained_until
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.records import Actor
from tradeguard.core.errors import ProblemError
from tradeguard.db.session import transaction
from unit.audit.audit_kit import AuditKit

CLI = Actor.system("cli")
DAY = date(2026, 3, 2)


def written_ctr(kit: AuditKit, tmp_path: Path) -> tuple[CtrReports, str]:
    """One CTR written on 2026-03-10 for cash on 2026-03-02; the reports and its id."""
    cash(kit, datetime(2026, 3, 2, 15, tzinfo=UTC), "deposit", "acct-1", "12000.00")
    kit.clock.set(datetime(2026, 3, 10, 15, tzinfo=UTC))
    reports = ctr_reports(kit, tmp_path)
    with transaction(kit.sessions) as db:
        reports.generate(db, CLI, DAY)
        (row,) = reports.listed(db, DAY, 10)
        return reports, row.id


def events(kit: AuditKit, event_type: str) -> int:
    with kit.sessions() as db:
        query = select(func.count()).where(AuditEventRow.event_type == event_type)
        return int(db.scalar(query) or 0)


def test_retained_until_is_five_years_and_a_leap_day_ends_on_the_first_of_march() -> None:
    assert retained_until(date(2026, 3, 20)) == date(2031, 3, 20)
    assert retained_until(date(2028, 2, 29)) == date(2033, 3, 1)


def test_ctr_when_written_then_kept_five_years_from_the_report_then_from_its_filing(
    kit: AuditKit, tmp_path: Path
) -> None:
    reports, ctr_id = written_ctr(kit, tmp_path)
    with transaction(kit.sessions) as db:
        row = reports.get(db, ctr_id)
        assert (row.status, row.due, row.retain_until) == ("generated", "2026-03-17", "2031-03-10")
        reports.record_filing(db, CLI, ctr_id, "31000123456789", date(2026, 3, 12))
    with transaction(kit.sessions) as db:
        row = reports.get(db, ctr_id)
        assert (row.status, row.bsa_id, row.retain_until) == (
            "filed",
            "31000123456789",
            "2031-03-12",
        )
        with pytest.raises(ProblemError) as twice:
            reports.record_filing(db, CLI, ctr_id, "31000123456780", date(2026, 3, 13))
    assert twice.value.reason_code == "CTR_ALREADY_FILED"


def test_ctr_when_its_day_is_written_again_after_filing_then_the_filed_one_stays(
    kit: AuditKit, tmp_path: Path
) -> None:
    reports, ctr_id = written_ctr(kit, tmp_path)
    with transaction(kit.sessions) as db:
        reports.record_filing(db, CLI, ctr_id, "31000123456789", date(2026, 3, 12))
    with transaction(kit.sessions) as db:
        assert reports.generate(db, CLI, DAY) == []
        (row,) = reports.listed(db, DAY, 10)
    assert (row.id, row.status) == (ctr_id, "filed")


def test_ctr_deletion_when_within_five_years_then_refused_and_kept(
    kit: AuditKit, tmp_path: Path
) -> None:
    reports, ctr_id = written_ctr(kit, tmp_path)
    retention = AmlRetention(kit.trail, tmp_path)
    with transaction(kit.sessions) as db, pytest.raises(ProblemError) as refused:
        retention.delete_ctr(db, CLI, reports.get(db, ctr_id), date(2031, 3, 10))
    assert refused.value.reason_code == "AML_RETENTION_ACTIVE"
    assert refused.value.status == 409
    with kit.sessions() as db:
        assert db.get(CtrRow, ctr_id) is not None
    assert events(kit, "aml.ctr.deleted") == 0


def test_purge_when_retention_ended_then_row_and_file_deleted_and_audited(
    kit: AuditKit, tmp_path: Path
) -> None:
    reports, ctr_id = written_ctr(kit, tmp_path)
    retention = AmlRetention(kit.trail, tmp_path)
    with transaction(kit.sessions) as db:
        file = tmp_path / "ctr" / reports.get(db, ctr_id).file
        assert retention.purge(db, CLI, date(2031, 3, 10)).ctrs == []
    assert file.is_file()
    with transaction(kit.sessions) as db:
        assert retention.purge(db, CLI, date(2031, 3, 11)).ctrs == [ctr_id]
    with kit.sessions() as db:
        assert db.get(CtrRow, ctr_id) is None
    assert not file.exists()
    assert events(kit, "aml.ctr.deleted") == 1
