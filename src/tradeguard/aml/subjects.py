"""The person a CTR names, as onboarding verified them.

A CTR identifies the person on whose behalf the cash moved: name, date of birth, address
and taxpayer identification number (31 CFR 1010.312; FinCEN's CTR instructions, Part I).
The brokerage verified all four when it approved the customer's application, where they
are stored encrypted. They are read decrypted here only to write the CTR, which is sealed
at rest like every filing; a customer without an approved application (or without a tax
id) leaves the CTR saying which items are unknown.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.aml.ctr_xml import VerifiedSubject
from tradeguard.kyc.models import KycApplication, compact_tax_id
from tradeguard.kyc.records import Status


def verified_subject(db: Session, customer: str) -> VerifiedSubject | None:
    """The identity of ``customer`` (a user id) from their approved application, if any."""
    application = db.scalars(
        select(KycApplication).where(
            KycApplication.user_id == customer, KycApplication.status == Status.APPROVED.value
        )
    ).one_or_none()
    if application is None or not application.tax_id:
        return None
    return subject_of(json.loads(application.answers), application.tax_id)


def subject_of(answers: dict[str, Any], tax_id: str) -> VerifiedSubject:
    """The CTR's subject from an application's answers and tax id."""
    name = answers.get("legal_name") or {}
    address = answers.get("residential_address") or {}
    unit = address.get("unit")
    return VerifiedSubject(
        last_name=str(name.get("family") or ""),
        first_name=str(name.get("given") or ""),
        middle_name=str(name.get("middle") or ""),
        dob=str(answers.get("date_of_birth") or ""),
        street=" ".join(filter(None, (address.get("street"), unit))),
        city=str(address.get("city") or ""),
        state=str(address.get("state") or ""),
        zip_code=str(address.get("zip") or ""),
        tin=compact_tax_id(tax_id),
    )
