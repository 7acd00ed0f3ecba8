"""Server-side sessions, their refresh-token families and the cached state checked per request.

A session is made per sign-in. Its refresh tokens form one family: each use returns a
new token and spends the old one; presenting a spent token is taken as theft and ends
the whole session. Every request checks the session's state (revoked, idle, suspended,
IP allowlist) from a per-process cache; every change drops the cached state in every
process once it commits (``session_news``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session, object_session, sessionmaker

from tradeguard.config import Settings
from tradeguard.core.clock import NS_PER_SECOND, Clock
from tradeguard.core.errors import ProblemError
from tradeguard.core.ids import new_id
from tradeguard.core.permissions import permissions_of
from tradeguard.core.principal import SessionState
from tradeguard.identity.allowlist import allowed, parse_allowlist
from tradeguard.identity.events import AuthEvents
from tradeguard.identity.models import AuthSession, RefreshToken, User
from tradeguard.identity.origin import Origin
from tradeguard.identity.problems import AuthReason, forbidden, not_found, unauthenticated
from tradeguard.identity.secrets import random_token, token_digest
from tradeguard.identity.session_news import SessionStateCache
from tradeguard.identity.tokens import TokenIssuer

TOUCH_INTERVAL_NS = 30 * NS_PER_SECOND
ACTIVE = "active"
SUSPENDED = "suspended"


class RevokeReason:
    """Why a session ended (stored on the session and audited); reasons, not secrets."""

    LOGOUT = "logout"
    USER = "user"
    IDLE = "idle_timeout"
    TOKEN_REUSE = "token_reuse"  # noqa: S105
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    PASSWORD_RESET = "password_reset"  # noqa: S105
    FACTOR_REMOVED = "factor_removed"
    SUSPENDED = "suspended"
    DEVICE_REVOKED = "device_revoked"


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """What a successful sign-in or refresh hands the client."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str
    enrollment_only: bool


@dataclass(frozen=True, slots=True)
class SessionRefusal:
    """Why a session no longer stands: a reason code, its explanation, and if it went idle."""

    reason: AuthReason
    detail: str
    idle: bool = False

    def problem(self) -> ProblemError:
        """The refusal as the API answers it: 403 for an address, otherwise 401."""
        if self.reason is AuthReason.IP_NOT_ALLOWED:
            return forbidden(self.reason, self.detail)
        return unauthenticated(self.reason, self.detail)


def session_refusal(  # noqa: PLR0911 - one answer per rule, in the order they apply
    state: SessionState | None,
    user_id: str,
    permission_version: int | None,
    now_ns: int,
    ip: str | None,
) -> SessionRefusal | None:
    """Why ``state`` no longer lets ``user_id`` in from ``ip`` at ``now_ns``, if it does not.

    ``permission_version`` is the one the caller's token was issued under (``None``: not
    compared). The same rules hold for a request and for an open order feed.
    """
    if state is None or state.revoked or state.user_id != user_id:
        return SessionRefusal(AuthReason.SESSION_REVOKED, "the session has ended")
    if not state.user_active:
        return SessionRefusal(AuthReason.ACCOUNT_SUSPENDED, "the account is suspended")
    if permission_version is not None and state.permission_version != permission_version:
        return SessionRefusal(
            AuthReason.TOKEN_STALE, "the account's role or permissions changed; sign in again"
        )
    if now_ns >= state.expires_at_ns:
        return SessionRefusal(AuthReason.SESSION_EXPIRED, "the session has expired")
    if state.idle_expired(now_ns):
        return SessionRefusal(
            AuthReason.SESSION_EXPIRED, "the session timed out after inactivity", idle=True
        )
    if not allowed(state.ip_allowlist, ip):
        return SessionRefusal(
            AuthReason.IP_NOT_ALLOWED, "requests are not allowed from this address"
        )
    return None


ActiveGrants = Callable[[Session, str, int], tuple[tuple[str, int], ...]]
"""A user's approved grants in force at a time: (permission, expiry in epoch nanoseconds)."""


class SessionManager:
    """Starts, refreshes, lists and revokes sessions."""

    def __init__(  # noqa: PLR0913 - the collaborators of sessions
        self,
        *,
        settings: Settings,
        clock: Clock,
        issuer: TokenIssuer,
        events: AuthEvents,
        cache: SessionStateCache,
        on_token_reuse: Callable[[Session, User], None],
        active_grants: ActiveGrants,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._issuer = issuer
        self._events = events
        self.cache = cache
        self._on_token_reuse = on_token_reuse
        self._active_grants = active_grants

    def start(  # noqa: PLR0913 - what a new session is made of
        self,
        db: Session,
        user: User,
        origin: Origin,
        *,
        amr: tuple[str, ...],
        device_id: str | None,
        strong: bool,
        enrollment_only: bool = False,
    ) -> IssuedTokens:
        """Open a session for ``user`` and issue its first tokens.

        ``strong``: the sign-in verified a strong factor, which counts as a step-up.
        """
        now = self._clock.now_ns()
        row = AuthSession(
            id=str(new_id(self._clock)),
            user_id=user.id,
            device_id=device_id,
            ip=origin.ip,
            user_agent=origin.user_agent or None,
            amr=" ".join(amr),
            enrollment_only=enrollment_only,
            created_at_ns=now,
            auth_time_ns=now,
            last_active_ns=now,
            step_up_at_ns=now if strong else None,
            idle_timeout_seconds=self._settings.idle_timeout_seconds(user.role),
            expires_at_ns=now + self._settings.refresh_token_hours * 3600 * NS_PER_SECOND,
        )
        db.add(row)
        db.flush()
        self._events.record(
            db,
            "auth.session.started",
            origin,
            user_id=user.id,
            session_id=row.id,
            device_id=device_id,
            data={"amr": list(amr), "enrollment_only": enrollment_only},
        )
        return self._issue(db, row, user)

    def reissue(self, db: Session, row: AuthSession, user: User) -> IssuedTokens:
        """New tokens for a session whose standing changed (a first factor enrolled)."""
        self.cache.changed_on_commit(db, row.id)
        return self._issue(db, row, user)

    def refresh(self, db: Session, refresh_token: str, origin: Origin) -> IssuedTokens:
        """Spend ``refresh_token`` for new tokens; a spent one ends the session (theft)."""
        now = self._clock.now_ns()
        record = db.get(RefreshToken, token_digest(refresh_token))
        if record is None or record.expires_at_ns <= now:
            raise unauthenticated(AuthReason.REFRESH_INVALID, "refresh token not valid")
        row = db.get(AuthSession, record.session_id)
        if row is None:
            raise unauthenticated(AuthReason.REFRESH_INVALID, "refresh token not valid")
        user = db.get(User, row.user_id)
        if user is None or not self._spend(db, record, now):
            raise self._reused(db, row, user, origin)
        self._require_live(db, row, user, now, origin)
        row.last_active_ns = now
        self.cache.changed_on_commit(db, row.id)
        self._events.record(db, "auth.token.refreshed", origin, user_id=user.id, session_id=row.id)
        return self._issue(db, row, user)

    def revoke(
        self, db: Session, row: AuthSession, reason: str, origin: Origin, *, by: str | None = None
    ) -> None:
        """End one session now; its tokens stop working on the next request."""
        if row.revoked_at_ns is not None:
            return
        row.revoked_at_ns = self._clock.now_ns()
        row.revoke_reason = reason
        self.cache.changed_on_commit(db, row.id)
        self._events.record(
            db,
            "auth.session.revoked",
            origin,
            user_id=by or row.user_id,
            session_id=row.id,
            data={"reason": reason, "session_user_id": row.user_id},
        )

    def revoke_own(self, db: Session, user_id: str, session_id: str, origin: Origin) -> None:
        """End one of ``user_id``'s sessions; 404 (never 403) when it is not theirs."""
        row = db.get(AuthSession, session_id)
        if row is None or row.user_id != user_id or row.revoked_at_ns is not None:
            raise not_found("session")
        self.revoke(db, row, RevokeReason.USER, origin)

    def revoke_all(
        self, db: Session, user_id: str, reason: str, origin: Origin, *, keep: str | None = None
    ) -> int:
        """End every unrevoked session of ``user_id`` except ``keep``; returns how many ended.

        Idle and expired sessions are ended too: whether one still counts as idle depends
        on the clock of whoever looks, and an ended session must stay ended for all.
        """
        query = select(AuthSession).where(
            AuthSession.user_id == user_id, AuthSession.revoked_at_ns.is_(None)
        )
        ended = [row for row in db.scalars(query) if row.id != keep]
        for row in ended:
            self.revoke(db, row, reason, origin)
        return len(ended)

    def live_sessions(self, db: Session, user_id: str) -> list[AuthSession]:
        """The sessions of ``user_id`` that are neither revoked nor expired, newest first."""
        now = self._clock.now_ns()
        query = (
            select(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at_ns.is_(None))
            .where(AuthSession.expires_at_ns > now)
            .order_by(AuthSession.created_at_ns.desc())
        )
        return [row for row in db.scalars(query) if not self._idle(row, now)]

    def state(self, sessions: sessionmaker[Session], session_id: str) -> SessionState | None:
        """The session's state for a request, from the cache or the database."""
        return self.cache.get(session_id, lambda: self._load_state(sessions, session_id))

    def expire_idle(
        self, sessions: sessionmaker[Session], state: SessionState, origin: Origin
    ) -> None:
        """Record that an idle session timed out (it is refused either way)."""
        with sessions.begin() as db:
            row = db.get(AuthSession, state.session_id)
            if row is not None:
                self.revoke(db, row, RevokeReason.IDLE, origin)

    def cached_state(self, session_id: str) -> SessionState | None:
        """The session's state if this process holds it fresh (nothing read), else None."""
        return self.cache.cached(session_id)

    def touch_due(self, state: SessionState) -> bool:
        """Whether the session's activity is to be noted now (``touch`` writes it)."""
        return self._clock.now_ns() - state.last_active_ns >= TOUCH_INTERVAL_NS

    def touch(self, sessions: sessionmaker[Session], state: SessionState) -> None:
        """Note activity, at most every 30 seconds per session (idle timer restarts)."""
        if not self.touch_due(state):
            return
        now = self._clock.now_ns()
        with sessions.begin() as db:
            db.execute(
                update(AuthSession)
                .where(AuthSession.id == state.session_id)
                .where(AuthSession.last_active_ns < now)
                .values(last_active_ns=now)
            )
        self.cache.changed(state.session_id)

    def mark_step_up(self, row: AuthSession) -> None:
        """Record a fresh strong-factor verification in this session."""
        row.step_up_at_ns = self._clock.now_ns()
        db = object_session(row)
        if db is None:
            self.cache.changed(row.id)
        else:
            self.cache.changed_on_commit(db, row.id)

    def _issue(self, db: Session, row: AuthSession, user: User) -> IssuedTokens:
        now = self._clock.now_ns()
        # A role changed since sign-in (a trader made staff) brings its shorter idle timeout.
        role_idle = self._settings.idle_timeout_seconds(user.role)
        row.idle_timeout_seconds = min(row.idle_timeout_seconds, role_idle)
        refresh = random_token(32)
        db.add(
            RefreshToken(
                digest=token_digest(refresh),
                session_id=row.id,
                issued_at_ns=now,
                expires_at_ns=row.expires_at_ns,
                used_at_ns=None,
            )
        )
        access, claims = self._issuer.issue(
            db,
            sub=user.id,
            sid=row.id,
            role=user.role,
            permissions=() if row.enrollment_only else permissions_of(user.role, user.access_level),
            amr=tuple(row.amr.split()),
            auth_time=row.auth_time_ns // NS_PER_SECOND,
            enrollment_only=row.enrollment_only,
            pv=user.permission_version,
        )
        return IssuedTokens(
            access_token=access,
            expires_in=claims.exp - claims.iat,
            refresh_token=refresh,
            refresh_expires_in=max(0, (row.expires_at_ns - now) // NS_PER_SECOND),
            session_id=row.id,
            enrollment_only=row.enrollment_only,
        )

    def _spend(self, db: Session, record: RefreshToken, now: int) -> bool:
        """Mark the token used; exactly one of two concurrent spenders wins."""
        result = db.execute(
            update(RefreshToken)
            .where(RefreshToken.digest == record.digest, RefreshToken.used_at_ns.is_(None))
            .values(used_at_ns=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def _reused(
        self, db: Session, row: AuthSession, user: User | None, origin: Origin
    ) -> Exception:
        self._events.record(
            db,
            "auth.token.reused",
            origin,
            user_id=row.user_id,
            session_id=row.id,
            data={"session_already_revoked": row.revoked_at_ns is not None},
        )
        if row.revoked_at_ns is None and user is not None:
            self.revoke(db, row, RevokeReason.TOKEN_REUSE, origin)
            self._on_token_reuse(db, user)
        return unauthenticated(
            AuthReason.REFRESH_REUSED, "refresh token already used; the session is ended"
        ).kept()

    def _require_live(
        self, db: Session, row: AuthSession, user: User, now: int, origin: Origin
    ) -> None:
        if row.revoked_at_ns is not None or user.status != ACTIVE:
            raise unauthenticated(AuthReason.SESSION_REVOKED, "the session has ended")
        if row.expires_at_ns <= now:
            raise unauthenticated(AuthReason.SESSION_EXPIRED, "the session has expired")
        if self._idle(row, now):
            self.revoke(db, row, RevokeReason.IDLE, origin)
            raise unauthenticated(
                AuthReason.SESSION_EXPIRED, "the session timed out after inactivity"
            ).kept()
        if not allowed(parse_allowlist(user.ip_allowlist), origin.ip):
            # Not kept: the refresh token stays unspent, as if the request never came.
            raise forbidden(AuthReason.IP_NOT_ALLOWED, "requests are not allowed from this address")

    @staticmethod
    def _idle(row: AuthSession, now: int) -> bool:
        return now - row.last_active_ns > row.idle_timeout_seconds * NS_PER_SECOND

    def _load_state(self, sessions: sessionmaker[Session], session_id: str) -> SessionState | None:
        with sessions() as db:
            found = _state_row(db, session_id)
            if found is None:
                return None
            grants = self._active_grants(db, found.user_id, self._clock.now_ns())
        return SessionState(
            session_id=session_id,
            user_id=found.user_id,
            revoked=found.revoked_at_ns is not None,
            last_active_ns=found.last_active_ns,
            idle_timeout_ns=found.idle_timeout_seconds * NS_PER_SECOND,
            expires_at_ns=found.expires_at_ns,
            step_up_at_ns=found.step_up_at_ns,
            user_active=found.status == ACTIVE,
            permission_version=found.permission_version,
            ip_allowlist=parse_allowlist(found.ip_allowlist),
            grants=grants,
        )


def _state_row(db: Session, session_id: str) -> Row[*tuple[Any, ...]] | None:
    # Columns only: loading whole rows would decrypt the IP address and the email.
    return db.execute(
        select(
            AuthSession.user_id,
            AuthSession.revoked_at_ns,
            AuthSession.last_active_ns,
            AuthSession.idle_timeout_seconds,
            AuthSession.expires_at_ns,
            AuthSession.step_up_at_ns,
            User.status,
            User.permission_version,
            User.ip_allowlist,
        )
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.id == session_id)
    ).one_or_none()
