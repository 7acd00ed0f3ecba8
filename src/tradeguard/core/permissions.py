"""Permissions, roles and staff access levels: the one place where any of them is defined."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    """What a principal may do, as ``scope:action``."""

    ORDER_PLACE = "order:place"
    ORDER_CANCEL = "order:cancel"
    ORDER_MODIFY = "order:modify"
    ACCOUNT_VIEW = "account:view"
    ACCOUNT_WITHDRAW = "account:withdraw"
    ACCOUNT_DEPOSIT = "account:deposit"
    """Add and remove payment cards and deposit by card (a trader's own; no API-key scope)."""
    PROFILE_MANAGE = "profile:manage"
    ADMIN_USERS = "admin:users"
    ADMIN_CONFIG = "admin:config"
    ADMIN_GRANTS = "admin:grants"
    COMPLIANCE_AUDIT = "compliance:audit"
    COMPLIANCE_REPORT = "compliance:report"
    SUPPORT_USERS_VIEW = "support:users:view"
    SUPPORT_USERS_UNMASK = "support:users:unmask"
    STAFF_ACCOUNTS_SEARCH = "staff:accounts:search"
    """Find a customer by email, username or account id: whoever reads customers' records
    (``compliance:audit`` or ``support:users:view``) by role, at every level."""
    KYC_APPLY = "kyc:apply"
    """Apply for a brokerage account (a trader's own application and documents)."""
    KYC_REVIEW = "kyc:review"
    PAYMENTS_REVIEW = "payments:review"
    """Approve or reject withdrawals held for manual review (never one's own)."""
    PAYMENTS_OPERATE = "payments:operate"
    """Record wires (from a bank advice), branch cash and ACH returns; send and settle."""
    COMPLIANCE_SCREENING = "compliance:screening"
    """Screen a name against the sanctions lists and see the lists' versions."""
    INCIDENT_MANAGE = "incident:manage"
    TRADING_HALT = "trading:halt"
    APIKEY_REVOKE = "apikey:revoke"
    RISK_MANAGE = "risk:manage"
    LOCATE_GRANT = "locate:grant"
    AML_PARAMETERS = "aml:parameters"
    """Change the AML monitors' thresholds (each change audited with before and after)."""
    AML_SAR = "aml:sar"
    """Draft, read and file suspicious activity reports: a SAR's very existence is
    confidential (31 U.S.C. 5318(g)(2)), so nothing else shows one."""
    FRAUD_REVIEW = "fraud:review"
    """Read customers' fraud decisions (scores and reasons) and release a fraud lock."""
    FRAUD_RECOVER = "fraud:recover"
    """Run the account-takeover recovery: end sessions, reset credentials, re-verify."""


class Role(StrEnum):
    """The roles of the specification."""

    TRADER = "TRADER"
    ADMIN = "ADMIN"
    COMPLIANCE = "COMPLIANCE"
    SUPPORT = "SUPPORT"


class AccessLevel(StrEnum):
    """How far a staff member's role reaches: read-only < operator < engineer < admin."""

    READ_ONLY = "read-only"
    OPERATOR = "operator"
    ENGINEER = "engineer"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.ADMIN, Role.COMPLIANCE, Role.SUPPORT})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.TRADER: frozenset(
        {
            Permission.ORDER_PLACE,
            Permission.ORDER_CANCEL,
            Permission.ORDER_MODIFY,
            Permission.ACCOUNT_VIEW,
            Permission.ACCOUNT_WITHDRAW,
            Permission.ACCOUNT_DEPOSIT,
            Permission.PROFILE_MANAGE,
            Permission.KYC_APPLY,
        }
    ),
    Role.ADMIN: frozenset(
        {
            Permission.PROFILE_MANAGE,
            Permission.ADMIN_USERS,
            Permission.ADMIN_CONFIG,
            Permission.ADMIN_GRANTS,
            Permission.INCIDENT_MANAGE,
            Permission.TRADING_HALT,
            Permission.APIKEY_REVOKE,
        }
    ),
    Role.COMPLIANCE: frozenset(
        {
            Permission.PROFILE_MANAGE,
            Permission.COMPLIANCE_AUDIT,
            Permission.COMPLIANCE_REPORT,
            Permission.COMPLIANCE_SCREENING,
            Permission.KYC_REVIEW,
            Permission.PAYMENTS_REVIEW,
            Permission.PAYMENTS_OPERATE,
            Permission.INCIDENT_MANAGE,
            Permission.TRADING_HALT,
            Permission.APIKEY_REVOKE,
            Permission.RISK_MANAGE,
            Permission.LOCATE_GRANT,
            Permission.STAFF_ACCOUNTS_SEARCH,
            Permission.AML_SAR,
            Permission.AML_PARAMETERS,
            Permission.FRAUD_REVIEW,
            Permission.FRAUD_RECOVER,
        }
    ),
    Role.SUPPORT: frozenset(
        {
            Permission.PROFILE_MANAGE,
            Permission.SUPPORT_USERS_VIEW,
            Permission.SUPPORT_USERS_UNMASK,
            Permission.STAFF_ACCOUNTS_SEARCH,
        }
    ),
}

READ_ONLY_PERMISSIONS = frozenset(
    {
        Permission.PROFILE_MANAGE,
        Permission.COMPLIANCE_AUDIT,
        Permission.COMPLIANCE_REPORT,
        Permission.COMPLIANCE_SCREENING,
        Permission.SUPPORT_USERS_VIEW,
        Permission.STAFF_ACCOUNTS_SEARCH,
        Permission.FRAUD_REVIEW,
    }
)
OPERATOR_PERMISSIONS = READ_ONLY_PERMISSIONS | {
    Permission.SUPPORT_USERS_UNMASK,
    Permission.KYC_REVIEW,
    Permission.PAYMENTS_REVIEW,
    Permission.PAYMENTS_OPERATE,
    Permission.INCIDENT_MANAGE,
    Permission.TRADING_HALT,
    Permission.APIKEY_REVOKE,
    Permission.RISK_MANAGE,
    Permission.LOCATE_GRANT,
    Permission.AML_SAR,
    Permission.AML_PARAMETERS,
    Permission.FRAUD_RECOVER,
}
ENGINEER_PERMISSIONS = OPERATOR_PERMISSIONS | {Permission.ADMIN_CONFIG}
LEVEL_PERMISSIONS: dict[AccessLevel, frozenset[Permission]] = {
    AccessLevel.READ_ONLY: READ_ONLY_PERMISSIONS,
    AccessLevel.OPERATOR: OPERATOR_PERMISSIONS,
    AccessLevel.ENGINEER: ENGINEER_PERMISSIONS,
    AccessLevel.ADMIN: frozenset(Permission),
}


def permissions_of(role: str, level: str | None = None) -> tuple[str, ...]:
    """What ``role`` grants, capped by a staff ``level``; none for an unknown one (fail closed)."""
    try:
        granted = ROLE_PERMISSIONS[Role(role)]
        if Role(role) in STAFF_ROLES:
            granted &= LEVEL_PERMISSIONS[AccessLevel(level or AccessLevel.READ_ONLY)]
    except ValueError:
        return ()
    return tuple(sorted(permission.value for permission in granted))
