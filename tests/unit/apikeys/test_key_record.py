"""A key record as the request check caches it never shows its secret."""

from __future__ import annotations

from tradeguard.apikeys.directory import KeyRecord
from tradeguard.apikeys.scopes import Scope


def test_key_record_when_printed_then_the_secret_is_not_in_it() -> None:
    record = KeyRecord(
        id="k1",
        key_id="tgk_0123456789abcdef01234567",
        user_id="u1",
        scope=Scope.TRADING,
        secret="s3cr3t-value-that-must-not-leak",
        ip_allowlist=(),
        expires_at_ns=1,
        revoked=False,
        owner_active=True,
        owner_role="TRADER",
        owner_permission_version=1,
        owner_allowlist=(),
        permissions=frozenset({"order:place"}),
    )
    assert "s3cr3t" not in repr(record)
    assert "tgk_0123456789abcdef01234567" in repr(record)
