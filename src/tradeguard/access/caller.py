"""Who acts in an access-control operation: the principal, where they act from, as audited."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from tradeguard.audit.records import Actor
from tradeguard.core.permissions import STAFF_ROLES, Permission, Role
from tradeguard.core.principal import Principal
from tradeguard.identity.origin import Origin


@dataclass(frozen=True, slots=True)
class Caller:
    """The signed-in principal of a request and its origin."""

    principal: Principal
    origin: Origin
    system: str | None = None
    """A component acting on its own (an automatic action), audited as that component."""

    @classmethod
    def automatic(cls, component: str) -> Caller:
        """A component of TradeGuard acting on its own (no person, no request)."""
        principal = Principal(component, "", "SYSTEM", frozenset(), (), False, None)  # noqa: FBT003 - Principal's field order
        return cls(principal, Origin(None, "", "", None), component)

    @classmethod
    def of(cls, principal: Principal, request: Request) -> Caller:
        """The caller of ``request``."""
        return cls(principal, Origin.of(request))

    @property
    def user_id(self) -> str:
        """The caller's user id."""
        return self.principal.user_id

    @property
    def request_id(self) -> str | None:
        """The id of the request, for the audit events it causes."""
        return self.origin.request_id

    @property
    def is_staff(self) -> bool:
        """Whether the caller's role is a staff role."""
        try:
            return Role(self.principal.role) in STAFF_ROLES
        except ValueError:
            return False

    def may(self, permission: Permission) -> bool:
        """Whether the caller's token grants ``permission`` (grants excluded)."""
        return permission.value in self.principal.permissions

    @property
    def actor(self) -> Actor:
        """The caller as the actor of an audit event: staff, or user."""
        if self.system is not None:
            return Actor.system(self.system)
        kind = "staff" if self.is_staff else "user"
        return Actor(kind, self.user_id, ip=self.origin.ip, session_id=self.principal.session_id)
