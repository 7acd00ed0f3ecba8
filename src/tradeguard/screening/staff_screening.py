"""A staff member's screening of a name, audited without the name in clear.

``POST /v1/screening/screen`` answers who may be on a sanctions list; who asked about
whom is part of the record. The event ``screening.screened`` names the staff member,
a keyed hash of the name (the ``pii`` blind-index key: equal names give equal digests,
and no one without the key can test a guess), whether a date of birth was given, the
country and the decision; never the name or the date of birth.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.crypto.keyring import DataClass, Keyring
from tradeguard.screening.decisions import ScreeningDecision, ScreeningSubject
from tradeguard.screening.service import SanctionsScreening

SCREENED = "screening.screened"


def name_digest(keyring: Keyring, name: str) -> str:
    """The keyed hash of ``name`` as audited (case and spacing do not count)."""
    normal = " ".join(name.casefold().split())
    return keyring.blind_index(DataClass.PII, "screened-name:" + normal).hex()


def screen_audited(  # noqa: PLR0913 - the screening, the trail, the key and who asks what
    db: Session, screening: SanctionsScreening, audit: AuditTrail, keyring: Keyring,
    *, actor: Actor, subject: ScreeningSubject,
) -> ScreeningDecision:  # fmt: skip
    """Screen ``subject`` and record the question and the answer (name as a digest)."""
    decision = screening.screen(subject)
    data = {
        "name_digest": name_digest(keyring, subject.name), "dob_given": subject.dob is not None,
        "country": subject.country, "match": decision.match,
        "score": f"{decision.score:.4f}", "ent_num": decision.ent_num,
        "list_version": decision.list_version,
    }  # fmt: skip
    audit.record(db, SCREENED, actor, subject=f"screening:{data['name_digest']}", data=data)
    return decision
