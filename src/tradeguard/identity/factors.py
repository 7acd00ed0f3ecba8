"""Second factors: enrol, confirm, list, rename, remove, and verify one in a ceremony.

Kinds: ``totp`` (authenticator app), ``webauthn`` (passkeys, platform authenticators and
security keys), ``sms`` and ``email`` (one-time codes), ``backup_codes`` (ten single-use
codes). A factor counts once confirmed. Step-up accepts the strong kinds (WebAuthn,
TOTP); an account that has neither may step up with SMS or email codes.

Staff (a role in ``STAFF_ROLES``) finish a sign-in with a roaming security key only. A
staff account without one answers its challenge with another factor, which opens an
enrolment-only session for enrolling a key, never a full session. On a development
machine ``staff_platform_keys_allowed`` lets any WebAuthn credential (a platform passkey,
a browser's virtual authenticator) stand in for the key; production refuses that setting.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.core.errors import ProblemError
from tradeguard.core.ids import new_id
from tradeguard.core.permissions import STAFF_ROLES
from tradeguard.identity.code_store import Channel, CodePurpose
from tradeguard.identity.kit import Identity
from tradeguard.identity.mfa import webauthn
from tradeguard.identity.mfa.backup_codes import (
    generate_backup_codes,
    hash_backup_code,
    verify_backup_code,
)
from tradeguard.identity.mfa.codes import CodeCheck
from tradeguard.identity.mfa.totp import new_totp_secret, provisioning_uri, qr_svg
from tradeguard.identity.models import Challenge, Factor, User
from tradeguard.identity.notices import VerifiedAddress, address_of
from tradeguard.identity.origin import Origin
from tradeguard.identity.problems import ACCESS_DENIED, CONFLICT, AuthReason, invalid, not_found
from tradeguard.notify.messages import validate_phone_number

PENDING_TTL_NS = 600 * NS_PER_SECOND
MAX_NAME = 64
MAX_FACTORS = 20
SECURITY_KEY = webauthn.AuthenticatorKind.SECURITY_KEY.value
STAFF_KEY_REQUIRED = "AUTH_STAFF_HARDWARE_KEY_REQUIRED"


class FactorKind(StrEnum):
    """The kinds of second factor."""

    TOTP = "totp"
    WEBAUTHN = "webauthn"
    SMS = "sms"
    EMAIL = "email"
    BACKUP_CODES = "backup_codes"


class Method(StrEnum):
    """How a challenge may be answered."""

    TOTP = "totp"
    WEBAUTHN = "webauthn"
    SMS = "sms"
    EMAIL = "email"
    BACKUP_CODE = "backup_code"


METHOD_KIND = {
    Method.TOTP: FactorKind.TOTP,
    Method.WEBAUTHN: FactorKind.WEBAUTHN,
    Method.SMS: FactorKind.SMS,
    Method.EMAIL: FactorKind.EMAIL,
    Method.BACKUP_CODE: FactorKind.BACKUP_CODES,
}
AMR = {
    Method.TOTP: ("otp",),
    Method.WEBAUTHN: ("hwk", "user"),
    Method.SMS: ("sms",),
    Method.EMAIL: ("email",),
    Method.BACKUP_CODE: ("backup",),
}
STRONG = (Method.WEBAUTHN, Method.TOTP)
CODE_CHANNEL = {Method.SMS: Channel.SMS, Method.EMAIL: Channel.EMAIL}


def is_staff(user: User) -> bool:
    """Whether ``user`` holds a staff role (and so signs in with a security key)."""
    return user.role in STAFF_ROLES


def is_security_key(factor: Factor) -> bool:
    """Whether ``factor`` is a roaming WebAuthn security key (not a platform passkey)."""
    return factor.kind == FactorKind.WEBAUTHN and factor.authenticator == SECURITY_KEY


def staff_key_required() -> ProblemError:
    """The 403 refusing a staff sign-in by anything but password and security key."""
    return ProblemError(
        ACCESS_DENIED,
        STAFF_KEY_REQUIRED,
        "staff sign in with their password and a security key",
        {"methods": [Method.WEBAUTHN.value], "authenticator": SECURITY_KEY},
    )


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    """What a new authenticator app needs: the secret as text, URI and QR code."""

    factor: Factor
    secret: str
    uri: str
    qr_svg: str


@dataclass(frozen=True, slots=True)
class Answer:
    """A response to a challenge: a code, or a WebAuthn credential."""

    method: Method
    code: str | None = None
    credential: Mapping[str, object] | None = None


class Factors:
    """The second factors of users."""

    def __init__(self, identity: Identity) -> None:
        self._id = identity

    def confirmed(self, db: Session, user_id: str) -> list[Factor]:
        """The user's confirmed factors, oldest first."""
        query = (
            select(Factor)
            .where(Factor.user_id == user_id, Factor.confirmed_at_ns.is_not(None))
            .order_by(Factor.created_at_ns, Factor.id)
        )
        return list(db.scalars(query))

    def methods(self, db: Session, user_id: str) -> list[Method]:
        """The methods that can answer a sign-in challenge for ``user_id``."""
        kinds = {factor.kind for factor in self.confirmed(db, user_id)}
        return [method for method in Method if METHOD_KIND[method].value in kinds]

    def step_up_methods(self, db: Session, user: User) -> list[Method]:
        """The methods accepted for step-up: the strong ones, else codes; staff: their key."""
        if is_staff(user):
            return [Method.WEBAUTHN] if self.has_factor(db, user.id) else []
        methods = self.methods(db, user.id)
        strong = [method for method in methods if method in STRONG]
        return strong or [m for m in methods if m in CODE_CHANNEL]

    def is_staff_key(self, factor: Factor) -> bool:
        """Whether ``factor`` signs a staff member in: a security key.

        In development, with ``staff_platform_keys_allowed`` on, any WebAuthn credential.
        """
        if self._id.settings.staff_platform_keys_allowed:
            return factor.kind == FactorKind.WEBAUTHN
        return is_security_key(factor)

    def has_factor(self, db: Session, user_id: str) -> bool:
        """Whether the user has a confirmed factor that completes a sign-in.

        Any factor but backup codes; for staff, only a security key.
        """
        confirmed = self.confirmed(db, user_id)
        user = db.get(User, user_id)
        if user is not None and is_staff(user):
            return any(self.is_staff_key(factor) for factor in confirmed)
        return any(factor.kind != FactorKind.BACKUP_CODES for factor in confirmed)

    def sign_in_methods(self, db: Session, user: User) -> list[Method]:
        """The methods a login challenge offers; none means an enrolment-only session.

        Staff with a security key: WebAuthn alone. Staff without one: their other
        factors, whose answer opens an enrolment-only session to enrol a key.
        """
        if not self.has_factor(db, user.id):
            methods = self.methods(db, user.id) if is_staff(user) else []
            return [method for method in methods if method is not Method.WEBAUTHN]
        return [Method.WEBAUTHN] if is_staff(user) else self.methods(db, user.id)

    def staff_may_answer(self, db: Session, user: User, answer: Answer) -> bool:
        """Whether a staff member may answer a login challenge this way.

        With a security key; or, lacking one, with another factor than WebAuthn. An unknown
        credential is left to the verification, which refuses it.
        """
        if answer.method is not Method.WEBAUTHN:
            return not self.has_factor(db, user.id)
        factor = self.factor_by_credential(db, answer.credential or {})
        return factor is None or factor.user_id != user.id or self.is_staff_key(factor)

    def owned(self, db: Session, user_id: str, factor_id: str) -> Factor:
        """The user's factor ``factor_id``; 404 (never 403) when it is someone else's."""
        factor = db.get(Factor, factor_id)
        if factor is None or factor.user_id != user_id:
            raise not_found("factor")
        return factor

    def enrol_totp(self, db: Session, user: User, origin: Origin) -> TotpEnrolment:
        """A pending TOTP factor; it counts once confirmed with a first code."""
        secret = new_totp_secret()
        factor = self._pending(db, user, FactorKind.TOTP, "Authenticator app")
        factor.secret = secret
        uri = provisioning_uri(secret, user.username)
        self._audit(db, "auth.factor.enrolment_started", user, factor, origin)
        return TotpEnrolment(factor, secret, uri, qr_svg(uri))

    def enrol_code_factor(
        self, db: Session, user: User, method: Method, origin: Origin, phone: str | None = None
    ) -> Factor:
        """A pending SMS or email factor; a code goes to the phone or address to confirm it."""
        if method is Method.SMS:
            try:
                validate_phone_number(phone or "")
            except ValueError:
                raise invalid(
                    AuthReason.FACTOR_INVALID, "phone must be E.164: +15555550100"
                ) from None
        kind = FactorKind(METHOD_KIND[method].value)
        factor = self._pending(db, user, kind, "Text message" if phone else "Email")
        factor.phone = phone
        self._send_code(db, user, factor, CodePurpose.ENROL, factor.id)
        self._audit(db, "auth.factor.enrolment_started", user, factor, origin)
        return factor

    def confirm(self, db: Session, user: User, factor_id: str, code: str, origin: Origin) -> Factor:
        """Confirm a pending TOTP, SMS or email factor with the code it received."""
        factor = self.owned(db, user.id, factor_id)
        if factor.confirmed_at_ns is not None:
            raise ProblemError(CONFLICT, AuthReason.FACTOR_INVALID, "factor already confirmed")
        if self._id.clock.now_ns() - factor.created_at_ns > PENDING_TTL_NS:
            raise invalid(AuthReason.CODE_INVALID, "enrolment expired; start again")
        if not self._pending_code_ok(db, user, factor, code):
            self._audit(db, "auth.factor.confirmation_failed", user, factor, origin)
            raise invalid(AuthReason.CODE_INVALID, "the code is wrong or has expired").kept()
        return self._confirmed(db, user, factor, origin)

    def webauthn_options(
        self, db: Session, user: User, kind: webauthn.AuthenticatorKind
    ) -> tuple[str, Mapping[str, object]]:
        """Registration options for a new credential, and the ceremony's id."""
        options, challenge = webauthn.registration_options(
            self._id.rp,
            user_handle=_user_handle(user),
            user_name=user.username,
            display_name=user.username,
            kind=kind,
            exclude=[_stored(factor) for factor in self._webauthn_factors(db, user.id)],
            resident_key=kind is not webauthn.AuthenticatorKind.SECURITY_KEY,
        )
        ceremony = self.ceremony(db, "webauthn_register", user.id, challenge, kind.value)
        return ceremony.id, options

    def webauthn_register(  # noqa: PLR0913 - the ceremony's answer and what to call it
        self,
        db: Session,
        user: User,
        *,
        ceremony_id: str,
        credential: Mapping[str, object],
        name: str | None,
        origin: Origin,
    ) -> Factor:
        """Store the credential the browser created for the registration ceremony."""
        ceremony = self.open_ceremony(db, ceremony_id, "webauthn_register", user.id)
        stored = self._verified_registration(ceremony, credential, user)
        factor = self._pending(db, user, FactorKind.WEBAUTHN, name or _default_name(ceremony.amr))
        factor.credential_id = stored.credential_id
        factor.public_key = stored.public_key
        factor.sign_count = stored.sign_count
        factor.transports = " ".join(stored.transports)
        factor.authenticator = ceremony.amr
        factor.aaguid = stored.aaguid
        factor.backed_up = stored.backed_up
        return self._confirmed(db, user, factor, origin)

    def regenerate_backup_codes(self, db: Session, user: User, origin: Origin) -> list[str]:
        """Ten new backup codes (the old ones stop working); shown once, stored hashed."""
        codes = generate_backup_codes()
        factor = db.scalar(
            select(Factor).where(
                Factor.user_id == user.id, Factor.kind == FactorKind.BACKUP_CODES.value
            )
        )
        if factor is None:
            factor = self._pending(db, user, FactorKind.BACKUP_CODES, "Backup codes")
            factor.confirmed_at_ns = factor.created_at_ns
        factor.backup_code_hashes = json.dumps([hash_backup_code(code) for code in codes])
        self._audit(db, "auth.factor.backup_codes_generated", user, factor, origin)
        return codes

    def rename(self, db: Session, user: User, factor_id: str, name: str, origin: Origin) -> Factor:
        """Give a factor a new name."""
        factor = self.owned(db, user.id, factor_id)
        factor.name = _checked_name(name)
        self._audit(db, "auth.factor.renamed", user, factor, origin)
        return factor

    def remove(self, db: Session, user: User, factor_id: str, origin: Origin) -> None:
        """Remove a factor (never the last real one); every session of the user ends."""
        factor = self.owned(db, user.id, factor_id)
        others = [f for f in self.confirmed(db, user.id) if f.id != factor.id]
        last_real = not any(f.kind != FactorKind.BACKUP_CODES for f in others)
        if factor.confirmed_at_ns and last_real and factor.kind != FactorKind.BACKUP_CODES:
            raise ProblemError(
                CONFLICT, AuthReason.FACTOR_LAST, "enrol another factor before removing this"
            )
        self._audit(db, "auth.factor.removed", user, factor, origin)
        db.delete(factor)
        self._id.sessions.revoke_all(db, user.id, "factor_removed", origin)
        self._id.notices.security(
            db,
            address_of(user),
            "factor_removed",
            "A sign-in factor was removed",
            f"The factor {factor.name!r} was removed from your account and you were signed out.",
        )

    def send_code(
        self, db: Session, user: User, method: Method, purpose: CodePurpose, ref: str
    ) -> None:
        """Send a sign-in or step-up code by SMS or email to the user's confirmed factor."""
        factor = self._first(db, user.id, METHOD_KIND[method])
        self._send_code(db, user, factor, purpose, ref)

    def verify(  # noqa: PLR0913 - the ceremony, its answer and who answers
        self,
        db: Session,
        user: User,
        answer: Answer,
        *,
        ceremony: Challenge,
        purpose: CodePurpose,
        origin: Origin,
    ) -> Factor | None:
        """The factor that answers ``ceremony`` correctly, or None (the caller counts it)."""
        kind = METHOD_KIND[answer.method]
        if answer.method is Method.WEBAUTHN:
            return self._verify_assertion(db, user, answer, ceremony, origin)
        factor = self._first(db, user.id, kind)
        code = (answer.code or "").strip()
        ok = {
            Method.TOTP: lambda: self._totp_ok(db, factor, code),
            Method.SMS: lambda: self._code_ok(db, user, purpose, code, ceremony.id),
            Method.EMAIL: lambda: self._code_ok(db, user, purpose, code, ceremony.id),
            Method.BACKUP_CODE: lambda: self._backup_ok(db, user, factor, code),
        }[answer.method]()
        if ok:
            factor.last_used_at_ns = self._id.clock.now_ns()
        return factor if ok else None

    def webauthn_login_options(
        self, db: Session, user: User | None
    ) -> tuple[Mapping[str, object], bytes]:
        """Assertion options: the user's credentials, or any passkey (passwordless) when None.

        Staff are offered their security keys only.
        """
        factors = [] if user is None else self._webauthn_factors(db, user.id)
        if user is not None and is_staff(user):
            factors = [factor for factor in factors if self.is_staff_key(factor)]
        return webauthn.authentication_options(self._id.rp, allow=[_stored(f) for f in factors])

    def factor_by_credential(self, db: Session, credential: Mapping[str, object]) -> Factor | None:
        """The confirmed WebAuthn factor a credential belongs to (passwordless sign-in)."""
        try:
            credential_id = webauthn.credential_id_from(credential)
        except webauthn.WebAuthnError:
            return None
        return db.scalar(
            select(Factor).where(
                Factor.credential_id == credential_id, Factor.confirmed_at_ns.is_not(None)
            )
        )

    def ceremony(
        self, db: Session, purpose: str, user_id: str | None, challenge: bytes | None, amr: str
    ) -> Challenge:
        """Start a ceremony that lives ten minutes."""
        now = self._id.clock.now_ns()
        row = Challenge(
            id=str(new_id(self._id.clock)),
            user_id=user_id,
            purpose=purpose,
            amr=amr,
            webauthn_challenge=challenge,
            attempts=0,
            created_at_ns=now,
            expires_at_ns=now + PENDING_TTL_NS,
        )
        db.add(row)
        return row

    def open_ceremony(
        self, db: Session, ceremony_id: str, purpose: str, user_id: str | None
    ) -> Challenge:
        """A live, unfinished ceremony of ``purpose`` (and ``user_id``), locked for update."""
        # SQLite ignores FOR UPDATE: a write takes its lock there (and the row lock elsewhere),
        # so two requests answering one ceremony run one after the other.
        db.execute(
            update(Challenge)
            .where(Challenge.id == ceremony_id)
            .values(attempts=Challenge.attempts)
            .execution_options(synchronize_session=False)
        )
        row = db.scalar(select(Challenge).where(Challenge.id == ceremony_id).with_for_update())
        now = self._id.clock.now_ns()
        if (
            row is None
            or row.purpose != purpose
            or (user_id is not None and row.user_id != user_id)
            or row.completed_at_ns is not None
            or row.expires_at_ns <= now
        ):
            raise invalid(AuthReason.CHALLENGE_INVALID, "no such challenge, or it has expired")
        return row

    def _pending(self, db: Session, user: User, kind: FactorKind, name: str) -> Factor:
        self._drop_stale_pending(db, user.id)
        count = len(list(db.scalars(select(Factor.id).where(Factor.user_id == user.id))))
        if count >= MAX_FACTORS:
            raise ProblemError(CONFLICT, AuthReason.FACTOR_INVALID, "too many factors")
        factor = Factor(
            id=str(new_id(self._id.clock)),
            user_id=user.id,
            kind=kind.value,
            name=_checked_name(name),
            created_at_ns=self._id.clock.now_ns(),
            counter_regressions=0,
        )
        db.add(factor)
        db.flush()
        return factor

    def _confirmed(self, db: Session, user: User, factor: Factor, origin: Origin) -> Factor:
        factor.confirmed_at_ns = self._id.clock.now_ns()
        db.flush()
        self._audit(db, "auth.factor.enrolled", user, factor, origin)
        self._id.notices.security(
            db,
            address_of(user),
            "factor_added",
            "A sign-in factor was added",
            f"The factor {factor.name!r} ({factor.kind}) was added to your account.",
        )
        return factor

    def _drop_stale_pending(self, db: Session, user_id: str) -> None:
        """Forget enrolments never confirmed in time, so they cannot use up the limit."""
        db.execute(
            delete(Factor).where(
                Factor.user_id == user_id,
                Factor.confirmed_at_ns.is_(None),
                Factor.created_at_ns < self._id.clock.now_ns() - PENDING_TTL_NS,
            )
        )

    def _pending_code_ok(self, db: Session, user: User, factor: Factor, code: str) -> bool:
        if factor.kind == FactorKind.TOTP:
            return self._totp_ok(db, factor, code)
        outcome = self._id.codes.check(db, user.id, CodePurpose.ENROL, code, ref_id=factor.id)
        return outcome is CodeCheck.ACCEPTED

    def _totp_ok(self, db: Session, factor: Factor, code: str) -> bool:
        step = self._id.totp.verify(
            factor.secret or "",
            code,
            now=self._id.clock.now(),
            last_used_step=factor.totp_last_step,
        )
        return step is not None and self._swap(db, factor, "totp_last_step", step)

    def _code_ok(self, db: Session, user: User, purpose: CodePurpose, code: str, ref: str) -> bool:
        return self._id.codes.check(db, user.id, purpose, code, ref_id=ref) is CodeCheck.ACCEPTED

    def _backup_ok(self, db: Session, user: User, factor: Factor, code: str) -> bool:
        hashes: list[str] = json.loads(factor.backup_code_hashes or "[]")
        index = verify_backup_code(hashes, code)
        if index is None:
            return False
        hashes[index] = ""
        if not self._swap(db, factor, "backup_code_hashes", json.dumps(hashes)):
            return False
        left = sum(1 for stored in hashes if stored)
        self._id.notices.security(
            db,
            address_of(user),
            "backup_code_used",
            "A backup code was used",
            f"A backup code was used to sign in to your account. {left} codes are left.",
        )
        return True

    def _swap(self, db: Session, factor: Factor, field: str, new: object) -> bool:
        """Store ``new`` in ``field`` unless a concurrent request changed it since it was read.

        A used TOTP step or backup code is spent once even when two sign-ins race with it.
        """
        column = getattr(Factor, field)
        old = getattr(factor, field)
        unchanged = column.is_(None) if old is None else column == old
        result = db.execute(
            update(Factor)
            .where(Factor.id == factor.id, unchanged)
            .values({field: new})
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return False
        setattr(factor, field, new)
        return True

    def _verify_assertion(
        self, db: Session, user: User, answer: Answer, ceremony: Challenge, origin: Origin
    ) -> Factor | None:
        factor = self.factor_by_credential(db, answer.credential or {})
        if factor is None or factor.user_id != user.id or ceremony.webauthn_challenge is None:
            return None
        try:
            result = webauthn.verify_authentication(
                self._id.rp,
                credential=answer.credential or {},
                expected_challenge=ceremony.webauthn_challenge,
                stored=_stored(factor),
            )
        except webauthn.WebAuthnError:
            return None
        if result.counter_regressed:  # a cloned authenticator is possible: refuse and flag
            factor.counter_regressions += 1
            self._audit(db, "auth.webauthn.counter_regressed", user, factor, origin)
            return None
        factor.sign_count = result.new_sign_count
        factor.backed_up = result.backed_up
        factor.last_used_at_ns = self._id.clock.now_ns()
        return factor

    def _verified_registration(
        self, ceremony: Challenge, credential: Mapping[str, object], user: User
    ) -> webauthn.StoredCredential:
        ceremony.completed_at_ns = self._id.clock.now_ns()
        try:
            return webauthn.verify_registration(
                self._id.rp,
                credential=credential,
                expected_challenge=ceremony.webauthn_challenge or b"",
                user_handle=_user_handle(user),
            )
        except webauthn.WebAuthnError as exc:
            raise invalid(
                AuthReason.WEBAUTHN_INVALID, str(exc), webauthn_reason=exc.reason
            ) from None

    def _webauthn_factors(self, db: Session, user_id: str) -> list[Factor]:
        return [f for f in self.confirmed(db, user_id) if f.kind == FactorKind.WEBAUTHN]

    def _first(self, db: Session, user_id: str, kind: FactorKind) -> Factor:
        for factor in self.confirmed(db, user_id):
            if factor.kind == kind.value:
                return factor
        raise invalid(AuthReason.MFA_METHOD_UNAVAILABLE, f"no {kind.value} factor enrolled")

    def _send_code(
        self, db: Session, user: User, factor: Factor, purpose: CodePurpose, ref: str
    ) -> None:
        channel = Channel.SMS if factor.kind == FactorKind.SMS else Channel.EMAIL
        code = self._id.codes.issue(db, user.id, purpose, channel, ref_id=ref)
        self._id.notices.sign_in_code(
            db, _recipient(user, factor), code, sms=channel is Channel.SMS
        )

    def _audit(self, db: Session, event: str, user: User, factor: Factor, origin: Origin) -> None:
        self._id.events.record(
            db,
            event,
            origin,
            user_id=user.id,
            data={"factor_id": factor.id, "kind": factor.kind, "name": factor.name},
        )


def _user_handle(user: User) -> bytes:
    return user.id.encode("ascii")


def _stored(factor: Factor) -> webauthn.StoredCredential:
    return webauthn.StoredCredential(
        credential_id=factor.credential_id or b"",
        public_key=factor.public_key or b"",
        sign_count=factor.sign_count or 0,
        transports=tuple((factor.transports or "").split()),
        user_handle=factor.user_id.encode("ascii"),
        backed_up=bool(factor.backed_up),
        aaguid=factor.aaguid or "",
    )


def _checked_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME or not cleaned.isprintable():
        raise invalid(AuthReason.FACTOR_INVALID, f"a factor name is 1-{MAX_NAME} characters")
    return cleaned


def _default_name(kind: str) -> str:
    return {"platform": "This device", "security-key": "Security key"}.get(kind, "Passkey")


def _recipient(user: User, factor: Factor) -> str:
    """Where a factor's code goes; verified once the factor (or the address) is confirmed."""
    if factor.kind != FactorKind.SMS:
        return address_of(user)
    phone = factor.phone or ""
    return VerifiedAddress(phone) if factor.confirmed_at_ns is not None else phone
