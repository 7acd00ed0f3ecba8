"""The collaborators identity's services share, built once per application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.recorder import AuditTrail
from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.crypto.keyring import DataClass
from tradeguard.crypto.runtime import Crypto
from tradeguard.identity.code_store import CodeLimits, CodeStore
from tradeguard.identity.events import AuthEvents
from tradeguard.identity.mfa.totp import TotpVerifier
from tradeguard.identity.mfa.webauthn import RelyingParty
from tradeguard.identity.models import User
from tradeguard.identity.notices import Counters, Notices, Outgoing, RecipientCap, address_of
from tradeguard.identity.origin import Origin
from tradeguard.identity.passwords import Argon2Parameters, PasswordHasher, PasswordPolicy
from tradeguard.identity.session_news import SessionStateCache
from tradeguard.identity.sessions import ActiveGrants, SessionManager
from tradeguard.identity.throttle import LoginThrottler, ThrottleLimits
from tradeguard.identity.tokens import TokenIssuer, TokenSettings, TokenVerifier

CODE_KEY_LABEL = "tradeguard/one-time-code-key/v1"
RECIPIENT_DIGEST_LABEL = "tradeguard/recipient-cap/v1/"

CredentialResetHook = Callable[[Session, User, Origin, str], object]
"""Called in the transaction of a credential reset: the user, the origin and how (``via``)."""


class CredentialResets:
    """What else ends when a user's credentials are reset, registered by other packages.

    Identity cannot know every credential (API keys live above it), so the owners of
    the others subscribe here; a reset calls each in its own transaction, so the reset
    and everything it revokes commit together, or none of it does.
    """

    def __init__(self) -> None:
        self._hooks: list[CredentialResetHook] = []

    def subscribe(self, hook: CredentialResetHook) -> None:
        """Call ``hook`` on every credential reset from now on."""
        self._hooks.append(hook)

    def reset(self, db: Session, user: User, origin: Origin, via: str) -> None:
        """Tell every subscriber that ``user``'s credentials were reset."""
        for hook in self._hooks:
            hook(db, user, origin, via)


RiskCheck = Callable[[Session, User, Origin, str, str | None], object]
"""Called at a risky point (``login`` once the password is right, ``credential_change``,
``profile_change``) with the user, origin, point and device; it may refuse by raising a
problem (fraud's decision points)."""


class RiskChecks:
    """Checks other packages run at identity's risky points, before the change is made."""

    def __init__(self) -> None:
        self._checks: list[RiskCheck] = []

    def subscribe(self, check: RiskCheck) -> None:
        """Run ``check`` at every risky point from now on."""
        self._checks.append(check)

    def check(
        self, db: Session, user: User, origin: Origin, point: str, device_id: str | None = None
    ) -> None:
        """Run every check; the first that refuses raises."""
        for check in self._checks:
            check(db, user, origin, point, device_id)


@dataclass(frozen=True, slots=True)
class Identity:
    """Everything identity needs: settings, clock, crypto, audit, messages, tokens."""

    settings: Settings
    clock: Clock
    sessions_factory: sessionmaker[Session]
    crypto: Crypto
    events: AuthEvents
    notices: Notices
    hasher: PasswordHasher
    policy: PasswordPolicy
    throttler: LoginThrottler
    codes: CodeStore
    sessions: SessionManager
    verifier: TokenVerifier
    rp: RelyingParty
    totp: TotpVerifier
    credential_resets: CredentialResets = field(default_factory=CredentialResets)
    risk_checks: RiskChecks = field(default_factory=RiskChecks)

    def email_index(self, email: str) -> bytes:
        """The blind index an email address is found by."""
        return self.crypto.keyring.blind_index(DataClass.PII, email.casefold())


@dataclass(frozen=True, slots=True)
class IdentityParts:
    """What the application hands identity: its core services and the message outlet."""

    settings: Settings
    clock: Clock
    sessions_factory: sessionmaker[Session]
    crypto: Crypto
    events: AuthEvents
    outgoing: Outgoing
    active_grants: ActiveGrants
    """Access control's reader of a user's grants in force (identity does not own them)."""


def build_identity(parts: IdentityParts) -> Identity:
    """Wire identity's services from the application's parts."""
    settings, clock = parts.settings, parts.clock
    notices = Notices(parts.outgoing, settings.effective_public_url)
    token_settings = TokenSettings(
        issuer=settings.effective_token_issuer,
        audience=settings.token_audience,
        ttl_seconds=settings.access_token_seconds,
    )
    signing = parts.crypto.signing
    return Identity(
        settings=settings,
        clock=clock,
        sessions_factory=parts.sessions_factory,
        crypto=parts.crypto,
        events=parts.events,
        notices=notices,
        hasher=PasswordHasher(_argon2(settings)),
        policy=PasswordPolicy(min_score=settings.password_min_score),
        throttler=LoginThrottler(clock, _throttle_limits(settings)),
        codes=CodeStore(clock, _code_key(parts.crypto), CodeLimits.from_settings(settings)),
        sessions=SessionManager(
            settings=settings,
            clock=clock,
            issuer=TokenIssuer(signing, clock, token_settings),
            events=parts.events,
            cache=SessionStateCache(long_ttl_seconds=settings.session_state_cache_seconds),
            on_token_reuse=lambda db, user: _warn_token_reuse(notices, db, user),
            active_grants=parts.active_grants,
        ),
        verifier=TokenVerifier(signing, parts.sessions_factory, clock, token_settings),
        rp=RelyingParty(
            rp_id=settings.webauthn_rp_id,
            rp_name=settings.webauthn_rp_name,
            origins=settings.effective_webauthn_origins,
        ),
        totp=TotpVerifier(),
    )


def _warn_token_reuse(notices: Notices, db: Session, user: User) -> None:
    notices.security(
        db,
        address_of(user),
        "token_reuse",
        "We signed you out of a session",
        "A refresh token of one of your sessions was presented after it had been used, "
        "which can mean it was stolen. We ended that session.",
    )


def _argon2(settings: Settings) -> Argon2Parameters:
    return Argon2Parameters(
        memory_kib=settings.password_memory_kib,
        time_cost=settings.password_time_cost,
        parallelism=settings.password_parallelism,
    )


def _throttle_limits(settings: Settings) -> ThrottleLimits:
    return ThrottleLimits(
        account_failures=settings.login_failures_per_account,
        ip_failures=settings.login_failures_per_ip,
        window_seconds=settings.login_failure_window_seconds,
        lock_seconds=settings.login_lock_seconds,
    )


def _code_key(crypto: Crypto) -> bytes:
    """A stable 256-bit secret for one-time-code digests, derived from the PII index key."""
    halves = (f"{CODE_KEY_LABEL}/{half}" for half in ("a", "b"))
    return b"".join(crypto.keyring.blind_index(DataClass.PII, label) for label in halves)


def build_recipient_cap(
    settings: Settings, crypto: Crypto, audit: AuditTrail, counters: Counters
) -> RecipientCap:
    """The per-recipient cap on messages to unverified addresses, counted in ``counters``.

    Recipients are counted by a keyed digest (the PII blind-index key under a label of
    its own), so the shared store never holds an address and cannot be joined to users.
    """

    def digest(address: str) -> str:
        return crypto.keyring.blind_index(DataClass.PII, RECIPIENT_DIGEST_LABEL + address).hex()

    return RecipientCap(
        counters,
        digest,
        audit,
        limit=settings.email_unverified_per_recipient,
        window_seconds=settings.email_unverified_window_seconds,
    )
