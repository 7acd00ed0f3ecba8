"""Sanctions screening in onboarding: clear applicants approved at once, potential matches
reviewed with their reasons, false positives remembered, customers rescreened on a load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from functional.identity_flows import (
    Person,
    audit_event_types,
    signed_up_with_totp,
)
from functional.kyc_flows import (
    QUEUE,
    decide,
    load_changed_sdn,
    load_sample_lists,
    reviewer_named,
    submitted,
)
from functional.staff_flows import tradeguard_command
from functional.trading_flows import add_instrument
from support import TestDatabase
from tradeguard.access.caller import Caller
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountStatus
from tradeguard.trading.controls.restrictions import ACH_RETURN
from unit.screening.screening_kit import copy_sample

COMPLIANCE = "compliance@tradeguard.localhost"
MADURO = {
    "legal_name": {"given": "Nicolas", "family": "Maduro Moros"},
    "date_of_birth": "1962-11-23",
    "citizenship": "VEN",
}


@pytest.fixture
def ann(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    return signed_up_with_totp(client, mailbox, clock, Person("ann", "ann@example.com"))


@pytest.fixture
def reviewer(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database: TestDatabase
) -> Person:
    return reviewer_named(client, mailbox, clock, clean_database.engine, "rita")


@pytest.fixture
def application(app: FastAPI, client: TestClient, ann: Person) -> dict[str, Any]:
    """Ann's application, submitted with the sample lists loaded: approved, no list names her."""
    load_sample_lists(app)
    return submitted(client, ann)


def sanctions_alerts(database: TestDatabase) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    """Typology, status, case and evidence of each onboarding alert, oldest first."""
    query = text(
        "SELECT typology, status, case_id, evidence FROM alerts "
        "WHERE source = 'kyc.screening' ORDER BY created_at_ns, id"
    )
    with database.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [(row[0], row[1], row[2], json.loads(row[3])) for row in rows]


def account_status(database: TestDatabase) -> list[str]:
    with database.engine.connect() as connection:
        return list(connection.execute(text("SELECT status FROM trading_accounts")).scalars())


def application_account(database: TestDatabase) -> str:
    with database.engine.connect() as connection:
        return str(connection.execute(text("SELECT id FROM trading_accounts")).scalar_one())


def test_a_clear_low_risk_applicant_when_submitted_then_approved_and_the_account_opens(
    application: dict[str, Any], clean_database: TestDatabase
) -> None:
    assert application["status"] == "approved"
    assert application["account_id"]
    assert account_status(clean_database) == ["active"]
    events = audit_event_types(clean_database.engine)
    assert events.index("kyc.application.checked") < events.index("account.opened")
    assert "kyc.application.approved" in events


def test_no_list_loaded_when_submitted_then_reviewed_and_approval_is_refused(
    client: TestClient, ann: Person, reviewer: Person
) -> None:
    application = submitted(client, ann)
    assert application["status"] == "pending_review"
    detail = client.get(f"{QUEUE}/{application['id']}", headers=reviewer.headers).json()
    assert detail["screening"]["status"] == "SCREENING_NO_LIST_LOADED"
    refused = decide(client, reviewer, application["id"], "approve")
    assert refused.status_code == 409
    assert refused.json()["reason_code"] == "KYC_SCREENING_UNRESOLVED"


def test_a_sanctioned_applicant_when_submitted_then_reviewed_with_the_reasons_and_rejected(  # noqa: PLR0913, PLR0917 - fixtures
    app: FastAPI,
    client: TestClient,
    ann: Person,
    reviewer: Person,
    clean_database: TestDatabase,
    mailbox: MemorySender,
) -> None:
    load_sample_lists(app)
    application = submitted(client, ann, **MADURO)
    assert application["status"] == "pending_review"
    detail = client.get(f"{QUEUE}/{application['id']}", headers=reviewer.headers).json()
    found = detail["screening"]["decision"]
    assert found["match"] is True
    assert found["ent_num"] == "22151"
    assert found["reasons"]
    assert "sanctions" in [check["check"] for check in detail["checks"] if not check["passed"]]
    assert decide(client, reviewer, application["id"], "approve").status_code == 409

    rejected = decide(
        client, reviewer, application["id"], "reject", reason_code="KYC_SANCTIONS_MATCH"
    )
    assert rejected.json()["status"] == "rejected"
    assert account_status(clean_database) == []
    told = mailbox.last_email(to=COMPLIANCE, kind="kyc.sanctions_confirmed")
    assert application["id"] in told.text
    assert "22151" in told.text
    assert "maduro" not in told.text.lower()
    [(typology, status, case_id, evidence)] = sanctions_alerts(clean_database)
    assert (typology, status) == ("sanctions.match_confirmed", "in_case")
    assert case_id is not None
    assert case_id in told.text
    assert evidence["ent_num"] == "22151"
    assert evidence["list_name"] == "ofac-sdn"
    assert evidence["list_version"]
    assert evidence["matched_fields"][:2] == ["name", "date_of_birth"]
    assert evidence["reasons"] == found["reasons"]
    assert "case.opened" in audit_event_types(clean_database.engine)


def test_a_false_positive_when_cleared_then_remembered_at_the_next_rescreen(
    app: FastAPI,
    client: TestClient,
    ann: Person,
    reviewer: Person,
    clean_database: TestDatabase,
) -> None:
    load_sample_lists(app)
    namesake = MADURO | {"citizenship": "USA"}  # a low-risk namesake: one reviewer approves
    application = submitted(client, ann, **namesake)
    cleared = decide(client, reviewer, application["id"], "clear-screening")
    assert cleared.status_code == 200, cleared.text
    approved = decide(client, reviewer, application["id"], "approve")
    assert approved.json()["status"] == "approved", approved.text

    load_sample_lists(app)  # a new version of the same list: everyone is rescreened
    after = client.get(f"{QUEUE}/{application['id']}", headers=reviewer.headers).json()
    assert after["status"] == "approved"
    assert account_status(clean_database) == ["active"]
    assert "kyc.screening.hit" not in audit_event_types(clean_database.engine)
    assert sanctions_alerts(clean_database) == []


def test_a_cleared_match_when_its_entry_changes_then_reviewed_again(  # noqa: PLR0913, PLR0917 - fixtures
    app: FastAPI,
    client: TestClient,
    ann: Person,
    reviewer: Person,
    clean_database: TestDatabase,
    tmp_path: Path,
) -> None:
    load_sample_lists(app)
    application = submitted(client, ann, **(MADURO | {"citizenship": "USA"}))
    assert decide(client, reviewer, application["id"], "clear-screening").status_code == 200
    assert decide(client, reviewer, application["id"], "approve").status_code == 200
    load_changed_sdn(
        app,
        tmp_path / "lists",
        lambda sdn: sdn.replace(b"POB Caracas, Venezuela;", b"POB Caracas;"),
    )

    after = client.get(f"{QUEUE}/{application['id']}", headers=reviewer.headers).json()
    assert after["status"] == "screening_review"
    assert [typology for typology, *_ in sanctions_alerts(clean_database)] == [
        "sanctions.rescreen_hit"
    ]


def test_a_customer_when_a_new_list_names_them_then_back_in_review_and_confirming_suspends(  # noqa: PLR0913, PLR0917 - fixtures
    app: FastAPI,
    client: TestClient,
    reviewer: Person,
    application: dict[str, Any],
    clean_database: TestDatabase,
    tmp_path: Path,
) -> None:
    assert application["status"] == "approved"
    add_ann_lee_to_the_sdn(app, tmp_path / "lists")

    queue = client.get(QUEUE, headers=reviewer.headers).json()
    assert [(item["id"], item["status"]) for item in queue] == [
        (application["id"], "screening_review")
    ]
    assert "kyc.screening.hit" in audit_event_types(clean_database.engine)
    assert account_status(clean_database) == ["restricted"]  # held while a reviewer decides
    [(typology, status, _, evidence)] = sanctions_alerts(clean_database)
    assert (typology, status) == ("sanctions.rescreen_hit", "open")
    assert (evidence["ent_num"], evidence["application_id"]) == ("99001", application["id"])
    confirmed = decide(
        client, reviewer, application["id"], "reject", reason_code="KYC_SANCTIONS_MATCH"
    )
    assert confirmed.status_code == 200, confirmed.text
    assert account_status(clean_database) == ["suspended"]
    alerts = sanctions_alerts(clean_database)
    assert [(typology, status) for typology, status, _, _ in alerts] == [
        ("sanctions.rescreen_hit", "in_case"),
        ("sanctions.match_confirmed", "in_case"),
    ]
    assert len({case_id for _, _, case_id, _ in alerts}) == 1


def with_ann_lee(sdn: bytes) -> bytes:
    """The SDN file with a new entry that names Ann Lee (born 3 February 1990, a US national)."""
    return (
        sdn.rstrip(b"\x1a")  # OFAC's files end with a SUB byte
        + b'99001,"LEE, Ann Marie","individual","SDGT","-0- ","-0- ","-0- ",'
        b'"-0- ","-0- ","-0- ","-0- ","DOB 03 Feb 1990; nationality United States."\r\n\x1a'
    )


def add_ann_lee_to_the_sdn(app: FastAPI, directory: Path) -> None:
    """Load the SDN list with Ann Lee on it as its new version."""
    load_changed_sdn(app, directory, with_ann_lee)


def test_a_held_customer_when_the_match_is_cleared_then_the_account_is_active_again(  # noqa: PLR0913, PLR0917 - fixtures
    app: FastAPI,
    client: TestClient,
    ann: Person,
    reviewer: Person,
    application: dict[str, Any],
    clean_database: TestDatabase,
    tmp_path: Path,
) -> None:
    add_ann_lee_to_the_sdn(app, tmp_path / "lists")
    assert account_status(clean_database) == ["restricted"]
    add_instrument(app, "AAPL", "1.00")
    bought = client.post(
        "/v1/orders",
        headers=ann.headers,
        json={"client_order_id": "held-1", "symbol": "AAPL", "side": "buy", "type": "limit",
              "quantity": 1, "limit_price": "1.00", "time_in_force": "day"},
    )  # fmt: skip
    assert bought.json().get("reason_code") == "RISK_ACCOUNT_RESTRICTED", bought.text

    cleared = decide(client, reviewer, application["id"], "clear-screening")
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["status"] == "approved"
    assert account_status(clean_database) == ["active"]


def test_a_suspended_customer_when_a_rescreen_hit_is_cleared_then_still_suspended(  # noqa: PLR0913, PLR0917 - fixtures
    app: FastAPI,
    client: TestClient,
    reviewer: Person,
    application: dict[str, Any],
    clean_database: TestDatabase,
    tmp_path: Path,
) -> None:
    app.state.registry.trading_controls.change_standing(
        Caller.automatic("operations"),
        application_account(clean_database),
        "suspended for another reason",
        status=AccountStatus.SUSPENDED,
    )
    add_ann_lee_to_the_sdn(app, tmp_path / "lists")
    assert account_status(clean_database) == ["suspended"]  # a hold never loosens
    assert decide(client, reviewer, application["id"], "clear-screening").status_code == 200
    assert account_status(clean_database) == ["suspended"]


def restrictions(database: TestDatabase) -> list[tuple[str, str]]:
    with database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT holder, reason FROM account_restrictions ORDER BY holder")
        )
        return [(str(holder), str(reason)) for holder, reason in rows]


def test_a_held_customer_when_restricted_for_another_reason_too_then_clearing_lifts_only_its_own(  # noqa: PLR0913, PLR0917 - fixtures
    app: FastAPI,
    client: TestClient,
    reviewer: Person,
    application: dict[str, Any],
    clean_database: TestDatabase,
    tmp_path: Path,
) -> None:
    controls, account = app.state.registry.trading_controls, application_account(clean_database)
    controls.change_standing(
        Caller.automatic("risk"), account, "staff review", status=AccountStatus.RESTRICTED
    )
    add_ann_lee_to_the_sdn(app, tmp_path / "lists")  # the hold joins the staff restriction
    controls.change_standing(
        Caller.automatic("payments"), account, "ACH return R01",
        status=AccountStatus.RESTRICTED, restriction=ACH_RETURN,
    )  # fmt: skip
    assert [holder for holder, _ in restrictions(clean_database)] == [
        "ach_return", "sanctions", "staff",
    ]  # fmt: skip

    assert decide(client, reviewer, application["id"], "clear-screening").status_code == 200
    assert account_status(clean_database) == ["restricted"]  # the others still stand
    with app.state.registry.services.sessions() as db:
        assert controls.standing(db, account).restrictions == ("ach_return", "staff")
    assert restrictions(clean_database) == [
        ("ach_return", "ACH return R01"), ("staff", "staff review"),
    ]  # fmt: skip
    lifted = controls.change_standing(
        Caller.automatic("payments"), account, "ACH return resolved",
        status=AccountStatus.ACTIVE, restriction=ACH_RETURN,
    )  # fmt: skip
    assert (lifted.after, lifted.context["restrictions"]) == (lifted.before, "staff")
    assert account_status(clean_database) == ["restricted"]
    controls.change_standing(
        Caller.automatic("risk"), account, "review done", status=AccountStatus.ACTIVE
    )
    assert (account_status(clean_database), restrictions(clean_database)) == (["active"], [])


def test_a_list_loaded_from_the_command_line_when_it_names_a_customer_then_held_for_review(  # noqa: PLR0913, PLR0917 - fixtures
    application: dict[str, Any],
    clean_database: TestDatabase,
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lists = copy_sample(tmp_path / "lists")
    (lists / "sdn.csv").write_bytes(with_ann_lee((lists / "sdn.csv").read_bytes()))
    tradeguard = tradeguard_command(settings, monkeypatch, capsys)

    code, output = tradeguard("sanctions", "load", str(lists), "--list", "ofac-sdn")
    assert code == 0, output
    hit = f"  application {application['id']}: ofac-sdn entry 99001 'LEE, Ann Marie', score "
    assert "rescreened 1 customers: 1 potential matches\n" + hit in output
    assert account_status(clean_database) == ["restricted"]  # held while a reviewer decides
    [(typology, status, _, _)] = sanctions_alerts(clean_database)
    assert (typology, status) == ("sanctions.rescreen_hit", "open")

    code, output = tradeguard("sanctions", "rescreen")
    assert code == 0, output
    assert "rescreened 1 customers: 1 potential matches\n" + hit in output
    assert len(sanctions_alerts(clean_database)) == 1  # the same hit: no second alert
