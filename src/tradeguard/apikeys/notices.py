"""What an API key's owner is told when a key of theirs is created, rotated or revoked.

The notice names the key (public id and label), its scope and lifetime, when and from
which device and address it happened, and how to revoke it; never its secret. It goes
out as a security notice, like a sign-in from a new device.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tradeguard.apikeys.models import ApiKey
from tradeguard.core.clock import ns_to_rfc3339

CREATED = "apikey_created"
ROTATED = "apikey_rotated"
REVOKED_AFTER_RESET = "apikeys_revoked"


@dataclass(frozen=True, slots=True)
class KeyNotice:
    """One email to a key's owner: its kind (after ``security.``), subject and text."""

    kind: str
    subject: str
    text: str


def created_notice(key: ApiKey, activity: str) -> KeyNotice:
    """A key was created; ``activity`` says when, from which device and address."""
    text = (
        "A new API key was created for your TradeGuard account.\n\n"
        f"{_key_lines(key)}\n{activity}\n\n"
        f"If this was not you, revoke it at once: DELETE /v1/api-keys/{key.id}."
    )
    return KeyNotice(CREATED, "A new API key was created", text)


def rotated_notice(old: ApiKey, new: ApiKey, activity: str) -> KeyNotice:
    """``old`` was rotated to ``new``; the old key works until the end of the overlap."""
    text = (
        "An API key of yours was rotated: a new key replaces it.\n\n"
        f"{_key_lines(new)}\n"
        f"Replaces: {old.key_id}, which keeps working until {ns_to_rfc3339(old.expires_at_ns)}\n"
        f"{activity}\n\n"
        "If this was not you, revoke both keys at once: "
        f"DELETE /v1/api-keys/{new.id} and DELETE /v1/api-keys/{old.id}."
    )
    return KeyNotice(ROTATED, "An API key was rotated", text)


def revoked_after_reset_notice(keys: Sequence[ApiKey], via: str) -> KeyNotice:
    """Every key listed was revoked because the account's credentials were reset (``via``)."""
    listed = "\n".join(f"- {key.key_id} ({key.label}), scope {key.scope}" for key in keys)
    text = (
        f"Your TradeGuard credentials were reset ({via.replace('_', ' ')}), so every API key "
        "of your account was revoked: a key made by whoever held the account before the "
        f"reset must not keep working.\n\nRevoked:\n{listed}\n\n"
        "Create new keys once you have signed in again (POST /v1/api-keys)."
    )
    return KeyNotice(REVOKED_AFTER_RESET, "Your API keys were revoked", text)


def _key_lines(key: ApiKey) -> str:
    return (
        f"Key: {key.key_id} ({key.label})\n"
        f"Scope: {key.scope}\n"
        f"Expires: {ns_to_rfc3339(key.expires_at_ns)}"
    )
