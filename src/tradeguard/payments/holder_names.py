"""Whether a bank account's holder name is the customer's legal name."""

from __future__ import annotations

import json

from anyascii import anyascii
from sqlalchemy.orm import Session

from tradeguard.kyc.records import application_of_user


def name_tokens(name: str) -> set[str]:
    """The words of a name, transliterated, lower case, without punctuation."""
    cleaned = "".join(c if c.isalnum() else " " for c in anyascii(name).casefold())
    return set(cleaned.split())


def legal_name(db: Session, user_id: str) -> tuple[str, str] | None:
    """Given and family name from the customer's application, if they have one."""
    application = application_of_user(db, user_id)
    if application is None:
        return None
    name = json.loads(application.answers).get("legal_name")
    if not isinstance(name, dict):
        return None
    return str(name.get("given", "")), str(name.get("family", ""))


def holder_is_customer(db: Session, user_id: str, holder_name: str) -> bool:
    """True when every word of the legal given and family names is in the holder name."""
    legal = legal_name(db, user_id)
    if legal is None:
        return False
    wanted = name_tokens(" ".join(legal))
    return bool(wanted) and wanted <= name_tokens(holder_name)
