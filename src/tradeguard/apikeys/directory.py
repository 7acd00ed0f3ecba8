"""What verifying a request needs to know of its key, read from the database and cached.

An entry holds the decrypted secret and the owner's standing (active, role, permission
version, account allowlist). Entries live at most a second, so a suspension or role change
made on another node holds within that second; revocations reach every node on the next
request through the shared state (``replay.KeyStateStore``) and drop the local entry here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.apikeys.models import ApiKey
from tradeguard.apikeys.scopes import Scope, key_permissions
from tradeguard.core.permissions import permissions_of
from tradeguard.core.short_lived_cache import ShortLivedCache
from tradeguard.identity.allowlist import Network, parse_allowlist
from tradeguard.identity.models import User
from tradeguard.identity.sessions import ACTIVE


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """An API key as the request check sees it."""

    id: str
    key_id: str
    user_id: str
    scope: Scope
    secret: str = field(repr=False)  # never in a log line or a traceback's locals
    ip_allowlist: tuple[Network, ...]
    expires_at_ns: int
    revoked: bool
    owner_active: bool
    owner_role: str
    owner_permission_version: int
    owner_allowlist: tuple[Network, ...]
    permissions: frozenset[str]
    """The scope's permissions that the owner holds too."""

    def usable_at(self, now_ns: int) -> bool:
        """Whether the key itself still works (not revoked, not past its expiry or overlap)."""
        return not self.revoked and now_ns < self.expires_at_ns


class KeyDirectory:
    """Looks keys up by their public id, through a one-second cache."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._cache: ShortLivedCache[KeyRecord | None] = ShortLivedCache()

    def lookup(self, key_id: str) -> KeyRecord | None:
        """The key with this public id, or ``None`` when there is none."""
        return self._cache.get(key_id, lambda: self._load(key_id))

    def forget(self, key_id: str) -> None:
        """Drop the cached entry after a change made here."""
        self._cache.drop(key_id)

    def forget_all(self) -> None:
        """Drop every entry (after a change to an owner, which touches all their keys)."""
        self._cache.clear()

    def _load(self, key_id: str) -> KeyRecord | None:
        with self._sessions() as db:
            key = db.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).one_or_none()
            if key is None:
                return None
            # Columns only: loading the whole user would decrypt their email for nothing.
            owner = db.execute(
                select(
                    User.status,
                    User.role,
                    User.access_level,
                    User.permission_version,
                    User.ip_allowlist,
                ).where(User.id == key.user_id)
            ).one()
            return _record(key, owner)


def _record(key: ApiKey, owner: Row[*tuple[Any, ...]]) -> KeyRecord:
    scope = Scope(key.scope)
    owner_permissions = frozenset(permissions_of(owner.role, owner.access_level))
    return KeyRecord(
        id=key.id,
        key_id=key.key_id,
        user_id=key.user_id,
        scope=scope,
        secret=key.secret,
        ip_allowlist=parse_allowlist(key.ip_allowlist),
        expires_at_ns=key.expires_at_ns,
        revoked=key.revoked_at_ns is not None,
        owner_active=owner.status == ACTIVE,
        owner_role=owner.role,
        owner_permission_version=owner.permission_version,
        owner_allowlist=parse_allowlist(owner.ip_allowlist),
        permissions=key_permissions(scope, owner_permissions),
    )
