"""Stored one-time codes (email verification, password reset, SMS and email second factors).

Codes are kept as keyed digests bound to their user and purpose. Issuing a code spends
any earlier code of the same purpose; sends are limited per user and purpose (a
minimum gap between sends and a cap per hour).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tradeguard.config import Settings
from tradeguard.core.clock import NS_PER_SECOND, Clock
from tradeguard.core.ids import new_id
from tradeguard.identity.mfa.codes import CodeCheck, OneTimeCode
from tradeguard.identity.models import OneTimeCodeRecord
from tradeguard.identity.problems import AuthReason, throttled

HOUR_NS = 3600 * NS_PER_SECOND


class CodePurpose(StrEnum):
    """What a code proves."""

    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose, not a secret
    SIGN_IN = "sign_in"
    ENROL = "enrol"
    STEP_UP = "step_up"
    CHANGE_EMAIL = "change_email"
    WITHDRAWAL_EMAIL = "withdrawal_email"
    WITHDRAWAL_SMS = "withdrawal_sms"


class Channel(StrEnum):
    """How a code travels."""

    EMAIL = "email"
    SMS = "sms"


@dataclass(frozen=True, slots=True)
class CodeLimits:
    """Lifetime, attempts and send limits of codes."""

    ttl_seconds: int
    max_attempts: int
    sends_per_hour: int
    resend_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> CodeLimits:
        """The limits configured in ``settings``."""
        return cls(
            ttl_seconds=settings.otp_ttl_seconds,
            max_attempts=settings.otp_max_attempts,
            sends_per_hour=settings.otp_sends_per_hour,
            resend_seconds=settings.otp_resend_seconds,
        )


class CodeStore:
    """Issues and checks one-time codes kept in ``one_time_codes``."""

    def __init__(self, clock: Clock, key: bytes, limits: CodeLimits) -> None:
        self._clock = clock
        self._key = key
        self._limits = limits

    def send_allowed(self, db: Session, user_id: str, purpose: CodePurpose) -> int:
        """Seconds until another code may be sent for ``purpose`` (0 = now)."""
        now = self._clock.now_ns()
        recent = select(OneTimeCodeRecord.created_at_ns).where(
            OneTimeCodeRecord.user_id == user_id,
            OneTimeCodeRecord.purpose == purpose.value,
            OneTimeCodeRecord.created_at_ns > now - HOUR_NS,
        )
        times = sorted(db.scalars(recent))
        gap_ns = self._limits.resend_seconds * NS_PER_SECOND
        if len(times) >= self._limits.sends_per_hour:
            return _seconds(times[0] + HOUR_NS - now)
        if times and now - times[-1] < gap_ns:
            return _seconds(times[-1] + gap_ns - now)
        return 0

    def issue(  # noqa: PLR0913 - for whom, what, how, about what, how long
        self,
        db: Session,
        user_id: str,
        purpose: CodePurpose,
        channel: Channel,
        *,
        ref_id: str | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        """A new code to send (earlier ones of the purpose die); 429 past the send limits.

        ``ttl_seconds``: the code's lifetime when its purpose has one of its own (else the
        codes' configured lifetime).
        """
        wait = self.send_allowed(db, user_id, purpose)
        if wait:
            raise throttled(AuthReason.CODE_SEND_LIMITED, "a code was sent recently", wait)
        self._spend_earlier(db, user_id, purpose)
        lifetime = self._limits.ttl_seconds if ttl_seconds is None else ttl_seconds
        code, state = OneTimeCode.issue(self._key, _bound(purpose, user_id), self._clock, lifetime)
        db.add(
            OneTimeCodeRecord(
                id=str(new_id(self._clock)),
                user_id=user_id,
                purpose=purpose.value,
                channel=channel.value,
                ref_id=ref_id,
                digest=state.digest,
                created_at_ns=state.created_ns,
                expires_at_ns=state.expires_ns,
                attempts=0,
                used=False,
            )
        )
        return code

    def check(
        self,
        db: Session,
        user_id: str,
        purpose: CodePurpose,
        code: str,
        *,
        ref_id: str | None = None,
    ) -> CodeCheck:
        """Present ``code``; the attempt is counted whatever the outcome."""
        record = self._latest(db, user_id, purpose, ref_id)
        if record is None:
            return CodeCheck.WRONG
        state = OneTimeCode(
            digest=record.digest,
            purpose=_bound(purpose, user_id),
            created_ns=record.created_at_ns,
            expires_ns=record.expires_at_ns,
            attempts=record.attempts,
            max_attempts=self._limits.max_attempts,
            used=record.used,
        )
        outcome, after = state.check(self._key, code.strip(), self._clock.now_ns())
        record.attempts, record.used = after.attempts, after.used
        return outcome

    def _latest(
        self, db: Session, user_id: str, purpose: CodePurpose, ref_id: str | None
    ) -> OneTimeCodeRecord | None:
        query = (
            select(OneTimeCodeRecord)
            .where(
                OneTimeCodeRecord.user_id == user_id,
                OneTimeCodeRecord.purpose == purpose.value,
            )
            .order_by(OneTimeCodeRecord.created_at_ns.desc())
            .limit(1)
            .with_for_update()
        )
        if ref_id is not None:
            query = query.where(OneTimeCodeRecord.ref_id == ref_id)
        return db.scalars(query).first()

    def _spend_earlier(self, db: Session, user_id: str, purpose: CodePurpose) -> None:
        db.execute(
            update(OneTimeCodeRecord)
            .where(
                OneTimeCodeRecord.user_id == user_id,
                OneTimeCodeRecord.purpose == purpose.value,
                OneTimeCodeRecord.used.is_(False),
            )
            .values(used=True)
        )


def _bound(purpose: CodePurpose, user_id: str) -> str:
    return f"{purpose.value}:{user_id}"


def _seconds(ns: int) -> int:
    return max(1, -(-ns // NS_PER_SECOND))
