"""Who is behind each account: its kind, its beneficial owner and the links between accounts.

Accounts of one owner, and accounts tied by a shared device, address, bank account or
IP address, form a group (union-find). Detectors accuse groups, not single accounts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

CLIENT, PROPRIETARY, EMPLOYEE = "client", "proprietary", "employee"
KINDS = frozenset({CLIENT, PROPRIETARY, EMPLOYEE})
FIRM_SIDE = frozenset({PROPRIETARY, EMPLOYEE})
LINK_KINDS = frozenset({"same_device", "same_ip", "same_bank", "same_address"})


@dataclass(slots=True)
class AccountDirectory:
    """Account kinds, owners and groups; an unknown account is a client of its own."""

    kinds: dict[str, str] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    _parent: dict[str, str] = field(default_factory=dict)
    _members: dict[str, set[str]] = field(default_factory=dict)
    _owner_first: dict[str, str] = field(default_factory=dict)

    def add_account(self, account: str, kind: str, owner: str) -> None:
        """Register an account; accounts of one owner join one group."""
        if kind not in KINDS:
            raise ValueError(f"unknown account kind {kind!r}")
        self.kinds[account], self.owners[account] = kind, owner
        first = self._owner_first.setdefault(owner, account)
        self.link(first, account)

    def link(self, first: str, second: str) -> None:
        """Tie two accounts into one group."""
        root_a, root_b = self.group(first), self.group(second)
        if root_a == root_b:
            return
        if len(self.members(root_a)) < len(self.members(root_b)):
            root_a, root_b = root_b, root_a
        self._parent[root_b] = root_a
        self._members[root_a] = self.members(root_a) | self._members.pop(root_b, {root_b})

    def group(self, account: str) -> str:
        """The group id (a member account) of ``account``."""
        parent = self._parent.get(account, account)
        if parent == account:
            return account
        root = self.group(parent)
        self._parent[account] = root
        return root

    def members(self, group: str) -> set[str]:
        """Every account of the group ``group``."""
        return self._members.get(group, {group})

    def kind(self, account: str) -> str:
        """``client``, ``proprietary`` or ``employee``."""
        return self.kinds.get(account, CLIENT)

    def same_owner(self, first: str, second: str) -> bool:
        """Whether one beneficial owner holds both accounts."""
        owner = self.owners.get(first)
        return owner is not None and owner == self.owners.get(second)

    def is_firm_side(self, account: str) -> bool:
        """Whether the account is the firm's own or an associated person's."""
        return self.kinds.get(account, CLIENT) in FIRM_SIDE

    def add_links(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Tie each pair of accounts."""
        for first, second in pairs:
            self.link(first, second)
