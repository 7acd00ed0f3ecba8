"""Sanctions hits in the one alert and case store, with the screening's evidence.

A rescreen that names an applicant or customer raises a ``sanctions.rescreen_hit`` alert;
a reviewer who confirms a match raises ``sanctions.match_confirmed`` and opens a case for
compliance holding it (and the rescreen alert of the same hit, if there is one). The
evidence is the list, its version, the entry, the listed name, the score, the fields that
agreed and the reasons: what the list says, never the applicant's own answers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.audit.records import Actor
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.models import AlertRow, CaseRow
from tradeguard.cases.service import Cases
from tradeguard.cases.store import OPEN, AlertStore
from tradeguard.kyc.models import KycApplication

SOURCE = "kyc.screening"
RESCREEN_HIT = "sanctions.rescreen_hit"
MATCH_CONFIRMED = "sanctions.match_confirmed"
RULE = "screening_match_threshold"
FIELD_REASONS = (("date_of_birth", "date of birth", ": +"), ("country", "country ", " agrees"))
"""A field agreed when a reason starts with the first text and contains the second."""


def matched_fields(reasons: list[str]) -> list[str]:
    """The subject's fields that agreed with the entry: the name, a birth date, a country."""
    fields = ["name"]
    for field, start, sign in FIELD_REASONS:
        if any(reason.startswith(start) and sign in reason for reason in reasons):
            fields.append(field)
    return fields


def alert_evidence(found: Mapping[str, Any]) -> dict[str, Any]:
    """A stored screening decision as alert evidence (the list's side only)."""
    reasons = [str(reason) for reason in found.get("reasons", [])]
    return {
        "list_name": found.get("list_name"),
        "list_version": found.get("list_version"),
        "ent_num": found.get("ent_num"),
        "matched_name": found.get("matched_name"),
        "score": found.get("score"),
        "matched_fields": matched_fields(reasons),
        "reasons": reasons,
        "hit": found.get("key"),
    }


class SanctionsAlerts:
    """Raises onboarding's sanctions alerts and opens the compliance case of a confirmed match."""

    def __init__(self, store: AlertStore, cases: Cases) -> None:
        self._store = store
        self._cases = cases
        self.clock = store.clock

    def rescreen_hit(
        self, db: Session, application: KycApplication, found: Mapping[str, Any]
    ) -> AlertRow | None:
        """Alert on a potential match that a list load found (None if already raised)."""
        return self._raise(db, application, found, RESCREEN_HIT)

    def confirmed(
        self, db: Session, application: KycApplication, found: Mapping[str, Any], actor: Actor
    ) -> CaseRow:
        """Alert on a confirmed match and open a case holding it and its rescreen alert."""
        self._raise(db, application, found, MATCH_CONFIRMED)
        alerts = _open_alerts(db, application, str(found.get("key")))
        entry = f"{found.get('list_name')} #{found.get('ent_num')}"
        title = f"Sanctions match confirmed: application {application.id} ({entry})"
        return self._cases.open_case(db, actor, [alert.id for alert in alerts], title)

    def _raise(
        self, db: Session, application: KycApplication, found: Mapping[str, Any], typology: str
    ) -> AlertRow | None:
        now = self.clock.now_ns()
        accounts = (application.account_id,) if application.account_id else ()
        draft = AlertDraft(
            typology=typology,
            score=min(1.0, max(0.0, float(found.get("score") or 0.0))),
            subject=Subject(customer=application.user_id, accounts=accounts),
            start_ns=now,
            end_ns=now,
            rule=RULE,
            episode=f"{application.id}|{found.get('key')}",
            evidence=alert_evidence(found) | {"application_id": application.id},
        )
        return self._store.raise_alert(db, draft, SOURCE)


def _open_alerts(db: Session, application: KycApplication, hit: str) -> list[AlertRow]:
    """The open sanctions alerts of this application and hit, oldest first."""
    query = select(AlertRow).where(
        AlertRow.source == SOURCE,
        AlertRow.customer == application.user_id,
        AlertRow.status == OPEN,
    )
    rows = db.scalars(query.order_by(AlertRow.created_at_ns, AlertRow.id))
    return [row for row in rows if json.loads(row.evidence).get("hit") == hit]
