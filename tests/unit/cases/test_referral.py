"""Referral packages verify offline; tampering with any part of one is detected."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tradeguard.audit.records import Actor
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.referral import build_referral, verify_referral
from tradeguard.cases.service import Cases, Decision
from tradeguard.cases.store import AlertStore
from tradeguard.crypto.signing import SigningPurpose
from tradeguard.db.session import transaction
from unit.audit.audit_kit import TRADER, AuditKit

OFFICER = Actor("staff", "officer-1")


@pytest.fixture
def package(kit: AuditKit, store: AlertStore) -> dict[str, object]:
    cases = Cases(kit.trail, kit.clock)
    with transaction(kit.sessions) as db:
        kit.trail.record(db, "order.placed", TRADER, "order-9", {"account": "a", "symbol": "ACME"})
        kit.trail.record(
            db, "order.placed", TRADER, "order-other", {"account": "b", "symbol": "ACME"}
        )
        draft = AlertDraft(
            "spoofing",
            0.9,
            Subject(accounts=("a",), symbol="ACME"),
            1,
            2,
            "r",
            "e",
            {"cycles": [{"genuine_order": "order-9", "ratio": 12.5}]},
        )
        alert = store.raise_alert(db, draft, "surveillance")
        assert alert is not None
        case = cases.open_case(db, OFFICER, [alert.id], "ACME spoofing")
        cases.decide(db, OFFICER, case.id, Decision.ESCALATE, "refer it")
    with transaction(kit.sessions) as db:
        return build_referral(db, kit.trail, cases, case.id, OFFICER)


def audit_key(kit: AuditKit) -> bytes:
    with kit.sessions() as db:
        return kit.trail.signing.active(db, SigningPurpose.AUDIT).public_key.public_bytes


def test_referral_when_untouched_then_verifies_and_holds_the_events_it_rests_on(
    kit: AuditKit, package: dict[str, object]
) -> None:
    assert verify_referral(package, audit_key(kit)) == []
    body = json.loads(str(package["body"]))
    types = [json.loads(base64.b64decode(e["record"]))["type"] for e in body["events"]]
    subjects = [json.loads(base64.b64decode(e["record"]))["subject"] for e in body["events"]]
    assert "order-9" in subjects
    assert "order-other" not in subjects
    assert {"alert.raised", "case.opened", "case.decided", "case.referral.exported"} <= set(types)
    assert body["alerts"][0]["evidence"]["cycles"][0]["ratio"] == 12.5


def test_referral_when_evidence_is_edited_then_signature_fails(package: dict[str, object]) -> None:
    forged = dict(package, body=str(package["body"]).replace("12.5", "1.5"))
    assert verify_referral(forged) == ["the package's signature does not verify"]


def test_referral_when_resigned_with_another_key_then_refused_against_the_audit_key(
    kit: AuditKit, package: dict[str, object]
) -> None:
    attacker = Ed25519PrivateKey.generate()
    body = json.loads(str(package["body"]))
    record = json.loads(base64.b64decode(body["events"][0]["record"]))
    record["data"]["account"] = "someone-else"
    body["events"][0]["record"] = base64.b64encode(json.dumps(record).encode()).decode()
    text = json.dumps(body)
    forged = {
        "body": text,
        "key_id": "x",
        "public_key": base64.b64encode(
            attacker.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        ).decode(),
        "signature": base64.b64encode(attacker.sign(text.encode())).decode(),
    }
    assert verify_referral(forged, audit_key(kit)) != []
    problems = verify_referral(forged)  # even without the trusted key: the proofs fail
    assert any("checkpoint" in problem or "not included" in problem for problem in problems)
