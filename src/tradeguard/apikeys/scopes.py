"""What an API key's scope lets it do: a subset of its owner's permissions, never more."""

from __future__ import annotations

from enum import StrEnum

from tradeguard.core.permissions import Permission


class Scope(StrEnum):
    """The kinds of API key: trading (orders) and data (read-only)."""

    TRADING = "trading"
    DATA = "data"


SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    # A trading key reads what it trades (its orders, positions, account) as well.
    Scope.TRADING: frozenset(
        {
            Permission.ORDER_PLACE,
            Permission.ORDER_MODIFY,
            Permission.ORDER_CANCEL,
            Permission.ACCOUNT_VIEW,
        }
    ),
    Scope.DATA: frozenset({Permission.ACCOUNT_VIEW}),
}
"""Never in any scope: withdrawals, profile and security changes, every staff permission."""


def scope_allows(scope: Scope, permission: Permission) -> bool:
    """Whether a key of ``scope`` may be used for a route requiring ``permission``."""
    return permission in SCOPE_PERMISSIONS[scope]


def key_permissions(scope: Scope, owner_permissions: frozenset[str]) -> frozenset[str]:
    """What a key may do: its scope, cut down to what its owner may do."""
    return frozenset(p.value for p in SCOPE_PERMISSIONS[scope]) & owner_permissions
