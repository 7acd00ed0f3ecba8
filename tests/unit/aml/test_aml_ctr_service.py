"""CTRs of a business day from the trail's settled cash: totals, valid files, audited hashes."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

from aml_kit import FILER, schema_errors
from lxml import etree
from sqlalchemy import select, text

from tradeguard.aml.batches import FilingBatches
from tradeguard.aml.ctr_service import CtrReports
from tradeguard.aml.sealed_files import SealedFiles
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.records import Actor
from tradeguard.audit.search import AuditEvent
from tradeguard.cases.models import AlertRow
from tradeguard.cases.store import AlertStore
from tradeguard.core.secure_files import is_private
from tradeguard.db.session import transaction
from tradeguard.identity.models import User
from tradeguard.kyc.models import KycApplication
from unit.audit.audit_kit import AuditKit

PAYMENTS = Actor.system("payments")


def at(kit: AuditKit, when: datetime, event_type: str, subject: str, data: dict[str, str]) -> None:
    """Record one event at ``when``."""
    kit.clock.set(when)
    with transaction(kit.sessions) as db:
        kit.trail.record(db, event_type, PAYMENTS, subject, data)


def cash(  # noqa: PLR0913, PLR0917 - one settled movement, field by field
    kit: AuditKit, when: datetime, kind: str, account: str, amount: str, method: str = "cash"
) -> None:
    """A settled cash deposit or withdrawal."""
    at(kit, when, f"payments.{kind}.settled", account,
       {"account": account, "amount": amount, "method": method})  # fmt: skip


def approved_customer(kit: AuditKit, user_id: str, account: str, tax_id: str) -> None:
    """A customer whose application, with the identity it verified, was approved."""
    answers = {
        "legal_name": {"given": "Maria", "middle": "Luisa", "family": "de la Cruz"},
        "date_of_birth": "1980-02-29",
        "residential_address": {"street": "12 MAIN ST", "unit": "APT 4", "city": "SPRINGFIELD",
                                "state": "IL", "zip": "62701-1234"},
        "employment": {"status": "employed", "occupation": "Nurse"},
    }  # fmt: skip
    with transaction(kit.sessions) as db:
        db.add(User(id=user_id, username=user_id, email=f"{user_id}@example.com",
                    password_hash="x", password_changed_at_ns=0, role="TRADER",
                    status="active", created_at_ns=0))  # fmt: skip
        db.flush()
        db.add(KycApplication(id=f"app-{user_id}", user_id=user_id, status="approved",
                              answers=json.dumps(answers), tax_id=tax_id, created_at_ns=0,
                              updated_at_ns=0))  # fmt: skip
    at(kit, datetime(2026, 3, 1, tzinfo=UTC), "account.opened", account, {"user_id": user_id})


def subject_party(document: bytes) -> etree._Element:
    """The CTR's person (party type 50), with FinCEN's namespace taken off the tags."""
    root = etree.fromstring(document)
    for element in root.iter():
        element.tag = etree.QName(element).localname
    return next(p for p in root.iter("Party") if p.findtext("ActivityPartyTypeCode") == "50")


def ctr_reports(kit: AuditKit, out_dir: Path, alerts: AlertStore | None = None) -> CtrReports:
    """CTR reports writing sealed files under ``out_dir``."""
    return CtrReports(kit.trail, kit.clock, FILER, out_dir, SealedFiles(kit.crypto.keyring), alerts)


def test_ctr_day_when_cash_over_accounts_then_one_ctr_per_customer_valid_and_audited(
    kit: AuditKit, tmp_path: Path
) -> None:
    at(kit, datetime(2026, 3, 1, tzinfo=UTC), "account.opened", "acct-1", {"user_id": "user-9"})
    at(kit, datetime(2026, 3, 1, 1, tzinfo=UTC), "account.opened", "acct-2", {"user_id": "user-9"})
    cash(kit, datetime(2026, 3, 2, 15, tzinfo=UTC), "deposit", "acct-1", "6000.00")
    cash(
        kit, datetime(2026, 3, 3, 4, tzinfo=UTC), "deposit", "acct-2", "4000.01"
    )  # 23:00 in New York
    cash(
        kit, datetime(2026, 3, 3, 6, tzinfo=UTC), "deposit", "acct-2", "9000.00"
    )  # the next day there
    cash(kit, datetime(2026, 3, 2, 16, tzinfo=UTC), "withdrawal", "acct-3", "10000.00")
    cash(kit, datetime(2026, 3, 2, 17, tzinfo=UTC), "deposit", "acct-3", "50000.00", "wire")
    reports = ctr_reports(kit, tmp_path)
    with transaction(kit.sessions) as db:
        (ctr,) = reports.generate(db, Actor.system("cli"), date(2026, 3, 2))
        (row,) = reports.listed(db, date(2026, 3, 2), 10)
    assert (ctr.customer, ctr.cash_in, ctr.cash_out, ctr.due) == (
        "user-9",
        "10000.01",
        "",
        date(2026, 3, 17),
    )
    document = reports.xml_of(row)
    assert is_private(ctr.file)
    on_disk = ctr.file.read_bytes()
    for clear in (b"acct-1", b"acct-2", b">10001<", b"EFilingBatchXML"):
        assert clear in document
        assert clear not in on_disk  # sealed: neither the accounts, the cash nor the XML
    assert schema_errors("CTRX", document) == []
    assert ctr.sha256 == hashlib.sha256(document).hexdigest()
    with kit.sessions() as db:
        (record,) = db.scalars(
            select(AuditEventRow.record).where(AuditEventRow.event_type == "aml.ctr.generated")
        )
    assert AuditEvent.from_record(bytes(record)).data["sha256"] == ctr.sha256


def test_ctr_day_when_no_cash_over_the_threshold_then_nothing_written(
    kit: AuditKit, tmp_path: Path
) -> None:
    cash(kit, datetime(2026, 3, 2, 15, tzinfo=UTC), "deposit", "acct-1", "10000.00")
    with transaction(kit.sessions) as db:
        assert ctr_reports(kit, tmp_path).generate(db, Actor.system("cli"), date(2026, 3, 2)) == []
    assert not (tmp_path / "ctr").exists()


def test_ctr_day_when_a_cash_event_is_unreadable_then_operations_alert_not_silence(
    kit: AuditKit, tmp_path: Path
) -> None:
    cash(kit, datetime(2026, 3, 2, 15, tzinfo=UTC), "deposit", "acct-1", "12000.00")
    cash(kit, datetime(2026, 3, 2, 16, tzinfo=UTC), "deposit", "acct-1", "9,000.00")
    store = AlertStore(kit.trail, kit.clock)
    reports = ctr_reports(kit, tmp_path, store)
    for _ in range(2):
        with transaction(kit.sessions) as db:
            (ctr,) = reports.generate(db, Actor.system("cli"), date(2026, 3, 2))
    assert ctr.cash_in == "12000.00"
    with kit.sessions() as db:
        (alert,) = db.scalars(select(AlertRow)).all()
    assert (alert.typology, alert.source, alert.status) == ("aml.event_unreadable", "aml", "open")
    assert "9,000.00" not in alert.evidence


def test_ctr_files_when_written_in_clear_before_then_sealed_only_if_their_hash_holds(
    kit: AuditKit, tmp_path: Path
) -> None:
    cash(kit, datetime(2026, 3, 2, 15, tzinfo=UTC), "deposit", "acct-1", "12000.00")
    cash(kit, datetime(2026, 3, 2, 16, tzinfo=UTC), "deposit", "acct-2", "11000.00")
    at(kit, datetime(2026, 3, 1, tzinfo=UTC), "account.opened", "acct-2", {"user_id": "user-2"})
    reports = ctr_reports(kit, tmp_path)
    with transaction(kit.sessions) as db:
        first, second = reports.generate(db, Actor.system("cli"), date(2026, 3, 2))
        rows = {row.file: row for row in reports.listed(db, date(2026, 3, 2), 10)}
    documents = {ctr.file: reports.xml_of(rows[ctr.file.name]) for ctr in (first, second)}
    first.file.write_bytes(documents[first.file])  # as written before files were sealed
    second.file.write_bytes(documents[second.file].replace(b"11000", b"1100"))  # altered
    with transaction(kit.sessions) as db:
        assert reports.seal_clear_files(db, Actor.system("cli")) == [first.file.name]
        assert reports.seal_clear_files(db, Actor.system("cli")) == []  # once
    assert b"acct-1" not in first.file.read_bytes()
    assert reports.xml_of(rows[first.file.name]) == documents[first.file]
    assert b"acct-2" in second.file.read_bytes()  # not the audited document: left alone


def test_ctr_batches_when_exported_in_clear_before_then_sealed_only_if_their_hash_holds(
    kit: AuditKit, tmp_path: Path
) -> None:
    cash(kit, datetime(2026, 3, 2, 15, tzinfo=UTC), "deposit", "acct-1", "12000.00")
    batches = FilingBatches(kit.trail, kit.clock, tmp_path, SealedFiles(kit.crypto.keyring))
    with transaction(kit.sessions) as db:
        ctr_reports(kit, tmp_path).generate(db, PAYMENTS, date(2026, 3, 2))
        first = batches.export(db, PAYMENTS, "CTRX")
    kit.clock.advance(seconds=1)
    with transaction(kit.sessions) as db:
        second = batches.export(db, PAYMENTS, "CTRX")
    clear = {batch.file: batches.read(batch.file, "CTRX") for batch in (first, second)}
    first_file, second_file = (tmp_path / "batches" / b.file for b in (first, second))
    first_file.write_bytes(clear[first.file])  # as exported before batches were sealed
    second_file.write_bytes(clear[second.file].replace(b"12000", b"1200"))  # altered
    with transaction(kit.sessions) as db:
        assert batches.seal_clear_ctr_batches(db, PAYMENTS) == [first.file]
        assert batches.seal_clear_ctr_batches(db, PAYMENTS) == []  # once
    assert b"acct-1" not in first_file.read_bytes()
    assert batches.read(first.file, "CTRX") == clear[first.file]
    assert b"acct-1" in second_file.read_bytes()  # not the audited document: left alone
    with kit.sessions() as db:
        (record,) = db.scalars(
            select(AuditEventRow.record).where(AuditEventRow.event_type == "aml.batch.sealed")
        )
    sealed = AuditEvent.from_record(bytes(record)).data
    assert sealed == {"file": first.file, "sha256": first.sha256}


def test_ctr_when_the_customer_was_verified_then_names_them_and_only_unknown_otherwise(
    kit: AuditKit, tmp_path: Path
) -> None:
    approved_customer(kit, "user-1", "acct-1", "123-45-6789")
    at(kit, datetime(2026, 3, 1, tzinfo=UTC), "account.opened", "acct-2", {"user_id": "user-2"})
    cash(kit, datetime(2026, 3, 2, 15, tzinfo=UTC), "deposit", "acct-1", "10500.00")
    cash(kit, datetime(2026, 3, 2, 15, tzinfo=UTC), "deposit", "acct-2", "10500.00")
    reports = ctr_reports(kit, tmp_path)
    with transaction(kit.sessions) as db:
        generated = {ctr.customer: ctr for ctr in reports.generate(db, PAYMENTS, date(2026, 3, 2))}
        rows = {row.customer: row for row in reports.listed(db, date(2026, 3, 2), 10)}
    verified, unknown = (reports.xml_of(rows[user]) for user in ("user-1", "user-2"))
    assert schema_errors("CTRX", verified) == []
    assert schema_errors("CTRX", unknown) == []
    person = subject_party(verified)
    assert [person.findtext(f"PartyName/{part}") for part in (
        "RawEntityIndividualLastName", "RawIndividualFirstName", "RawIndividualMiddleName"
    )] == ["de la Cruz", "Maria", "Luisa"]  # fmt: skip
    assert person.findtext("IndividualBirthDateText") == "19800229"
    assert [person.findtext(f"Address/{part}") for part in (
        "RawStreetAddress1Text", "RawCityText", "RawStateCodeText", "RawZIPCode",
        "RawCountryCodeText",
    )] == ["12 MAIN ST APT 4", "SPRINGFIELD", "IL", "627011234", "US"]  # fmt: skip
    assert person.findtext("PartyIdentification/PartyIdentificationNumberText") == "123456789"
    assert person.findtext("PartyIdentification/PartyIdentificationTypeCode") == "1"
    for indicator in ("TINUnknownIndicator", "StreetAddressUnknownIndicator",
                      "BirthDateUnknownIndicator", "FirstNameUnknownIndicator"):  # fmt: skip
        assert person.find(f".//{indicator}") is None
        assert subject_party(unknown).find(f".//{indicator}") is not None
    on_disk = generated["user-1"].file.read_bytes()
    for clear in (b"123456789", b"123-45-6789", b"de la Cruz", b"SPRINGFIELD"):
        assert clear not in on_disk
    with kit.engine.connect() as db:
        stored = db.execute(text("SELECT tax_id, answers FROM kyc_applications")).one()
    assert all(b"6789" not in bytes(value) for value in stored)
