"""Stored account profiles, links and parameters: read by the live watcher, changed audited.

Every brokerage account is a client of its own owner (its user) unless compliance
recorded a profile; ties between accounts are recorded as links. Parameter changes
are validated first and audited with the values before and after.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.surveillance.accounts import KINDS, LINK_KINDS, AccountDirectory
from tradeguard.surveillance.models import (
    AccountLinkRow,
    AccountProfileRow,
    SurveillanceParametersRow,
)
from tradeguard.surveillance.parameters import SurveillanceParameters
from tradeguard.trading.models import TradingAccount

PARAMETERS_ROW = 1


def load_directory(db: Session) -> AccountDirectory:
    """Every trading account (owner: its user), profiles over them, links between them."""
    directory = AccountDirectory()
    profiles = {row.account_id: row for row in db.scalars(select(AccountProfileRow))}
    for account_id, user_id in db.execute(select(TradingAccount.id, TradingAccount.user_id)):
        profile = profiles.pop(account_id, None)
        kind, owner = (profile.kind, profile.owner) if profile else ("client", user_id)
        directory.add_account(account_id, kind, owner)
    for profile in profiles.values():
        directory.add_account(profile.account_id, profile.kind, profile.owner)
    links = db.execute(select(AccountLinkRow.account_a, AccountLinkRow.account_b)).all()
    directory.add_links((first, second) for first, second in links)
    return directory


def load_parameters(db: Session) -> SurveillanceParameters:
    """The parameters in force: the defaults with compliance's stored overrides."""
    row = db.get(SurveillanceParametersRow, PARAMETERS_ROW)
    overrides = json.loads(row.document) if row is not None else {}
    return SurveillanceParameters().with_overrides(overrides)


def set_parameters(  # noqa: PLR0913 - the change and who makes it
    db: Session,
    audit: AuditTrail,
    actor: Actor,
    *,
    overrides: dict[str, Any],
    reason: str,
    now_ns: int,
) -> SurveillanceParameters:
    """Store new overrides (validated first); audited with every value before and after."""
    before = load_parameters(db)
    after = SurveillanceParameters().with_overrides(overrides)
    row = db.get(SurveillanceParametersRow, PARAMETERS_ROW)
    if row is None:
        row = SurveillanceParametersRow(
            id=PARAMETERS_ROW, document="{}", updated_by="", updated_at_ns=0
        )
        db.add(row)
    row.document, row.updated_by, row.updated_at_ns = json.dumps(overrides), actor.id, now_ns
    data = {
        "before": _auditable(before.to_json()),
        "after": _auditable(after.to_json()),
        "reason": reason,
    }
    audit.record(db, "surveillance.parameters.changed", actor, subject="surveillance", data=data)
    return after


def set_profile(  # noqa: PLR0913 - the profile and who sets it
    db: Session,
    audit: AuditTrail,
    actor: Actor,
    account_id: str,
    *,
    kind: str,
    owner: str,
    now_ns: int,
) -> None:
    """Record an account's kind and beneficial owner, audited with before and after."""
    if kind not in KINDS:
        raise ValueError(f"an account kind is one of {sorted(KINDS)}")
    row = db.get(AccountProfileRow, account_id)
    before = None if row is None else {"kind": row.kind, "owner": row.owner}
    if row is None:
        row = AccountProfileRow(account_id=account_id, kind=kind, owner=owner, updated_at_ns=now_ns)
        db.add(row)
    row.kind, row.owner, row.updated_at_ns = kind, owner, now_ns
    data = {"before": before, "after": {"kind": kind, "owner": owner}}
    audit.record(db, "surveillance.profile.changed", actor, subject=account_id, data=data)


def add_link(  # noqa: PLR0913 - the tie and who records it
    db: Session,
    audit: AuditTrail,
    actor: Actor,
    accounts: tuple[str, str],
    *,
    kind: str,
    now_ns: int,
) -> bool:
    """Record a tie between two accounts (audited); False if it was known."""
    if kind not in LINK_KINDS or accounts[0] == accounts[1]:
        raise ValueError(f"a link joins two accounts with a kind of {sorted(LINK_KINDS)}")
    first, second = sorted(accounts)
    if db.get(AccountLinkRow, (first, second, kind)) is not None:
        return False
    db.add(AccountLinkRow(account_a=first, account_b=second, kind=kind, created_at_ns=now_ns))
    data = {"accounts": [first, second], "kind": kind}
    audit.record(db, "surveillance.link.added", actor, subject=first, data=data)
    return True


def _auditable(value: Any) -> Any:  # noqa: ANN401 - any JSON value
    """Floats as decimal text: the audit record's canonical JSON holds no floats."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {key: _auditable(item) for key, item in value.items()}
    return value
