"""What the fraud profiles learn from: one normalized event per audit record they read.

Identity, trading and money-movement events arrive as audit records of different shapes;
``event_of`` turns each into a ``FraudEvent`` (who, what kind, when, from which device and
network, and the amounts), the one shape the profiles take. Records of other types, and
records without a user, are ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tradeguard.audit.search import AuditEvent
from tradeguard.core.money import Money
from tradeguard.fraud.geo import GeoLocator, Network


class Kind(StrEnum):
    """The kinds of events a profile counts."""

    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    MFA_FAILED = "mfa_failed"
    LOGIN_LOCKED = "login_locked"
    NEW_DEVICE = "new_device"
    PASSWORD_CHANGE = "password_change"  # noqa: S105 - an event kind, not a secret
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an event kind, not a secret
    EMAIL_CHANGE = "email_change"
    PHONE_CHANGE = "phone_change"
    FACTOR_ADDED = "factor_added"
    FACTOR_REMOVED = "factor_removed"
    STEP_UP = "step_up"
    SESSION_REVOKED = "session_revoked"
    ORDER = "order"
    SELL_ORDER = "sell_order"
    ORDER_DENIED = "order_denied"
    TRADE = "trade"
    WITHDRAWAL = "withdrawal"
    DEPOSIT = "deposit"
    BANK_LINK = "bank_link"
    ACH_RETURN = "ach_return"
    API_KEY = "api_key"


AUDIT_KINDS: dict[str, Kind] = {
    "auth.login.succeeded": Kind.LOGIN,
    "auth.login.failed": Kind.LOGIN_FAILED,
    "auth.mfa.failed": Kind.MFA_FAILED,
    "auth.login.locked": Kind.LOGIN_LOCKED,
    "auth.device.new": Kind.NEW_DEVICE,
    "auth.password.changed": Kind.PASSWORD_CHANGE,
    "auth.password.reset_requested": Kind.PASSWORD_RESET,
    "auth.email.changed": Kind.EMAIL_CHANGE,
    "auth.phone.changed": Kind.PHONE_CHANGE,
    "auth.factor.enrolled": Kind.FACTOR_ADDED,
    "auth.factor.removed": Kind.FACTOR_REMOVED,
    "auth.step_up.succeeded": Kind.STEP_UP,
    "auth.session.revoked": Kind.SESSION_REVOKED,
    "order.placed": Kind.ORDER,
    "risk.order.denied": Kind.ORDER_DENIED,
    "payments.withdrawal.requested": Kind.WITHDRAWAL,
    "payments.deposit.settled": Kind.DEPOSIT,
    "payments.bank_link.added": Kind.BANK_LINK,
    "payments.deposit.returned": Kind.ACH_RETURN,
    "apikey.created": Kind.API_KEY,
}
AUDIT_TYPES = frozenset(AUDIT_KINDS)
WEAK_FACTORS = frozenset({"sms", "email"})


@dataclass(frozen=True, slots=True)
class FraudEvent:
    """One thing a customer (or someone holding their credentials) did."""

    kind: Kind
    user: str
    ts_ns: int
    device: str | None = None
    network: Network | None = None
    session: str | None = None
    amount_cents: int = 0
    symbol: str | None = None
    quantity: int = 0
    method: str | None = None


def event_of(record: AuditEvent, geo: GeoLocator) -> FraudEvent | None:
    """The fraud event an audit record states, or None."""
    kind = AUDIT_KINDS.get(record.event_type)
    user = _user_of(record)
    if kind is None or user is None:
        return None
    data = record.data
    if kind is Kind.ORDER and str(data.get("side", "")).startswith("sell"):
        kind = Kind.SELL_ORDER
    return FraudEvent(
        kind=kind,
        user=user,
        ts_ns=record.ts_ns,
        device=record.actor.device_id or _text(data, "device"),
        network=geo.locate(record.actor.ip),
        session=record.actor.session_id,
        amount_cents=_int(data, "amount_cents") or _cents(data, "amount"),
        symbol=_text(data, "symbol"),
        quantity=_int(data, "quantity"),
        method=_text(data, "method"),
    )


def _user_of(record: AuditEvent) -> str | None:
    if record.actor.kind == "user" and record.actor.id != "anonymous":
        return record.actor.id
    return record.subject if record.event_type.startswith(("auth.", "payments.")) else None


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return str(value) if value is not None else None


def _cents(data: Mapping[str, Any], name: str) -> int:
    """A money member written as a decimal string ("125.50"), in cents; 0 if absent or bad."""
    value = data.get(name)
    try:
        return Money.parse(str(value)).cents if value is not None else 0
    except (ArithmeticError, TypeError, ValueError):
        return 0


def _int(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0
