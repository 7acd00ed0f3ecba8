"""Helpers of the onboarding tests: a complete application, documents, reviewers."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from mrz.generator.td3 import TD3CodeGenerator
from PIL import Image
from sqlalchemy import Engine

from functional.identity_flows import Person, staff_signed_in
from support import registry_of
from tradeguard.audit.records import Actor
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender
from unit.screening.screening_kit import SAMPLE, copy_sample

APPLICATION = "/v1/kyc/application"
QUEUE = "/v1/staff/kyc/applications"
VERSIONS = "2026-01"


def complete_answers(**changes: Any) -> dict[str, Any]:
    """Every answer a cash application needs, changed by ``changes``."""
    answers: dict[str, Any] = {
        "legal_name": {"given": "Ann", "middle": "Marie", "family": "Lee"},
        "date_of_birth": "1990-02-03",
        "tax_id": "536-90-4399",
        "residential_address": "12 Elm Street Apt 4, Boston, MA 02110",
        "citizenship": "USA",
        "residence_country": "USA",
        "phone": "(617) 555-0123",
        "employment": {
            "status": "employed",
            "employer": "Acme Robotics",
            "occupation": "Engineer",
            "industry": "technology",
        },
        "affiliations": {
            "broker_dealer": False,
            "exchange_or_finra": False,
            "public_company_insider": False,
            "politically_exposed": False,
        },
        "annual_income": "100k_250k",
        "net_worth": "250k_1m",
        "source_of_funds": "employment",
        "investment_objective": "growth",
        "investment_experience": "good",
        "account_kind": "cash",
        "agreements": [
            {"name": name, "version": VERSIONS}
            for name in ("customer_agreement", "privacy_notice", "esign_consent")
        ],
    }
    answers.update(changes)
    return answers


def save(client: TestClient, person: Person, **answers: Any) -> Any:
    """PUT the draft."""
    return client.put(APPLICATION, json=answers, headers=person.headers)


def passport_mrz(
    family: str = "Lee", given: str = "Ann Marie", born: str = "900203", expires: str = "330101"
) -> str:
    """A passport MRZ with valid check digits."""
    code = TD3CodeGenerator("P", "USA", family, given, "X1234567", "USA", born, "F", expires)
    return str(code)


def broken_check_digit(mrz: str) -> str:
    """``mrz`` with the document number's check digit changed."""
    first, second = mrz.splitlines()
    digit = "1" if second[9] != "1" else "2"
    return f"{first}\n{second[:9]}{digit}{second[10:]}"


def png_bytes(size: tuple[int, int] = (120, 80)) -> bytes:
    """A small PNG image."""
    image = Image.new("RGB", size, "white")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload(
    client: TestClient, person: Person, kind: str, content: bytes, side: str = "front"
) -> Any:
    """POST one document file."""
    return client.post(
        f"{APPLICATION}/documents?kind={kind}&side={side}",
        content=content,
        headers={**person.headers, "Content-Type": "application/octet-stream"},
    )


def ready_application(client: TestClient, person: Person, **changes: Any) -> dict[str, Any]:
    """A complete draft with a passport (valid MRZ) and a proof of address; the draft."""
    saved = save(client, person, **complete_answers(**changes))
    assert saved.status_code == 200, saved.text
    passport = upload(client, person, "passport", png_bytes())
    assert passport.status_code == 201, passport.text
    mrz = client.put(
        f"{APPLICATION}/documents/{passport.json()['id']}/mrz",
        json={"mrz": passport_mrz()},
        headers=person.headers,
    )
    assert mrz.status_code == 200, mrz.text
    proof = upload(client, person, "proof_of_address", png_bytes())
    assert proof.status_code == 201, proof.text
    return client.get(APPLICATION, headers=person.headers).json()


def submit(client: TestClient, person: Person) -> Any:
    """POST the submission."""
    return client.post(f"{APPLICATION}/submit", headers=person.headers)


def decide(
    client: TestClient, reviewer: Person, application_id: str, action: str, **body: Any
) -> Any:
    """A reviewer's decision (approve, reject, request-information) on the version read."""
    if "version" not in body:
        read = client.get(f"{QUEUE}/{application_id}", headers=reviewer.headers)
        body["version"] = read.json()["version"]
    body.setdefault("note", "checked the passport against the application")
    return client.post(f"{QUEUE}/{application_id}/{action}", json=body, headers=reviewer.headers)


def load_sample_lists(app: FastAPI) -> None:
    """Load the sample SDN list, as ``tradeguard screening load`` does (rescreening all)."""
    registry_of(app).sanctions_screening.load(SAMPLE, "ofac-sdn", Actor("staff", "cli:compliance"))


def submitted(client: TestClient, person: Person, **changes: Any) -> dict[str, Any]:
    """A ready application, submitted; its view after the automated checks."""
    ready_application(client, person, **changes)
    response = submit(client, person)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def reviewer_named(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    engine: Engine,
    username: str,
) -> Person:
    """A compliance officer at operator level (``kyc:review``), signed in with a key."""
    return staff_signed_in(
        client, mailbox, clock, engine, role="COMPLIANCE", level="operator", username=username
    )


def load_changed_sdn(app: FastAPI, directory: Path, change: Callable[[bytes], bytes]) -> None:
    """Load the sample lists, the SDN file's bytes changed by ``change``, as a new version."""
    lists = copy_sample(directory)
    sdn = lists / "sdn.csv"
    sdn.write_bytes(change(sdn.read_bytes()))
    registry_of(app).sanctions_screening.load(lists, "ofac-sdn", Actor("staff", "cli:test"))
