"""Issuing, listing, rotating and revoking API keys, each audited in its own transaction.

A key is created only from a stepped-up session. Its secret is shown once and stored
encrypted under the ``api_secret`` data class (the server recomputes every HMAC). Rotation
issues a successor and lets the old key work for the configured overlap. Creating and
rotating a key email its owner (``apikeys.notices``), never with the secret. A revocation
is published to every node through the shared state before the request returns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.apikeys.directory import KeyDirectory
from tradeguard.apikeys.models import ApiKey, new_key_id
from tradeguard.apikeys.notices import (
    KeyNotice,
    created_notice,
    revoked_after_reset_notice,
    rotated_notice,
)
from tradeguard.apikeys.problems import ApiKeyReason, not_allowed
from tradeguard.apikeys.replay import KeyStateStore
from tradeguard.apikeys.scopes import Scope, key_permissions
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.config import Settings
from tradeguard.core.clock import NS_PER_SECOND, Clock, ns_to_rfc3339
from tradeguard.core.ids import new_id
from tradeguard.identity.allowlist import normalize_allowlist
from tradeguard.identity.models import User
from tradeguard.identity.notices import Notices, activity_lines, address_of
from tradeguard.identity.origin import Origin
from tradeguard.identity.problems import not_found
from tradeguard.identity.secrets import random_token

NS_PER_HOUR = 3600 * NS_PER_SECOND
NS_PER_DAY = 24 * NS_PER_HOUR
SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class KeyAsk:
    """What a user asks for: a scope, a label, optionally addresses and a shorter life."""

    scope: Scope
    label: str
    ip_allowlist: tuple[str, ...] = ()
    days: int | None = None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key and its secret, which is shown this once."""

    key: ApiKey
    secret: str


class ApiKeyService:
    """The lifecycle of API keys."""

    def __init__(  # noqa: PLR0913 - the collaborators of key management
        self,
        settings: Settings,
        clock: Clock,
        audit: AuditTrail,
        *,
        notices: Notices,
        directory: KeyDirectory,
        store: KeyStateStore,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._audit = audit
        self._notices = notices
        self._directory = directory
        self._store = store

    def create(self, db: Session, caller: Caller, ask: KeyAsk) -> IssuedKey:
        """Issue a key for the caller; refused when their role has nothing the scope allows."""
        if not key_permissions(ask.scope, caller.principal.permissions):
            raise not_allowed(ApiKeyReason.SCOPE, f"your role has nothing a {ask.scope} key does")
        days = min(ask.days or self._settings.api_key_max_days, self._settings.api_key_max_days)
        networks = normalize_allowlist(ask.ip_allowlist)
        issued = self._issue(
            db,
            user_id=caller.user_id,
            scope=ask.scope,
            label=ask.label,
            networks=networks,
            days=days,
        )
        self._record(db, caller, "apikey.created", issued.key, {"days": days})
        self._tell_owner(db, issued.key, created_notice(issued.key, self._activity(caller)))
        return issued

    def owned(self, db: Session, user_id: str) -> list[ApiKey]:
        """The user's keys, newest first (revoked and expired ones included)."""
        query = select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at_ns)
        return list(reversed(db.scalars(query).all()))

    def rotate(self, db: Session, caller: Caller, key_row_id: str) -> IssuedKey:
        """Issue a successor; the old key works for the overlap, then stops."""
        old = self._own_live_key(db, caller, key_row_id)
        networks = json.loads(old.ip_allowlist) if old.ip_allowlist else []
        days = self._settings.api_key_max_days
        issued = self._issue(
            db,
            user_id=old.user_id,
            scope=Scope(old.scope),
            label=old.label,
            networks=networks,
            days=days,
        )
        now = self._clock.now_ns()
        overlap_end = now + self._settings.api_key_rotation_overlap_hours * NS_PER_HOUR
        old.rotated_at_ns = now
        old.replaced_by = issued.key.id
        old.expires_at_ns = min(old.expires_at_ns, overlap_end)
        self._directory.forget(old.key_id)
        data = {"successor": issued.key.key_id, "old_key_until": ns_to_rfc3339(old.expires_at_ns)}
        self._record(db, caller, "apikey.rotated", old, data)
        self._tell_owner(db, old, rotated_notice(old, issued.key, self._activity(caller)))
        return issued

    def revoke_own(self, db: Session, caller: Caller, key_row_id: str) -> ApiKey:
        """The owner revokes one of their keys."""
        return self._revoke(db, caller, self._own_key(db, caller, key_row_id), "owner")

    def revoke_reported(self, db: Session, caller: Caller, key_id: str, reason: str) -> ApiKey:
        """Staff revoke a key reported leaked, by its public id; the owner is emailed."""
        key = self.find(db, key_id)
        revoked = self._revoke(db, caller, key, reason)
        self._email_owner(
            db,
            key,
            "apikey.revoked",
            "An API key of yours was revoked",
            f"Your API key {key.key_id} ({key.label}) was revoked: {reason}.",
        )
        return revoked

    def revoke_after_reset(self, db: Session, user: User, origin: Origin, via: str) -> list[str]:
        """Revoke every live key of ``user`` whose credentials were just reset; email them once.

        Runs in the reset's transaction (the identity hook ``credential_resets``): a key
        made by whoever held the account before the reset must not outlive it. Returns
        the public ids of the keys revoked.
        """
        now = self._clock.now_ns()
        live = db.scalars(
            select(ApiKey)
            .where(
                ApiKey.user_id == user.id,
                ApiKey.revoked_at_ns.is_(None),
                ApiKey.expires_at_ns > now,
            )
            .order_by(ApiKey.created_at_ns)
        ).all()
        by = _Revoker(Actor("user", user.id, ip=origin.ip), origin.request_id)
        for key in live:
            self._revoke_as(db, by, key, via)
        if live:
            notice = revoked_after_reset_notice(live, via)
            self._notices.security(db, address_of(user), notice.kind, notice.subject, notice.text)
        return [key.key_id for key in live]

    def find(self, db: Session, key_id: str) -> ApiKey:
        """A key by its public id (for staff), 404 when there is none."""
        key = db.scalars(select(ApiKey).where(ApiKey.key_id == key_id)).one_or_none()
        if key is None:
            raise not_found("API key")
        return key

    def warn_expiring(self, db: Session) -> int:
        """Email owners of live keys expiring within the warning period, once per key."""
        now = self._clock.now_ns()
        horizon = now + self._settings.api_key_expiry_warning_days * NS_PER_DAY
        due = db.scalars(
            select(ApiKey).where(
                ApiKey.revoked_at_ns.is_(None),
                ApiKey.replaced_by.is_(None),
                ApiKey.expiry_warned_at_ns.is_(None),
                ApiKey.expires_at_ns > now,
                ApiKey.expires_at_ns <= horizon,
            )
        ).all()
        for key in due:
            key.expiry_warned_at_ns = now
            self._warn(db, key)
        return len(due)

    def status_of(self, key: ApiKey) -> str:
        """``revoked``, ``expired``, ``rotated`` (working through its overlap) or ``active``."""
        if key.revoked_at_ns is not None:
            return "revoked"
        if key.expires_at_ns <= self._clock.now_ns():
            return "expired"
        return "rotated" if key.replaced_by is not None else "active"

    def expiring_soon(self, key: ApiKey) -> bool:
        """Whether a live key expires within the warning period (flagged in the list)."""
        now = self._clock.now_ns()
        horizon = now + self._settings.api_key_expiry_warning_days * NS_PER_DAY
        live = key.revoked_at_ns is None and key.replaced_by is None
        return live and now < key.expires_at_ns <= horizon

    def _issue(  # noqa: PLR0913 - what a key is made of
        self,
        db: Session,
        *,
        user_id: str,
        scope: Scope,
        label: str,
        networks: list[str],
        days: int,
    ) -> IssuedKey:
        now = self._clock.now_ns()
        secret = random_token(SECRET_BYTES)
        key = ApiKey(
            id=str(new_id(self._clock)),
            key_id=new_key_id(),
            user_id=user_id,
            label=label,
            scope=scope.value,
            ip_allowlist=json.dumps(networks) if networks else None,
            secret=secret,
            created_at_ns=now,
            expires_at_ns=now + days * NS_PER_DAY,
        )
        db.add(key)
        db.flush()
        return IssuedKey(key, secret)

    def _revoke(self, db: Session, caller: Caller, key: ApiKey, reason: str) -> ApiKey:
        return self._revoke_as(db, _Revoker(caller.actor, caller.request_id), key, reason)

    def _revoke_as(self, db: Session, by: _Revoker, key: ApiKey, reason: str) -> ApiKey:
        if key.revoked_at_ns is None:
            key.revoked_at_ns = self._clock.now_ns()
            key.revoked_by = by.actor.id
            key.revoke_reason = reason[:200]
            data = self._described(key, {"reason": key.revoke_reason})
            self._audit.record(
                db,
                "apikey.revoked",
                by.actor,
                subject=key.key_id,
                data=data,
                request_id=by.request_id,
            )
        remaining_ns = max(key.expires_at_ns - key.revoked_at_ns, 0)
        self._store.mark_revoked(key.key_id, remaining_ns // 1_000_000 + 60_000)
        self._directory.forget(key.key_id)
        return key

    def _own_key(self, db: Session, caller: Caller, key_row_id: str) -> ApiKey:
        key = db.get(ApiKey, key_row_id)
        if key is None or key.user_id != caller.user_id:
            raise not_found("API key")  # another user's key does not exist for the caller
        return key

    def _own_live_key(self, db: Session, caller: Caller, key_row_id: str) -> ApiKey:
        key = self._own_key(db, caller, key_row_id)
        if self.status_of(key) != "active":  # revoked, expired or already rotated
            raise not_found("live API key")
        return key

    def _warn(self, db: Session, key: ApiKey) -> None:
        until = ns_to_rfc3339(key.expires_at_ns)
        text = (
            f"Your API key {key.key_id} ({key.label}) expires at {until}.\n\n"
            "Rotate it (POST /v1/api-keys/{id}/rotate) to keep your integration working."
        )
        self._email_owner(db, key, "apikey.expiring", "An API key of yours expires soon", text)
        self._audit.record(
            db,
            "apikey.expiry.warned",
            Actor.system(),
            subject=key.key_id,
            data={"user_id": key.user_id, "expires_at": until},
        )

    def _activity(self, caller: Caller) -> str:
        """When, and from which device and address, the caller acts now."""
        origin = caller.origin
        return activity_lines(origin.device_label, origin.ip, self._clock.now_ns())

    def _tell_owner(self, db: Session, key: ApiKey, notice: KeyNotice) -> None:
        owner = db.get_one(User, key.user_id)
        self._notices.security(db, address_of(owner), notice.kind, notice.subject, notice.text)

    def _email_owner(self, db: Session, key: ApiKey, kind: str, subject: str, text: str) -> None:
        owner = db.get_one(User, key.user_id)
        self._notices.email(db, address_of(owner), kind, subject, text)

    def _record(
        self, db: Session, caller: Caller, event: str, key: ApiKey, extra: Mapping[str, object]
    ) -> None:
        data = self._described(key, extra)
        self._audit.record(
            db, event, caller.actor, subject=key.key_id, data=data, request_id=caller.request_id
        )

    @staticmethod
    def _described(key: ApiKey, extra: Mapping[str, object]) -> dict[str, object]:
        """What an audit event says of ``key``, with ``extra``."""
        data: dict[str, object] = {
            "key_id": key.key_id,
            "owner": key.user_id,
            "scope": key.scope,
            "label": key.label,
            "expires_at": ns_to_rfc3339(key.expires_at_ns),
        }
        data.update(extra)
        return data


@dataclass(frozen=True, slots=True)
class _Revoker:
    """Who revokes a key, as audited, and in which request."""

    actor: Actor
    request_id: str | None
