"""Permissions and the roles that grant them: the one place where either is defined."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    """What a principal may do, as ``scope:action``."""

    ORDER_PLACE = "order:place"
    ORDER_CANCEL = "order:cancel"
    ORDER_MODIFY = "order:modify"
    ACCOUNT_VIEW = "account:view"
    ACCOUNT_WITHDRAW = "account:withdraw"
    ADMIN_USERS = "admin:users"
    ADMIN_CONFIG = "admin:config"
    COMPLIANCE_AUDIT = "compliance:audit"
    COMPLIANCE_REPORT = "compliance:report"


class Role(StrEnum):
    """The roles of the specification."""

    TRADER = "TRADER"
    ADMIN = "ADMIN"
    COMPLIANCE = "COMPLIANCE"
    SUPPORT = "SUPPORT"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.TRADER: frozenset(
        {
            Permission.ORDER_PLACE,
            Permission.ORDER_CANCEL,
            Permission.ORDER_MODIFY,
            Permission.ACCOUNT_VIEW,
            Permission.ACCOUNT_WITHDRAW,
        }
    ),
    Role.ADMIN: frozenset({Permission.ADMIN_USERS, Permission.ADMIN_CONFIG}),
    Role.COMPLIANCE: frozenset({Permission.COMPLIANCE_AUDIT, Permission.COMPLIANCE_REPORT}),
    Role.SUPPORT: frozenset(),
}


def permissions_of(role: str) -> tuple[str, ...]:
    """The permissions ``role`` grants, sorted; none for an unknown role (fail closed)."""
    try:
        granted = ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return ()
    return tuple(sorted(permission.value for permission in granted))
