"""Identity's services, built once per application and reached by routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from sqlalchemy.orm import Session

from tradeguard.core.principal import Principal
from tradeguard.identity.accounts import Accounts
from tradeguard.identity.devices import Devices
from tradeguard.identity.factors import Factors
from tradeguard.identity.kit import Identity
from tradeguard.identity.login import SignIn
from tradeguard.identity.models import AuthSession, User
from tradeguard.identity.problems import AuthReason, unauthenticated
from tradeguard.identity.sessions import IssuedTokens
from tradeguard.web.provide import provided


@dataclass(frozen=True, slots=True)
class IdentityService:
    """Accounts, factors, devices and sign-in over one set of collaborators."""

    identity: Identity
    accounts: Accounts
    factors: Factors
    devices: Devices
    sign_in: SignIn

    @classmethod
    def over(cls, identity: Identity) -> IdentityService:
        """The services of ``identity``."""
        accounts, factors, devices = Accounts(identity), Factors(identity), Devices(identity)
        return cls(
            identity, accounts, factors, devices, SignIn(identity, accounts, factors, devices)
        )

    def user_of(self, db: Session, principal: Principal) -> User:
        """The principal's user row (the session check already found it active)."""
        user = db.get(User, principal.user_id)
        if user is None:
            raise unauthenticated(AuthReason.SESSION_REVOKED, "the session has ended")
        return user

    def upgrade_if_enrolled(self, db: Session, principal: Principal) -> IssuedTokens | None:
        """New tokens for an enrolment-only session whose account now has a factor."""
        if not principal.enrollment_only or not self.factors.has_factor(db, principal.user_id):
            return None
        row = self.session_of(db, principal)
        row.enrollment_only = False
        return self.identity.sessions.reissue(db, row, self.user_of(db, principal))

    def session_of(self, db: Session, principal: Principal) -> AuthSession:
        """The principal's session row, locked for update."""
        row = db.get(AuthSession, principal.session_id, with_for_update=True)
        if row is None:
            raise unauthenticated(AuthReason.SESSION_REVOKED, "the session has ended")
        return row


IdentityServiceDep = Annotated[IdentityService, provided(IdentityService)]
