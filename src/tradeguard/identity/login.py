"""Sign-in: password or passkey, then a second factor, then tokens; and step-up.

A password sign-in answers the same for an unknown name and a wrong password, and costs
the same (a dummy hash is verified). Failures count against the name and the address
(``throttle``). The password step opens a login challenge naming the methods that may
answer it; the answer opens the session. An account without a second factor gets an
enrolment-only session. A passkey with user verification is two factors at once
(something held, and the PIN or biometric that unlocked it) and signs in alone.

Staff sign in with the password and a security key, nothing else: no passkey alone, no
code. A staff account without a key answers with another factor and gets an
enrolment-only session in which it enrols one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.identity.accounts import Accounts
from tradeguard.identity.allowlist import allowed, parse_allowlist
from tradeguard.identity.code_store import CodePurpose
from tradeguard.identity.devices import Devices, Sighting
from tradeguard.identity.factors import (
    AMR,
    CODE_CHANNEL,
    STRONG,
    Answer,
    Factors,
    Method,
    is_staff,
    staff_key_required,
)
from tradeguard.identity.kit import Identity
from tradeguard.identity.models import AuthSession, Challenge, User
from tradeguard.identity.notices import address_of
from tradeguard.identity.origin import Origin
from tradeguard.identity.problems import AuthReason, forbidden, invalid, unauthenticated
from tradeguard.identity.sessions import ACTIVE, IssuedTokens
from tradeguard.identity.throttle import ThrottleKind

MAX_CHALLENGE_ATTEMPTS = 5
LOGIN = "login"
STEP_UP = "step_up"
PASSKEY = "passkey"


@dataclass(frozen=True, slots=True)
class LoginChallenge:
    """The password was right: a second factor is due, by one of ``methods``."""

    challenge_id: str
    methods: list[Method]
    expires_in: int


@dataclass(frozen=True, slots=True)
class CeremonyStart:
    """A ceremony was opened; WebAuthn ones carry the options for the browser."""

    challenge_id: str
    options: Mapping[str, object] | None


class SignIn:
    """The sign-in and step-up flows."""

    def __init__(
        self, identity: Identity, accounts: Accounts, factors: Factors, devices: Devices
    ) -> None:
        self._id = identity
        self._accounts = accounts
        self._factors = factors
        self._devices = devices

    def password(
        self, db: Session, login: str, password: str, origin: Origin
    ) -> LoginChallenge | IssuedTokens:
        """Check the password; a challenge for the second factor (or an enrolment session)."""
        user = self._accounts.find_by_login(db, login)
        account = user.id if user is not None else login.strip().casefold()
        keys = _throttle_keys(account, origin)
        self._id.throttler.check(db, keys)
        if user is None:
            self._id.hasher.verify_dummy(password)
            raise self._failed(db, keys, None, origin, "auth.login.failed")
        if not self._id.hasher.verify(user.password_hash, password):
            raise self._failed(db, keys, user, origin, "auth.login.failed")
        self._admit(db, user, origin)
        if self._id.hasher.needs_rehash(user.password_hash):
            user.password_hash = self._id.hasher.hash(password)
        sighting = self._devices.observe(db, user, origin)
        self._id.risk_checks.check(db, user, origin, "login", sighting.device.id)
        methods = self._factors.sign_in_methods(db, user)
        if not methods:
            self._id.throttler.succeed(db, account)
            return self._enrolment_session(db, user, sighting, origin)
        # Failures are forgotten once the second factor is right too: a known password
        # must not reset the count of wrong codes between challenges.
        return self._challenge(db, user, sighting, origin, methods)

    def enrolment_session(self, db: Session, user: User, origin: Origin) -> IssuedTokens:
        """An enrolment-only session for an account just proven another way (a staff link).

        Its device is recorded; its first factor is due.
        """
        sighting = self._devices.observe(db, user, origin)
        return self._enrolment_session(db, user, sighting, origin)

    def send_code(self, db: Session, challenge_id: str, method: Method, origin: Origin) -> None:
        """Send the SMS or email code that answers a login challenge."""
        ceremony = self._factors.open_ceremony(db, challenge_id, LOGIN, None)
        user = self._user(db, ceremony)
        self._admit(db, user, origin)
        self._require_staff_key(db, user, Answer(method), origin)
        self._require_method(db, user, method, login=True)
        if method not in CODE_CHANNEL:
            raise invalid(AuthReason.MFA_METHOD_UNAVAILABLE, "only sms and email codes are sent")
        self._factors.send_code(db, user, method, CodePurpose.SIGN_IN, ceremony.id)
        self._id.events.record(
            db, "auth.mfa.code_sent", origin, user_id=user.id, data={"method": method.value}
        )

    def webauthn_options(self, db: Session, challenge_id: str) -> Mapping[str, object]:
        """Assertion options for answering a login challenge with a WebAuthn credential."""
        ceremony = self._factors.open_ceremony(db, challenge_id, LOGIN, None)
        user = self._user(db, ceremony)
        self._require_method(db, user, Method.WEBAUTHN, login=True)
        options, challenge = self._factors.webauthn_login_options(db, user)
        ceremony.webauthn_challenge = challenge
        return options

    def verify(
        self, db: Session, challenge_id: str, answer: Answer, origin: Origin
    ) -> IssuedTokens:
        """Answer a login challenge; the session's tokens when the factor is right."""
        ceremony = self._factors.open_ceremony(db, challenge_id, LOGIN, None)
        user = self._user(db, ceremony)
        self._admit(db, user, origin)  # the answer may come from another address than the password
        self._require_staff_key(db, user, answer, origin)
        self._require_method(db, user, answer.method, login=True)
        self._accept_answer(db, user, ceremony, answer, purpose=CodePurpose.SIGN_IN, origin=origin)
        self._id.throttler.succeed(db, user.id)
        amr = ("pwd", *AMR[answer.method], "mfa")
        tokens = self._id.sessions.start(
            db,
            user,
            origin,
            amr=amr,
            device_id=ceremony.device_id,
            strong=answer.method in STRONG,
            enrollment_only=not self._factors.has_factor(db, user.id),  # staff without a key
        )
        self._after_sign_in(
            db,
            user,
            device_id=ceremony.device_id,
            method=answer.method,
            origin=origin,
            tokens=tokens,
        )
        return tokens

    def passkey_options(self, db: Session) -> CeremonyStart:
        """Options for a passwordless sign-in with any passkey the browser holds."""
        options, challenge = self._factors.webauthn_login_options(db, None)
        ceremony = self._factors.ceremony(db, PASSKEY, None, challenge, "hwk")
        return CeremonyStart(ceremony.id, options)

    def passkey(
        self, db: Session, challenge_id: str, credential: Mapping[str, object], origin: Origin
    ) -> IssuedTokens:
        """Sign in with a passkey alone (user verification makes it two factors)."""
        ceremony = self._factors.open_ceremony(db, challenge_id, PASSKEY, None)
        ceremony.completed_at_ns = self._id.clock.now_ns()
        factor = self._factors.factor_by_credential(db, credential)
        user = db.get(User, factor.user_id) if factor is not None else None
        answer = Answer(Method.WEBAUTHN, credential=credential)
        if (
            user is None
            or self._factors.verify(
                db, user, answer, ceremony=ceremony, purpose=CodePurpose.SIGN_IN, origin=origin
            )
            is None
        ):
            self._id.events.record(
                db, "auth.passkey.failed", origin, user_id=user.id if user else None
            )
            raise unauthenticated(AuthReason.MFA_INVALID, "the passkey was not accepted").kept()
        self._admit(db, user, origin)
        if is_staff(user):  # checked once the passkey is proven, so it reveals no staff account
            raise self._staff_refused(db, user, Method.WEBAUTHN, origin)
        sighting = self._devices.observe(db, user, origin)
        tokens = self._id.sessions.start(
            db, user, origin, amr=("hwk", "user", "mfa"), device_id=sighting.device.id, strong=True
        )
        self._after_sign_in(
            db,
            user,
            device_id=sighting.device.id,
            method=Method.WEBAUTHN,
            origin=origin,
            tokens=tokens,
            sighting=sighting,
        )
        return tokens

    def step_up_start(
        self, db: Session, user: User, session_id: str, method: Method, origin: Origin
    ) -> CeremonyStart:
        """Open a step-up ceremony in this session (send the code, or WebAuthn options)."""
        self._require_method(db, user, method, login=False)
        ceremony = self._factors.ceremony(db, STEP_UP, user.id, None, method.value)
        ceremony.session_id = session_id
        options = None
        if method is Method.WEBAUTHN:
            options, ceremony.webauthn_challenge = self._factors.webauthn_login_options(db, user)
        elif method in CODE_CHANNEL:
            db.flush()
            self._factors.send_code(db, user, method, CodePurpose.STEP_UP, ceremony.id)
        self._id.events.record(
            db,
            "auth.step_up.started",
            origin,
            user_id=user.id,
            session_id=session_id,
            data={"method": method.value},
        )
        return CeremonyStart(ceremony.id, options)

    def step_up(  # noqa: PLR0913 - the session, the ceremony and its answer
        self,
        db: Session,
        user: User,
        session: AuthSession,
        *,
        challenge_id: str,
        answer: Answer,
        origin: Origin,
    ) -> None:
        """Answer a step-up ceremony; sensitive operations are open for the next minutes."""
        ceremony = self._factors.open_ceremony(db, challenge_id, STEP_UP, user.id)
        if ceremony.session_id != session.id or ceremony.amr != answer.method.value:
            raise invalid(AuthReason.CHALLENGE_INVALID, "the challenge is not for this session")
        self._require_staff_key(db, user, answer, origin)
        self._accept_answer(db, user, ceremony, answer, purpose=CodePurpose.STEP_UP, origin=origin)
        self._id.sessions.mark_step_up(session)
        self._id.events.record(
            db,
            "auth.step_up.succeeded",
            origin,
            user_id=user.id,
            session_id=session.id,
            data={"method": answer.method.value},
        )

    def _accept_answer(  # noqa: PLR0913 - the ceremony, its answer and who gives it
        self,
        db: Session,
        user: User,
        ceremony: Challenge,
        answer: Answer,
        *,
        purpose: CodePurpose,
        origin: Origin,
    ) -> None:
        """Check the answer to ``ceremony`` (throttled); finish the ceremony or count a failure."""
        keys = _throttle_keys(user.id, origin)
        self._id.throttler.check(db, keys)
        factor = self._factors.verify(
            db, user, answer, ceremony=ceremony, purpose=purpose, origin=origin
        )
        if factor is None:
            raise self._mfa_failed(
                db, ceremony, keys=keys, user=user, method=answer.method, origin=origin
            )
        ceremony.completed_at_ns = self._id.clock.now_ns()

    def _admit(self, db: Session, user: User, origin: Origin) -> None:
        """Refuse suspended accounts, unverified addresses and addresses off the allowlist."""
        if user.status != ACTIVE:
            self._id.events.record(
                db, "auth.login.refused", origin, user_id=user.id, data={"reason": "suspended"}
            )
            raise forbidden(AuthReason.ACCOUNT_SUSPENDED, "the account is suspended").kept()
        if not allowed(parse_allowlist(user.ip_allowlist), origin.ip):
            self._id.events.record(db, "auth.ip.refused", origin, user_id=user.id)
            raise forbidden(
                AuthReason.IP_NOT_ALLOWED, "sign-in is not allowed from this address"
            ).kept()
        if user.email_verified_at_ns is None:
            self._id.events.record(
                db, "auth.login.refused", origin, user_id=user.id, data={"reason": "unverified"}
            )
            raise forbidden(AuthReason.EMAIL_NOT_VERIFIED, "verify your email address first").kept()

    def _require_staff_key(self, db: Session, user: User, answer: Answer, origin: Origin) -> None:
        """Refuse a staff member's answer by anything but a security key (while one exists)."""
        if is_staff(user) and not self._factors.staff_may_answer(db, user, answer):
            raise self._staff_refused(db, user, answer.method, origin)

    def _staff_refused(self, db: Session, user: User, method: Method, origin: Origin) -> Exception:
        self._id.events.record(
            db,
            "auth.login.refused",
            origin,
            user_id=user.id,
            data={"reason": "staff_hardware_key_required", "method": method.value},
        )
        return staff_key_required().kept()

    def _challenge(
        self, db: Session, user: User, sighting: Sighting, origin: Origin, methods: list[Method]
    ) -> LoginChallenge:
        ceremony = self._factors.ceremony(db, LOGIN, user.id, None, "pwd")
        ceremony.device_id = sighting.device.id
        self._id.events.record(
            db,
            "auth.login.password_accepted",
            origin,
            user_id=user.id,
            device_id=sighting.device.id,
            data={"methods": [m.value for m in methods], "new_device": sighting.new},
        )
        ttl = (ceremony.expires_at_ns - ceremony.created_at_ns) // NS_PER_SECOND
        return LoginChallenge(ceremony.id, methods, ttl)

    def _enrolment_session(
        self, db: Session, user: User, sighting: Sighting, origin: Origin
    ) -> IssuedTokens:
        tokens = self._id.sessions.start(
            db,
            user,
            origin,
            amr=("pwd",),
            device_id=sighting.device.id,
            strong=True,  # no factor exists yet: the password is what enrolment re-checks
            enrollment_only=True,
        )
        self._id.events.record(
            db,
            "auth.login.succeeded",
            origin,
            user_id=user.id,
            session_id=tokens.session_id,
            device_id=sighting.device.id,
            data={"amr": ["pwd"], "enrollment_only": True},
        )
        return tokens

    def _after_sign_in(  # noqa: PLR0913 - the facts of a finished sign-in
        self,
        db: Session,
        user: User,
        *,
        device_id: str | None,
        method: Method,
        origin: Origin,
        tokens: IssuedTokens,
        sighting: Sighting | None = None,
    ) -> None:
        self._id.events.record(
            db,
            "auth.login.succeeded",
            origin,
            user_id=user.id,
            session_id=tokens.session_id,
            device_id=device_id,
            data={"method": method.value},
        )
        device = sighting.device if sighting else self._devices.find(db, device_id)
        if device is not None and device.approved_at_ns is None and device.link_digest is None:
            self._devices.announce(db, user, device, origin)

    def _require_method(self, db: Session, user: User, method: Method, *, login: bool) -> None:
        methods = (
            self._factors.sign_in_methods(db, user)
            if login
            else self._factors.step_up_methods(db, user)
        )
        if method not in methods:
            raise invalid(
                AuthReason.MFA_METHOD_UNAVAILABLE,
                f"{method.value} cannot be used here",
                methods=[m.value for m in methods],
            )

    def _user(self, db: Session, ceremony: Challenge) -> User:
        user = db.get(User, ceremony.user_id) if ceremony.user_id else None
        if user is None or user.status != ACTIVE:
            raise invalid(AuthReason.CHALLENGE_INVALID, "no such challenge, or it has expired")
        return user

    def _failed(
        self,
        db: Session,
        keys: dict[ThrottleKind, str],
        user: User | None,
        origin: Origin,
        event: str,
    ) -> Exception:
        outcome = self._id.throttler.fail(db, keys)
        self._id.events.record(
            db,
            event,
            origin,
            user_id=user.id if user else None,
            data={"account_known": user is not None},
        )
        if outcome.locked:
            self._locked(db, user, outcome.locked, outcome.lock_seconds, origin)
        return unauthenticated(
            AuthReason.INVALID_CREDENTIALS, "the name or password is wrong"
        ).kept()

    def _mfa_failed(  # noqa: PLR0913 - the facts of a failed answer
        self,
        db: Session,
        ceremony: Challenge,
        *,
        keys: dict[ThrottleKind, str],
        user: User,
        method: Method,
        origin: Origin,
    ) -> Exception:
        ceremony.attempts += 1
        if ceremony.attempts >= MAX_CHALLENGE_ATTEMPTS:
            ceremony.completed_at_ns = self._id.clock.now_ns()
        outcome = self._id.throttler.fail(db, keys)
        self._id.events.record(
            db,
            "auth.mfa.failed",
            origin,
            user_id=user.id,
            data={
                "method": method.value,
                "attempts": ceremony.attempts,
                "purpose": ceremony.purpose,
            },
        )
        if outcome.locked:
            self._locked(db, user, outcome.locked, outcome.lock_seconds, origin)
        return unauthenticated(AuthReason.MFA_INVALID, "the second factor was not accepted").kept()

    def _locked(
        self,
        db: Session,
        user: User | None,
        kinds: tuple[ThrottleKind, ...],
        seconds: int,
        origin: Origin,
    ) -> None:
        self._id.events.record(
            db,
            "auth.login.locked",
            origin,
            user_id=user.id if user else None,
            data={"locked": [kind.value for kind in kinds], "seconds": seconds},
        )
        if user is not None and ThrottleKind.ACCOUNT in kinds:
            self._id.notices.security(
                db,
                address_of(user),
                "account_locked",
                "Sign-in to your account is paused",
                f"After repeated failed sign-in attempts, sign-in is paused for "
                f"{seconds // 60 or 1} minutes. If this was not you, change your password.",
            )


def _throttle_keys(account: str, origin: Origin) -> dict[ThrottleKind, str]:
    return {ThrottleKind.ACCOUNT: account, ThrottleKind.IP: origin.ip or "unknown"}
