"""The check of a signed request: headers, timestamp, key, signature, address, nonce, owner.

The order matters. Cheap checks that need no secret come first; the nonce is claimed only
after the signature holds, so unsigned noise never fills the nonce store. Every refusal is
audited through the buffered writer (a flood of bad signatures costs no write per request).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from tradeguard.apikeys.directory import KeyDirectory, KeyRecord
from tradeguard.apikeys.events import RefusedRequest
from tradeguard.apikeys.models import is_key_id
from tradeguard.apikeys.problems import ApiKeyReason, malformed, not_allowed, refused
from tradeguard.apikeys.replay import KeyStateStore
from tradeguard.apikeys.signed_request import SignedRequest
from tradeguard.apikeys.signing import (
    HEADER_KEY,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    SIGNATURE,
    TIMESTAMP,
    canonical_string,
    signature,
    signatures_match,
    valid_nonce,
)
from tradeguard.core.clock import Clock
from tradeguard.core.errors import ProblemError
from tradeguard.core.principal import Principal
from tradeguard.identity.allowlist import allowed
from tradeguard.identity.problems import AuthReason, forbidden, unauthenticated

NS_PER_MS = 1_000_000
AMR_SIGNED = ("hmac",)


@dataclass(frozen=True, slots=True)
class SigningHeaders:
    """The four signing headers, each checked for its format."""

    key_id: str
    timestamp: str
    nonce: str
    signature: str

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> SigningHeaders:
        """The headers of a request; APIKEY_MALFORMED when one is missing or malformed."""
        found = cls(
            key_id=headers.get(HEADER_KEY, ""),
            timestamp=headers.get(HEADER_TIMESTAMP, ""),
            nonce=headers.get(HEADER_NONCE, ""),
            signature=headers.get(HEADER_SIGNATURE, "").lower(),
        )
        if TIMESTAMP.fullmatch(found.timestamp) is None:
            raise malformed(f"{HEADER_TIMESTAMP} must be Unix time in milliseconds")
        if not valid_nonce(found.nonce):
            raise malformed(f"{HEADER_NONCE} must be ≥ 128 random bits, hex or base64url")
        if SIGNATURE.fullmatch(found.signature) is None:
            raise malformed(f"{HEADER_SIGNATURE} must be 64 hex digits (HMAC-SHA256)")
        return found


class RequestVerifier:
    """Turns a signed request into the principal of its key's owner, or refuses it."""

    def __init__(
        self,
        directory: KeyDirectory,
        store: KeyStateStore,
        clock: Clock,
        window_seconds: int,
        audit: Callable[[RefusedRequest], None],
    ) -> None:
        self._directory = directory
        self._store = store
        self._clock = clock
        self._window_ns = window_seconds * 1_000_000_000
        self._nonce_ttl_ms = 2 * window_seconds * 1000
        self._audit = audit

    @property
    def directory(self) -> KeyDirectory:
        """The cached key records this verifier reads."""
        return self._directory

    def verify(self, request: SignedRequest) -> Principal:
        """The principal the request's key acts for; a problem (and an audit event) if refused."""
        try:
            return self._verify(request)
        except ProblemError as refusal:
            self._audit(RefusedRequest.of(request, refusal.reason_code, self._clock.now_ns()))
            raise

    def _verify(self, request: SignedRequest) -> Principal:
        headers = SigningHeaders.of(request.headers)
        now_ns = self._clock.now_ns()
        self._check_timestamp(headers.timestamp, now_ns)
        key = self._usable_key(headers.key_id, now_ns)
        self._check_signature(key, headers, request)
        if not allowed(key.ip_allowlist, request.ip):
            raise not_allowed(ApiKeyReason.IP_NOT_ALLOWED, "this key may not be used from here")
        self._claim_nonce(key, headers)
        return _owner_principal(key, request.ip)

    def _check_timestamp(self, timestamp: str, now_ns: int) -> None:
        skew_ns = int(timestamp) * NS_PER_MS - now_ns
        if abs(skew_ns) > self._window_ns:
            raise refused(
                ApiKeyReason.TIMESTAMP_SKEW,
                "the request's timestamp is too far from the server's clock",
                server_time_ms=now_ns // NS_PER_MS,
                window_ms=self._window_ns // NS_PER_MS,
            )

    def _usable_key(self, key_id: str, now_ns: int) -> KeyRecord:
        key = self._directory.lookup(key_id) if is_key_id(key_id) else None
        if key is None or not key.usable_at(now_ns):
            raise refused(ApiKeyReason.INVALID, "the API key is unknown, revoked or expired")
        return key

    @staticmethod
    def _check_signature(key: KeyRecord, headers: SigningHeaders, request: SignedRequest) -> None:
        canonical = canonical_string(
            headers.timestamp,
            headers.nonce,
            request.method,
            request.path,
            request.query,
            request.body,
        )
        if not signatures_match(signature(key.secret, canonical), headers.signature):
            raise refused(ApiKeyReason.BAD_SIGNATURE, "the signature does not match the request")

    def _claim_nonce(self, key: KeyRecord, headers: SigningHeaders) -> None:
        admission = self._store.admit(key.key_id, headers.nonce, self._nonce_ttl_ms)
        if admission.revoked:
            self._directory.forget(key.key_id)
            raise refused(ApiKeyReason.INVALID, "the API key is unknown, revoked or expired")
        if not admission.nonce_fresh:
            raise refused(ApiKeyReason.REPLAY, "this nonce was already used")
        if int(headers.timestamp) < admission.since_ms:
            raise refused(
                ApiKeyReason.NONCES_RESTARTED,
                "the nonce store restarted after this request was signed, so it cannot tell it "
                "from a replay: sign the request again with a fresh timestamp and nonce",
                nonces_since_ms=admission.since_ms,
            )


def _owner_principal(key: KeyRecord, ip: str | None) -> Principal:
    if not key.owner_active:
        raise unauthenticated(AuthReason.ACCOUNT_SUSPENDED, "the account is suspended")
    if not allowed(key.owner_allowlist, ip):
        raise forbidden(AuthReason.IP_NOT_ALLOWED, "requests are not allowed from this address")
    return Principal(
        user_id=key.user_id,
        session_id=f"apikey:{key.key_id}",
        role=key.owner_role,
        permissions=key.permissions,
        amr=AMR_SIGNED,
        enrollment_only=False,
        state=None,
        api_key_id=key.key_id,
        api_key_scope=key.scope.value,
    )
