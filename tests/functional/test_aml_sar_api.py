"""SARs over HTTP: drafted from a case, generated as FinCEN XML, filed; confidential to aml:sar."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from identity_flows import Person, build_app, client_at, staff_signed_in
from lxml import etree
from sqlalchemy import Engine, select, text, update
from staff_flows import tradeguard_command

from support import registry_of
from tradeguard.aml.profiles import approved_profile
from tradeguard.aml.sealed_files import SealedFiles
from tradeguard.aml.transactions import BusinessDays
from tradeguard.aml.wiring import build_sar_clock, run_aml_jobs
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.records import Actor
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.core.ids import new_id
from tradeguard.core.secure_files import is_private
from tradeguard.db.session import transaction
from tradeguard.identity.models import User
from tradeguard.kyc.models import KycApplication
from tradeguard.notify.notifier import MemorySender

SCHEMA = (
    Path(__file__).resolve().parents[2].parent / "shared/schemas/fincen/EFL_SARXBatchSchema.xsd"
)
FILING = {"bsa_id": "31000123456789", "filed_on": "2026-03-20"}
NAME = "Zelda Quixote-Marchetti"
NARRATIVE = (
    "From March 2 to March 9, 2026 the customer deposited cash in four amounts between $9,200 "
    "and $9,900 into two accounts, $38,400 in all, and traded nothing. The amounts stay under "
    "the currency reporting threshold; the customer declared a teacher's salary of $60,000."
)


@pytest.fixture
def client(
    settings: Settings, clean_database, clock: FixedClock, mailbox: MemorySender
) -> Iterator[TestClient]:
    app = build_app(settings, clean_database.engine, clock, mailbox)
    with client_at(app) as started:
        yield started


def staff(  # noqa: PLR0913 - the app's pieces and who the staff member is
    client: TestClient, mailbox: MemorySender, clock: FixedClock, engine: Engine,
    role: str, *, level: str | None = None,
) -> Person:  # fmt: skip
    """A signed-in person of ``role`` at ``level``."""
    return staff_signed_in(client, mailbox, clock, engine, role=role, level=level,
                           username=f"{role.lower()}{level or ''}".replace("-", ""))  # fmt: skip


def case_with_alert(client: TestClient, officer: Person) -> str:
    """A case holding one structuring alert; its id."""
    registry = registry_of(client.app)  # type: ignore[arg-type]
    day = 1_772_470_800 * 10**9  # 2026-03-02 12:00 New York
    week = 7 * 86_400 * 10**9
    subject = Subject("user-9", ("acct-1", "acct-2"))
    evidence = {"total": "38400.00"}
    draft = AlertDraft("structuring", 0.9, subject, day, day + week, "aml.structuring",
                       "user-9:1", evidence, {})  # fmt: skip
    with transaction(registry.services.sessions) as db:
        alert = registry.alert_store.raise_alert(db, draft, "aml")
        assert alert is not None
    opened = client.post("/v1/compliance/cases", json={"alert_ids": [alert.id], "title": "Cash"},
                         headers=officer.headers)  # fmt: skip
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


def sar_body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "subject_name": NAME, "subject_dob": "1980-01-02", "subject_occupation": "teacher",
        "narrative": NARRATIVE, "detected_on": "2026-03-10", "amount": "38400.00",
    }  # fmt: skip
    body.update(changes)
    return body


def test_sar_flow_when_drafted_generated_and_filed_then_valid_xml_and_audited_hash(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database, settings: Settings
) -> None:
    officer = staff(client, mailbox, clock, clean_database.engine, "COMPLIANCE", level="operator")
    case_id = case_with_alert(client, officer)
    drafted = client.post(
        f"/v1/compliance/aml/cases/{case_id}/sar", json=sar_body(), headers=officer.headers
    )
    assert drafted.status_code == 201, drafted.text
    sar = drafted.json()
    assert (sar["deadline"], sar["accounts"], sar["problems"]) == (
        "2026-04-09",
        ["acct-1", "acct-2"],
        [],
    )
    assert (sar["activity_from"], sar["activity_to"]) == ("2026-03-02", "2026-03-09")
    generated = client.post(f"/v1/compliance/aml/sars/{sar['id']}/xml", headers=officer.headers)
    assert generated.status_code == 200, generated.text
    path = settings.var_dir / "aml" / f"sar-{sar['id']}.xml"
    assert is_private(path)
    assert b"<?xml" not in path.read_bytes()  # sealed at rest
    download = client.get(f"/v1/compliance/aml/sars/{sar['id']}/xml", headers=officer.headers)
    document = download.content
    assert etree.XMLSchema(etree.parse(str(SCHEMA))).validate(etree.fromstring(document))
    digest = hashlib.sha256(document).hexdigest()
    assert generated.json()["xml_sha256"] == digest
    with clean_database.engine.connect() as db:
        audited = db.scalars(
            select(AuditEventRow.record).where(AuditEventRow.event_type == "aml.sar.generated")
        ).all()
        downloads = db.scalars(
            select(AuditEventRow.record).where(AuditEventRow.event_type == "aml.sar.downloaded")
        ).all()
    assert len(audited) == 1
    assert digest.encode() in bytes(audited[0])
    assert len(downloads) == 1
    filed = client.post(f"/v1/compliance/aml/sars/{sar['id']}/filing",
                        json=FILING, headers=officer.headers)  # fmt: skip
    assert filed.status_code == 200, filed.text
    assert (filed.json()["status"], filed.json()["filing_state"]) == ("filed", "filed")
    assert filed.json()["continuing_review_due"] == "2026-06-18"


def test_sar_when_incomplete_then_generation_refused_with_the_fields(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    officer = staff(client, mailbox, clock, clean_database.engine, "COMPLIANCE", level="operator")
    case_id = case_with_alert(client, officer)
    sar = client.post(f"/v1/compliance/aml/cases/{case_id}/sar",
                      json=sar_body(narrative="Cash."), headers=officer.headers).json()  # fmt: skip
    assert [p["field"] for p in sar["problems"]] == ["narrative"]
    refused = client.post(f"/v1/compliance/aml/sars/{sar['id']}/xml", headers=officer.headers)
    assert refused.status_code == 422
    assert refused.json()["reason_code"] == "SAR_INCOMPLETE"
    assert [f["field"] for f in refused.json()["fields"]] == ["narrative"]
    early = client.post(f"/v1/compliance/aml/sars/{sar['id']}/filing",
                        json=FILING, headers=officer.headers)  # fmt: skip
    assert early.status_code == 409


def test_sar_is_confidential_to_aml_sar_and_stored_encrypted(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    officer = staff(client, mailbox, clock, clean_database.engine, "COMPLIANCE", level="operator")
    case_id = case_with_alert(client, officer)
    sar = client.post(
        f"/v1/compliance/aml/cases/{case_id}/sar", json=sar_body(), headers=officer.headers
    ).json()
    reviewer = staff(client, mailbox, clock, clean_database.engine, "COMPLIANCE", level="read-only")
    support = staff(client, mailbox, clock, clean_database.engine, "SUPPORT", level="operator")
    trader = staff(client, mailbox, clock, clean_database.engine, "TRADER")
    for outsider in (reviewer, support, trader):
        one = f"/v1/compliance/aml/sars/{sar['id']}"
        for method, path in (
            ("get", "/v1/compliance/aml/sars"),
            ("get", one),
            ("post", f"{one}/xml"),
        ):
            answer = client.request(method, path, headers=outsider.headers)
            assert answer.status_code == 403, (outsider.username, path)
            assert "subject_name" not in answer.text
    listed = client.get("/v1/compliance/aml/sars", headers=support.headers)
    assert sar["id"] not in listed.text
    with clean_database.engine.connect() as db:
        raw = db.execute(text("SELECT subject_name, narrative FROM aml_sars")).one()
        trail = b"".join(bytes(r) for r in db.scalars(select(AuditEventRow.record)))
    assert NAME.encode() not in bytes(raw[0])
    assert b"teacher's salary" not in bytes(raw[1])
    assert NAME.encode() not in trail
    assert b"teacher's salary" not in trail


def test_ctrs_of_a_day_over_http_when_compliance_reports_then_written_and_support_refused(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    registry = registry_of(client.app)  # type: ignore[arg-type]
    with transaction(registry.services.sessions) as db:
        for amount in ("7000.00", "6000.00"):
            registry.services.audit.record(
                db, "payments.deposit.settled", Actor.system("payments"), "acct-7",
                {"account": "acct-7", "amount": amount, "method": "cash"},
            )  # fmt: skip
    day = BusinessDays().of(registry.services.clock.now_ns()).isoformat()
    officer = staff(client, mailbox, clock, clean_database.engine, "COMPLIANCE", level="read-only")
    support = staff(client, mailbox, clock, clean_database.engine, "SUPPORT", level="operator")
    assert (
        client.post(
            "/v1/compliance/aml/ctrs", json={"date": day}, headers=support.headers
        ).status_code
        == 403
    )
    written = client.post("/v1/compliance/aml/ctrs", json={"date": day}, headers=officer.headers)
    assert written.status_code == 200, written.text
    assert [(c["customer"], c["cash_in"], c["cash_out"]) for c in written.json()] == [
        ("acct-7", "13000.00", "")
    ]
    bad = client.post(
        "/v1/compliance/aml/ctrs", json={"date": "yesterday"}, headers=officer.headers
    )
    assert bad.status_code == 422


def test_ctr_command_when_a_day_had_cash_over_the_threshold_then_prints_the_file_and_hash(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    registry = registry_of(client.app)  # type: ignore[arg-type]
    with transaction(registry.services.sessions) as db:
        registry.services.audit.record(
            db, "payments.withdrawal.settled", Actor.system("payments"), "acct-8",
            {"account": "acct-8", "amount": "10000.01", "method": "cash"},
        )  # fmt: skip
    day = BusinessDays().of(registry.services.clock.now_ns()).isoformat()
    run = tradeguard_command(settings, monkeypatch, capsys)
    code, output = run("aml", "ctr", "--date", day)
    assert code == 0, output
    customer, when, cash_in, cash_out, path, digest = output.strip().split(",")
    assert (customer, when, cash_in, cash_out) == ("acct-8", day, "", "10000.01")
    assert b"acct-8" not in Path(path).read_bytes()  # sealed on disk
    document = SealedFiles(registry.services.crypto.keyring).read(Path(path))
    assert hashlib.sha256(document).hexdigest() == digest


def test_sar_when_revised_generated_downloaded_and_filed_then_kept_five_years_from_filing(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database, settings: Settings
) -> None:
    officer = staff(client, mailbox, clock, clean_database.engine, "COMPLIANCE", level="operator")
    case_id = case_with_alert(client, officer)
    sar = client.post(f"/v1/compliance/aml/cases/{case_id}/sar",
                      json=sar_body(narrative="Cash."), headers=officer.headers).json()  # fmt: skip
    one = f"/v1/compliance/aml/sars/{sar['id']}"
    early = client.get(f"{one}/xml", headers=officer.headers)
    assert (early.status_code, early.json()["reason_code"]) == (409, "SAR_NOT_GENERATED")
    edits = {k: v for k, v in sar_body().items() if k != "detected_on"}
    revised = client.put(one, json=edits, headers=officer.headers)
    assert revised.status_code == 200, revised.text
    assert (revised.json()["problems"], revised.json()["subject_occupation"]) == ([], "teacher")
    client.post(f"{one}/xml", headers=officer.headers)
    downloaded = client.get(f"{one}/xml", headers=officer.headers)
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"].startswith("application/xml")
    sealed = (settings.var_dir / "aml" / f"sar-{sar['id']}.xml").read_bytes()
    assert downloaded.content.startswith(b"<?xml")
    assert b"<?xml" not in sealed
    assert b"MARCHETTI" in downloaded.content.upper()
    assert b"MARCHETTI" not in sealed.upper()
    back = client.put(one, json=edits, headers=officer.headers).json()
    assert (back["status"], back["xml_sha256"]) == ("draft", None)
    assert not (settings.var_dir / "aml" / f"sar-{sar['id']}.xml").exists()
    client.post(f"{one}/xml", headers=officer.headers)
    later = {"bsa_id": FILING["bsa_id"], "filed_on": "2027-01-05"}
    filed = client.post(f"{one}/filing", json=later, headers=officer.headers).json()
    assert filed["retain_until"] == "2032-01-05"
    refused = client.delete(one, headers=officer.headers)
    assert refused.status_code == 409
    assert refused.json()["reason_code"] == "AML_RETENTION_ACTIVE"
    assert client.get(one, headers=officer.headers).status_code == 200
    changed = client.put(one, json=edits, headers=officer.headers)
    assert changed.json()["reason_code"] == "SAR_ALREADY_FILED"


def test_sar_new_routes_when_called_without_aml_sar_then_403_and_nothing_revealed(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    officer = staff(client, mailbox, clock, clean_database.engine, "COMPLIANCE", level="operator")
    case_id = case_with_alert(client, officer)
    sar = client.post(
        f"/v1/compliance/aml/cases/{case_id}/sar", json=sar_body(), headers=officer.headers
    ).json()
    client.post(f"/v1/compliance/aml/sars/{sar['id']}/xml", headers=officer.headers)
    reviewer = staff(client, mailbox, clock, clean_database.engine, "COMPLIANCE", level="read-only")
    support = staff(client, mailbox, clock, clean_database.engine, "SUPPORT", level="operator")
    trader = staff(client, mailbox, clock, clean_database.engine, "TRADER")
    one = f"/v1/compliance/aml/sars/{sar['id']}"
    edits = {k: v for k, v in sar_body(narrative="x" * 300).items() if k != "detected_on"}
    for outsider in (reviewer, support, trader):
        for method, path, body in (
            ("get", f"{one}/xml", None),
            ("put", one, edits),
            ("delete", one, None),
            ("post", f"{one}/filing", FILING),
        ):
            answer = client.request(method, path, json=body, headers=outsider.headers)
            assert answer.status_code == 403, (outsider.username, method, path)
            assert NAME not in answer.text
    for outsider in (support, trader):
        assert client.get("/v1/compliance/aml/ctrs", headers=outsider.headers).status_code == 403
    kept = client.get(one, headers=officer.headers).json()
    assert (kept["status"], kept["narrative"]) == ("generated", NARRATIVE)


def test_ctrs_over_http_when_listed_downloaded_and_filed_then_kept_and_deletion_refused(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    registry = registry_of(client.app)  # type: ignore[arg-type]
    with transaction(registry.services.sessions) as db:
        registry.services.audit.record(
            db, "payments.deposit.settled", Actor.system("payments"), "acct-7",
            {"account": "acct-7", "amount": "15000.00", "method": "cash"},
        )  # fmt: skip
    day = BusinessDays().of(registry.services.clock.now_ns()).isoformat()
    officer = staff(client, mailbox, clock, clean_database.engine, "COMPLIANCE", level="operator")
    (written,) = client.post(
        "/v1/compliance/aml/ctrs", json={"date": day}, headers=officer.headers
    ).json()
    (listed,) = client.get(f"/v1/compliance/aml/ctrs?date={day}", headers=officer.headers).json()
    assert listed == written
    assert (listed["status"], listed["cash_in"]) == ("generated", "15000.00")
    one = f"/v1/compliance/aml/ctrs/{listed['id']}"
    downloaded = client.get(f"{one}/xml", headers=officer.headers)
    assert hashlib.sha256(downloaded.content).hexdigest() == listed["sha256"]
    filing = {"bsa_id": "31000123456789", "filed_on": day}
    filed = client.post(f"{one}/filing", json=filing, headers=officer.headers).json()
    assert (filed["status"], filed["bsa_id"]) == ("filed", "31000123456789")
    assert filed["retain_until"] == f"{int(day[:4]) + 5}{day[4:]}"
    again = client.post(f"{one}/filing", json=filing, headers=officer.headers)
    assert (again.status_code, again.json()["reason_code"]) == (409, "CTR_ALREADY_FILED")
    refused = client.delete(one, headers=officer.headers)
    assert (refused.status_code, refused.json()["reason_code"]) == (409, "AML_RETENTION_ACTIVE")
    bad = client.post(f"{one}/filing", json={"bsa_id": "12", "filed_on": day},
                      headers=officer.headers)  # fmt: skip
    assert bad.status_code == 422
    missing = client.get(f"/v1/compliance/aml/ctrs/{'0' * 8}-0000-0000-0000-{'0' * 12}/xml",
                         headers=officer.headers)  # fmt: skip
    assert missing.json()["reason_code"] == "CTR_NOT_FOUND"


def test_declared_profile_when_the_application_is_approved_then_read_decrypted_for_the_monitors(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    trader = staff(client, mailbox, clock, clean_database.engine, "TRADER")
    registry = registry_of(client.app)  # type: ignore[arg-type]
    sessions = registry.services.sessions
    with transaction(sessions) as db:
        user_id = db.scalars(select(User.id).where(User.username == trader.username)).one()
        answers = {"employment": {"occupation": "Cashier"}, "annual_income": "25k_50k",
                   "source_of_funds": "gift"}  # fmt: skip
        application = KycApplication(id=str(new_id()), user_id=user_id, status="pending_review",
                                     answers=json.dumps(answers), created_at_ns=1,
                                     updated_at_ns=1)  # fmt: skip
        db.add(application)
    assert approved_profile(sessions, user_id) is None
    with transaction(sessions) as db:
        db.execute(update(KycApplication).values(status="approved"))
    profile = approved_profile(sessions, user_id)
    assert profile is not None
    assert (profile.occupation, profile.annual_income_cents) == ("Cashier", 5_000_000)
    with clean_database.engine.connect() as db:
        raw = db.execute(text("SELECT answers FROM kyc_applications")).scalar_one()
    assert b"Cashier" not in bytes(raw)


def test_filing_batches_when_exported_then_valid_totals_audited_and_confined_to_their_permission(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    officer = staff(client, mailbox, clock, clean_database.engine, "COMPLIANCE", level="operator")
    empty = client.post("/v1/compliance/aml/sars/batch", headers=officer.headers)
    assert (empty.status_code, empty.json()["reason_code"]) == (409, "AML_NOTHING_TO_FILE")
    case_id = case_with_alert(client, officer)
    for amount in ("38400.00", "1000.00"):
        sar = client.post(f"/v1/compliance/aml/cases/{case_id}/sar",
                          json=sar_body(amount=amount), headers=officer.headers).json()  # fmt: skip
        client.post(f"/v1/compliance/aml/sars/{sar['id']}/xml", headers=officer.headers)
    batch = client.post("/v1/compliance/aml/sars/batch", headers=officer.headers).json()
    assert (len(batch["reports"]), batch["totals"]["TotalAmount"]) == (2, 39_400)
    assert batch["totals"]["ActivityCount"] == 2
    document = client.get(f"/v1/compliance/aml/sars/batches/{batch['file']}",
                          headers=officer.headers).content  # fmt: skip
    assert hashlib.sha256(document).hexdigest() == batch["sha256"]
    assert etree.XMLSchema(etree.parse(str(SCHEMA))).validate(etree.fromstring(document))
    as_ctr = client.get(f"/v1/compliance/aml/ctrs/batches/{batch['file']}", headers=officer.headers)
    assert (as_ctr.status_code, as_ctr.json()["reason_code"]) == (404, "AML_BATCH_NOT_FOUND")
    traversal = client.get("/v1/compliance/aml/sars/batches/..%2Faml.db", headers=officer.headers)
    assert traversal.status_code in {404, 422}
    reviewer = staff(client, mailbox, clock, clean_database.engine, "COMPLIANCE", level="read-only")
    for method, path in (("post", "/v1/compliance/aml/sars/batch"),
                         ("get", f"/v1/compliance/aml/sars/batches/{batch['file']}")):  # fmt: skip
        assert client.request(method, path, headers=reviewer.headers).status_code == 403
    with clean_database.engine.connect() as db:
        audited = db.scalars(
            select(AuditEventRow.record).where(AuditEventRow.event_type == "aml.sar.batch_exported")
        ).all()
    assert len(audited) == 1
    assert batch["sha256"].encode() in bytes(audited[0])
    sar_events = {"event_type": "aml.sar.*", "limit": 100}
    seen = client.get("/v1/audit/events", params=sar_events, headers=officer.headers).json()
    assert "aml.sar.batch_exported" in {event["type"] for event in seen["events"]}
    hidden = client.get("/v1/audit/events", params=sar_events, headers=reviewer.headers)
    assert (hidden.status_code, hidden.json()["events"]) == (200, [])  # a SAR's existence
    every = client.get("/v1/audit/events", params={"limit": 1000}, headers=reviewer.headers)
    assert not any(event["type"].startswith("aml.sar.") for event in every.json()["events"])
    one = seen["events"][0]["seq"]
    assert client.get(f"/v1/audit/events/{one}", headers=reviewer.headers).status_code == 404


def test_purge_command_when_nothing_has_outlived_its_retention_then_nothing_deleted(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    registry = registry_of(client.app)  # type: ignore[arg-type]
    with transaction(registry.services.sessions) as db:
        registry.services.audit.record(
            db, "payments.deposit.settled", Actor.system("payments"), "acct-9",
            {"account": "acct-9", "amount": "12000.00", "method": "cash"},
        )  # fmt: skip
    day = BusinessDays().of(registry.services.clock.now_ns()).isoformat()
    run = tradeguard_command(settings, monkeypatch, capsys)
    assert run("aml", "ctr", "--date", day)[0] == 0
    code, output = run("aml", "purge")
    assert (code, output.strip()) == (0, "0 SARs, 0 CTRs, 0 cases, 0 alerts deleted")
    assert list((settings.var_dir / "aml" / "ctr").glob("ctr-acct-9-*.xml"))


def test_sar_clock_over_http_when_due_then_reminded_overdue_reviewed_and_hidden_from_readers(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database, settings: Settings
) -> None:
    officer = staff(client, mailbox, clock, clean_database.engine, "COMPLIANCE", level="operator")
    reviewer = staff(client, mailbox, clock, clean_database.engine, "COMPLIANCE", level="read-only")
    registry = registry_of(client.app)  # type: ignore[arg-type]
    sar_clock = build_sar_clock(registry.services, registry.alert_store, registry.identity.notices)
    case_id = case_with_alert(client, officer)
    late = client.post(f"/v1/compliance/aml/cases/{case_id}/sar",
                       json=sar_body(), headers=officer.headers).json()  # fmt: skip
    soon = client.post(f"/v1/compliance/aml/cases/{case_id}/sar",
                       json=sar_body(detected_on="2026-10-24"),
                       headers=officer.headers).json()  # fmt: skip
    # the test clock stands on 2026-11-21: long after the first deadline (2026-04-09),
    # two days before the second (2026-11-23)
    done = run_aml_jobs(registry.services, sar_clock)
    assert (done.overdue, done.reminded) == ([late["id"]], [soon["id"]])
    assert run_aml_jobs(registry.services, sar_clock).overdue == []  # once
    (reminder,) = [m for m in mailbox.emails if m.kind == "aml.sar.reminder"]
    assert (reminder.to, reminder.subject) == (settings.compliance_email, "SAR due in 2 days")
    assert soon["id"] in reminder.text
    for secret in (NAME, "user-9", "acct-1", "teacher"):
        assert secret not in reminder.text
    seen = client.get("/v1/compliance/alerts", params={"source": "aml.sar"},
                      headers=officer.headers).json()  # fmt: skip
    assert [(a["typology"], a["evidence"]["sar"]) for a in seen] == [
        ("aml.sar.overdue", late["id"])
    ]
    hidden = client.get("/v1/compliance/alerts", headers=reviewer.headers).json()
    assert all(a["source"] != "aml.sar" for a in hidden)
    assert late["id"] not in json.dumps(hidden)
    one = client.get(f"/v1/compliance/alerts/{seen[0]['id']}", headers=reviewer.headers)
    assert one.status_code == 404
    hidden_alert = {"alert_ids": [seen[0]["id"]], "title": "Probe"}
    probe = client.post("/v1/compliance/cases", json=hidden_alert, headers=reviewer.headers)
    assert (probe.status_code, probe.json()["reason_code"]) == (422, "ALERT_NOT_FOUND")
    trail = client.get(
        "/v1/audit/events", params={"event_type": "aml.sar.*"}, headers=reviewer.headers
    )
    assert late["id"] not in trail.text
    client.post(f"/v1/compliance/aml/sars/{late['id']}/xml", headers=officer.headers)
    filed = client.post(f"/v1/compliance/aml/sars/{late['id']}/filing", json=FILING,
                        headers=officer.headers).json()  # fmt: skip
    early = client.post(f"/v1/compliance/aml/sars/{late['id']}/continuing-review",
                        json={"outcome": "sideways"}, headers=officer.headers)  # fmt: skip
    assert early.status_code == 422
    assert run_aml_jobs(registry.services, sar_clock).reviews == [late["id"]]  # due 2026-06-18
    review = client.get("/v1/compliance/alerts", params={"typology": "aml.sar.continuing_review"},
                        headers=officer.headers).json()  # fmt: skip
    assert [a["evidence"]["review_due"] for a in review] == [filed["continuing_review_due"]]
    reviewing = f"/v1/compliance/aml/sars/{late['id']}/continuing-review"
    refused = client.post(reviewing, json={"outcome": "file_continuing"}, headers=reviewer.headers)
    assert refused.status_code == 403
    continuing = client.post(reviewing, json={"outcome": "file_continuing"},
                             headers=officer.headers)  # fmt: skip
    assert continuing.status_code == 200, continuing.text
    new = continuing.json()
    assert (new["prior_sar_id"], new["status"]) == (late["id"], "draft")
    deadline = date.fromisoformat(new["detected_on"]) + timedelta(days=30)
    assert new["deadline"] == deadline.isoformat()
    assert [p["field"] for p in new["problems"]] == ["narrative"]
    assert all(
        m.to == settings.compliance_email for m in mailbox.emails if m.kind.startswith("aml")
    )
