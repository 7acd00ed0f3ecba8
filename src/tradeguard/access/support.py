"""The support desk: a customer's record as support agents see it, masked, and unmasking.

An agent sees the username, the email address as ``a***@example.com``, the phone numbers
of SMS factors by their last four digits, the status, role, creation time and the kinds
of second factor. Each look is stored (``StaffDataAccess``, action ``view``) and audited
(``support.user.viewed``). Seeing a field in clear needs a reason; it is stored (action
``unmask``), audited (``support.field.unmasked``) and counted per agent and UTC day.
Only customers (traders) are shown; a staff account answers 404 as an unknown one does.
Every look may raise a ``mass_access`` alert (see ``tradeguard.access.alerts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeGuard

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from tradeguard.access.alerts import MASS_ACCESS, AccessAlerts, AnomalyLimits
from tradeguard.access.caller import Caller
from tradeguard.access.models import StaffDataAccess
from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.core.ids import new_id
from tradeguard.core.permissions import Role
from tradeguard.identity.factors import FactorKind
from tradeguard.identity.models import Factor, User
from tradeguard.identity.problems import not_found

VIEWED = "support.user.viewed"
UNMASKED = "support.field.unmasked"
VIEW = "view"
UNMASK = "unmask"
MASK = "***"
PHONE_DIGITS_SHOWN = 4
NS_PER_DAY = 86_400 * NS_PER_SECOND


class MaskedField(StrEnum):
    """The fields an agent may ask to see in clear."""

    EMAIL = "email"
    PHONE = "phone"


@dataclass(frozen=True, slots=True)
class MaskedPhone:
    """A phone number of an SMS factor, by its last digits."""

    factor_id: str
    number: str


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A customer's record as support agents see it: nothing in clear that is personal."""

    user_id: str
    username: str
    email: str
    phones: list[MaskedPhone]
    status: str
    role: str
    created_at_ns: int
    factor_kinds: list[str]


@dataclass(frozen=True, slots=True)
class Unmasked:
    """A field in clear, and how many fields the agent unmasked today (this one included)."""

    user_id: str
    field: MaskedField
    value: str
    factor_id: str | None
    unmasked_today: int


def mask_email(email: str) -> str:
    """``alice@example.com`` as ``a***@example.com``."""
    local, at, domain = email.partition("@")
    if not at:
        return MASK
    return f"{local[:1]}{MASK}@{domain}"


def mask_phone(phone: str) -> str:
    """A phone number by its last four digits: ``***0100``."""
    digits = [character for character in phone if character.isdigit()]
    return MASK + "".join(digits[-PHONE_DIGITS_SHOWN:])


class SupportDesk:
    """Shows customers' records to support agents, masked, and unmasks fields for a reason."""

    def __init__(self, alerts: AccessAlerts) -> None:
        self._alerts = alerts
        self._audit = alerts.audit
        self._clock = alerts.clock

    def view(self, db: Session, caller: Caller, user_id: str) -> CustomerRecord:
        """The customer's masked record; the look is stored, audited and watched."""
        return self.show(db, caller, _customer(db, user_id), VIEWED)

    def show(
        self,
        db: Session,
        caller: Caller,
        user: User,
        event: str,
        data: Mapping[str, Any] | None = None,
    ) -> CustomerRecord:
        """``user``'s masked record; the look is stored, audited as ``event`` and watched."""
        sms = _sms_factors(db, user.id)
        self._record_access(db, caller, user.id, VIEW)
        self._audit.record(
            db, event, caller.actor, subject=user.id, data=data, request_id=caller.request_id
        )
        return CustomerRecord(
            user_id=user.id,
            username=user.username,
            email=mask_email(user.email),
            phones=[MaskedPhone(f.id, mask_phone(f.phone or "")) for f in sms],
            status=user.status,
            role=user.role,
            created_at_ns=user.created_at_ns,
            factor_kinds=_factor_kinds(db, user.id),
        )

    def unmask(  # noqa: PLR0913 - whose field, which one, and why
        self,
        db: Session,
        caller: Caller,
        user_id: str,
        *,
        field: MaskedField,
        reason: str,
        factor_id: str | None = None,
    ) -> Unmasked:
        """The field in clear; stored with its reason, audited and counted."""
        user = _customer(db, user_id)
        phone = _phone_factor(db, user.id, factor_id) if field is MaskedField.PHONE else None
        value = user.email if phone is None else phone.phone or ""
        self._record_access(db, caller, user.id, UNMASK, field=field, reason=reason)
        data = {"field": field.value, "reason": reason, "factor_id": phone.id if phone else None}
        self._audit.record(
            db, UNMASKED, caller.actor, subject=user.id, data=data, request_id=caller.request_id
        )
        return Unmasked(
            user.id, field, value, phone.id if phone else None, self._unmasked_today(db, caller)
        )

    def _record_access(  # noqa: PLR0913 - the facts of one access
        self,
        db: Session,
        caller: Caller,
        subject_user_id: str,
        action: str,
        *,
        field: MaskedField | None = None,
        reason: str | None = None,
    ) -> None:
        db.add(
            StaffDataAccess(
                id=str(new_id(self._clock)),
                staff_user_id=caller.user_id,
                subject_user_id=subject_user_id,
                action=action,
                field=field.value if field else None,
                reason=reason,
                at_ns=self._clock.now_ns(),
            )
        )
        db.flush()
        self._watch_mass_access(db, caller)

    def _watch_mass_access(self, db: Session, caller: Caller) -> None:
        """Raise ``mass_access`` when the agent looked at too many customers in the window."""
        limits = AnomalyLimits.current(db, self._alerts.settings)
        since = self._clock.now_ns() - limits.window_ns
        customers = db.scalar(
            select(func.count(distinct(StaffDataAccess.subject_user_id))).where(
                StaffDataAccess.staff_user_id == caller.user_id, StaffDataAccess.at_ns > since
            )
        )
        if (customers or 0) > limits.distinct_records:
            detail = {
                "distinct_records": customers,
                "limit": limits.distinct_records,
                "window_seconds": limits.window_seconds,
            }
            self._alerts.raise_alert(db, MASS_ACCESS, caller.user_id, detail, limits.window_ns)

    def _unmasked_today(self, db: Session, caller: Caller) -> int:
        now = self._clock.now_ns()
        count = db.scalar(
            select(func.count(StaffDataAccess.id)).where(
                StaffDataAccess.staff_user_id == caller.user_id,
                StaffDataAccess.action == UNMASK,
                StaffDataAccess.at_ns >= now - now % NS_PER_DAY,
            )
        )
        return count or 0


def is_customer(user: User | None) -> TypeGuard[User]:
    """Whether ``user`` is a customer (a trader): staff records are not shown to staff here."""
    return user is not None and user.role == Role.TRADER


def _customer(db: Session, user_id: str) -> User:
    """The customer ``user_id``; 404 for an unknown id and for staff accounts alike."""
    user = db.get(User, user_id)
    if not is_customer(user):
        raise not_found("user")
    return user


def _sms_factors(db: Session, user_id: str) -> list[Factor]:
    query = (
        select(Factor)
        .where(Factor.user_id == user_id, Factor.kind == FactorKind.SMS.value)
        .where(Factor.confirmed_at_ns.is_not(None))
        .order_by(Factor.created_at_ns)
    )
    return list(db.scalars(query))


def _phone_factor(db: Session, user_id: str, factor_id: str | None) -> Factor:
    """The SMS factor ``factor_id`` of the customer, or their oldest one; 404 when none."""
    for factor in _sms_factors(db, user_id):
        if factor_id is None or factor.id == factor_id:
            return factor
    raise not_found("phone")


def _factor_kinds(db: Session, user_id: str) -> list[str]:
    kinds = db.scalars(
        select(Factor.kind)
        .where(Factor.user_id == user_id, Factor.confirmed_at_ns.is_not(None))
        .distinct()
    )
    return sorted(kinds)
