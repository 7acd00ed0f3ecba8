"""WebAuthn ceremonies: passkeys, platform authenticators and security keys.

Pure ceremony logic on top of ``py_webauthn``: the caller stores the challenges and the
credentials. Every refusal is a :class:`WebAuthnError` with a stable ``reason``; input from
the browser is checked for shape and size before the library sees it, and no library
exception escapes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.authentication.verify_authentication_response import VerifiedAuthentication
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialHint,
    PublicKeyCredentialRequestOptions,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from tradeguard.core.errors import ConfigurationError, TradeGuardError

JSONObject = dict[str, Any]
_Result = TypeVar("_Result")

CEREMONY_TIMEOUT_MS = 300_000
"""How long the browser may take; the caller should expire stored challenges no later."""

MIN_CHALLENGE_BYTES = 16
CREDENTIAL_ID_MAX_BYTES = 1023
USER_HANDLE_MAX_BYTES = 64
USER_NAME_MAX_CHARS = 256
CLIENT_DATA_MAX_BYTES = 8 * 1024
ATTESTATION_OBJECT_MAX_BYTES = 64 * 1024
AUTHENTICATOR_DATA_MAX_BYTES = 8 * 1024
SIGNATURE_MAX_BYTES = 1024
_DETAIL_MAX_CHARS = 200

SUPPORTED_ALGORITHMS = (
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
)
_KNOWN_TRANSPORTS = frozenset(transport.value for transport in AuthenticatorTransport)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_PUBLIC_KEY_TYPE = "public-key"
_LOCALHOST = "localhost"


class WebAuthnReason(StrEnum):
    """Stable reasons a WebAuthn ceremony is refused."""

    INVALID = "WEBAUTHN_INVALID"
    MALFORMED = "WEBAUTHN_MALFORMED"
    USER_NOT_VERIFIED = "WEBAUTHN_USER_NOT_VERIFIED"
    CREDENTIAL_MISMATCH = "WEBAUTHN_CREDENTIAL_MISMATCH"
    BAD_OPTIONS = "WEBAUTHN_BAD_OPTIONS"


class WebAuthnError(TradeGuardError):
    """A WebAuthn ceremony was refused; ``reason`` is stable, ``detail`` is for operators."""

    def __init__(self, reason: WebAuthnReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class AuthenticatorKind(StrEnum):
    """Which authenticators a registration asks the browser for."""

    PLATFORM = "platform"
    """Built into the device: Face ID, Touch ID, Windows Hello."""
    SECURITY_KEY = "security-key"
    """Roaming, cross-platform: a YubiKey over USB or NFC."""
    ANY = "any"
    """Either: a passkey wherever the user keeps it."""


@dataclass(frozen=True)
class RelyingParty:
    """This service as WebAuthn sees it: RP ID, display name and the origins allowed."""

    rp_id: str
    rp_name: str
    origins: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.rp_id or not self.rp_name:
            raise ConfigurationError("a WebAuthn relying party needs an RP ID and a name")
        if not self.origins:
            raise ConfigurationError("a WebAuthn relying party needs at least one origin")
        for origin in self.origins:
            _check_origin(self.rp_id, origin)


@dataclass(frozen=True)
class StoredCredential:
    """A registered credential as the caller keeps it."""

    credential_id: bytes
    public_key: bytes
    """The COSE-encoded public key."""
    sign_count: int
    transports: tuple[str, ...]
    user_handle: bytes
    backed_up: bool
    aaguid: str


@dataclass(frozen=True)
class AuthenticationResult:
    """What a verified assertion tells the caller to store and to audit."""

    new_sign_count: int
    """The counter to store: the reported one, never lower than the stored one."""
    counter_regressed: bool
    """The counter did not grow: the authenticator may have been cloned; flag and audit it."""
    user_verified: bool
    backed_up: bool
    reported_sign_count: int
    """The counter exactly as the authenticator reported it."""


def registration_options(  # noqa: PLR0913 - the WebAuthn user entity and policy are all needed
    rp: RelyingParty,
    *,
    user_handle: bytes,
    user_name: str,
    display_name: str,
    kind: AuthenticatorKind,
    exclude: Sequence[StoredCredential],
    resident_key: bool,
) -> tuple[JSONObject, bytes]:
    """The options for ``navigator.credentials.create()`` and the challenge to store."""
    _check_user(user_handle, user_name, display_name)
    options = generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=rp.rp_name,
        user_id=user_handle,
        user_name=user_name,
        user_display_name=display_name,
        timeout=CEREMONY_TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=_selection(kind, resident_key=resident_key),
        exclude_credentials=[_descriptor(credential) for credential in exclude],
        supported_pub_key_algs=list(SUPPORTED_ALGORITHMS),
        hints=_hints(kind),
    )
    return _options_json(options), options.challenge


def verify_registration(
    rp: RelyingParty,
    *,
    credential: Mapping[str, object],
    expected_challenge: bytes,
    user_handle: bytes,
) -> StoredCredential:
    """Verify the browser's answer to registration options; the credential to store."""
    _check_expected_challenge(expected_challenge)
    clean = _registration_json(credential)
    verified = _refusing_on_failure(
        lambda: verify_registration_response(
            credential=clean,
            expected_challenge=expected_challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=list(rp.origins),
            require_user_verification=False,  # checked below, for its own reason
            supported_pub_key_algs=list(SUPPORTED_ALGORITHMS),
        )
    )
    _require_user_verified(user_verified=verified.user_verified)
    if verified.credential_id != credential_id_from(clean):
        raise WebAuthnError(WebAuthnReason.INVALID, "rawId is not the attested credential ID")
    return StoredCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=_transports(clean),
        user_handle=user_handle,
        backed_up=verified.credential_backed_up,
        aaguid=verified.aaguid,
    )


def authentication_options(
    rp: RelyingParty, *, allow: Sequence[StoredCredential]
) -> tuple[JSONObject, bytes]:
    """The options for ``navigator.credentials.get()`` and the challenge to store.

    An empty ``allow`` asks for a discoverable credential: passwordless sign-in, where the
    assertion's user handle says who is signing in.
    """
    options = generate_authentication_options(
        rp_id=rp.rp_id,
        timeout=CEREMONY_TIMEOUT_MS,
        allow_credentials=[_descriptor(credential) for credential in allow],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return _options_json(options), options.challenge


def verify_authentication(
    rp: RelyingParty,
    *,
    credential: Mapping[str, object],
    expected_challenge: bytes,
    stored: StoredCredential,
) -> AuthenticationResult:
    """Verify the browser's assertion against the stored credential it names."""
    _check_expected_challenge(expected_challenge)
    clean = _assertion_json(credential)
    _require_stored_credential(clean, stored)
    verified = _refusing_on_failure(
        lambda: verify_authentication_response(
            credential=clean,
            expected_challenge=expected_challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=list(rp.origins),
            credential_public_key=stored.public_key,
            # The library refuses a counter that did not grow; a zero here switches that
            # off so a possible clone is reported to the caller instead (see the result).
            credential_current_sign_count=0,
            require_user_verification=False,  # checked below, for its own reason
        )
    )
    _require_user_verified(user_verified=verified.user_verified)
    return _authentication_result(stored, verified)


def credential_id_from(credential: Mapping[str, object]) -> bytes:
    """The credential ID a browser response names (``rawId``, else ``id``)."""
    body = _require_mapping(credential, "credential")
    raw_id, text_id = body.get("rawId"), body.get("id")
    if raw_id is None and text_id is None:
        raise WebAuthnError(WebAuthnReason.MALFORMED, "credential has no rawId or id")
    decoded = {
        _decode(value, name, CREDENTIAL_ID_MAX_BYTES)
        for name, value in (("rawId", raw_id), ("id", text_id))
        if value is not None
    }
    if len(decoded) != 1:
        raise WebAuthnError(WebAuthnReason.MALFORMED, "rawId and id differ")
    credential_id = decoded.pop()
    if not credential_id:
        raise WebAuthnError(WebAuthnReason.MALFORMED, "credential ID is empty")
    return credential_id


def user_handle_from(credential: Mapping[str, object]) -> bytes | None:
    """The user handle an assertion carries (passwordless sign-in), or None without one."""
    body = _require_mapping(credential, "credential")
    response = _require_mapping(body.get("response"), "response")
    handle = response.get("userHandle")
    if handle is None or handle == "":
        return None
    return _decode(handle, "userHandle", USER_HANDLE_MAX_BYTES)


def _check_origin(rp_id: str, origin: str) -> None:
    parts = urlsplit(origin)
    host = parts.hostname or ""
    secure = parts.scheme == "https" or (parts.scheme == "http" and host == _LOCALHOST)
    within = host == rp_id or host.endswith(f".{rp_id}")
    bare = not (parts.path or parts.query or parts.fragment)
    if not (secure and within and bare):
        raise ConfigurationError(f"WebAuthn origin {origin!r} does not fit RP ID {rp_id!r}")


def _check_user(user_handle: bytes, user_name: str, display_name: str) -> None:
    if not 0 < len(user_handle) <= USER_HANDLE_MAX_BYTES:
        raise WebAuthnError(WebAuthnReason.BAD_OPTIONS, "user handle must be 1 to 64 bytes")
    for name in (user_name, display_name):
        if not 0 < len(name) <= USER_NAME_MAX_CHARS:
            raise WebAuthnError(WebAuthnReason.BAD_OPTIONS, "user names must be 1 to 256 chars")


def _selection(kind: AuthenticatorKind, *, resident_key: bool) -> AuthenticatorSelectionCriteria:
    attachment = {
        AuthenticatorKind.PLATFORM: AuthenticatorAttachment.PLATFORM,
        AuthenticatorKind.SECURITY_KEY: AuthenticatorAttachment.CROSS_PLATFORM,
    }.get(kind)
    # Discouraged rather than preferred: a security key has few slots for resident keys.
    residency = (
        ResidentKeyRequirement.REQUIRED if resident_key else ResidentKeyRequirement.DISCOURAGED
    )
    return AuthenticatorSelectionCriteria(
        authenticator_attachment=attachment,
        resident_key=residency,
        user_verification=UserVerificationRequirement.REQUIRED,
    )


def _hints(kind: AuthenticatorKind) -> list[PublicKeyCredentialHint] | None:
    hint = {
        AuthenticatorKind.PLATFORM: PublicKeyCredentialHint.CLIENT_DEVICE,
        AuthenticatorKind.SECURITY_KEY: PublicKeyCredentialHint.SECURITY_KEY,
    }.get(kind)
    return None if hint is None else [hint]


def _descriptor(credential: StoredCredential) -> PublicKeyCredentialDescriptor:
    transports = [
        AuthenticatorTransport(transport)
        for transport in credential.transports
        if transport in _KNOWN_TRANSPORTS
    ]
    return PublicKeyCredentialDescriptor(id=credential.credential_id, transports=transports)


def _options_json(
    options: PublicKeyCredentialCreationOptions | PublicKeyCredentialRequestOptions,
) -> JSONObject:
    parsed: JSONObject = json.loads(options_to_json(options))
    return parsed


def _check_expected_challenge(expected_challenge: bytes) -> None:
    # An empty expected challenge would match a client that signed an empty one.
    if len(expected_challenge) < MIN_CHALLENGE_BYTES:
        raise WebAuthnError(WebAuthnReason.BAD_OPTIONS, "expected challenge is too short")


def _registration_json(credential: Mapping[str, object]) -> JSONObject:
    body = _require_mapping(credential, "credential")
    response = _require_mapping(body.get("response"), "response")
    clean_response = {
        "clientDataJSON": _base64url(response, "clientDataJSON", CLIENT_DATA_MAX_BYTES),
        "attestationObject": _base64url(
            response, "attestationObject", ATTESTATION_OBJECT_MAX_BYTES
        ),
        "transports": list(_reported_transports(response.get("transports"))),
    }
    return _credential_json(body, clean_response)


def _assertion_json(credential: Mapping[str, object]) -> JSONObject:
    body = _require_mapping(credential, "credential")
    response = _require_mapping(body.get("response"), "response")
    clean_response: JSONObject = {
        "clientDataJSON": _base64url(response, "clientDataJSON", CLIENT_DATA_MAX_BYTES),
        "authenticatorData": _base64url(
            response, "authenticatorData", AUTHENTICATOR_DATA_MAX_BYTES
        ),
        "signature": _base64url(response, "signature", SIGNATURE_MAX_BYTES),
    }
    if user_handle_from(body) is not None:
        clean_response["userHandle"] = response["userHandle"]
    return _credential_json(body, clean_response)


def _credential_json(body: Mapping[str, object], clean_response: JSONObject) -> JSONObject:
    if body.get("type") != _PUBLIC_KEY_TYPE:
        raise WebAuthnError(WebAuthnReason.MALFORMED, "credential type is not public-key")
    credential_id_from(body)
    return {
        "id": _base64url(body, "id", CREDENTIAL_ID_MAX_BYTES),
        "rawId": _base64url(body, "rawId", CREDENTIAL_ID_MAX_BYTES),
        "type": _PUBLIC_KEY_TYPE,
        "response": clean_response,
    }


def _reported_transports(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > len(_KNOWN_TRANSPORTS):
        raise WebAuthnError(WebAuthnReason.MALFORMED, "transports is not a short list")
    # Unknown transports are dropped, as the specification asks of relying parties.
    return tuple(sorted({item for item in value if isinstance(item, str)} & _KNOWN_TRANSPORTS))


def _transports(clean: JSONObject) -> tuple[str, ...]:
    return tuple(clean["response"]["transports"])


def _require_stored_credential(clean: JSONObject, stored: StoredCredential) -> None:
    if credential_id_from(clean) != stored.credential_id:
        raise WebAuthnError(
            WebAuthnReason.CREDENTIAL_MISMATCH, "assertion is for another credential"
        )
    handle = user_handle_from(clean)
    if handle is not None and handle != stored.user_handle:
        raise WebAuthnError(
            WebAuthnReason.CREDENTIAL_MISMATCH, "assertion is for another user handle"
        )


def _require_user_verified(*, user_verified: bool) -> None:
    if not user_verified:
        raise WebAuthnError(
            WebAuthnReason.USER_NOT_VERIFIED, "the authenticator did not verify the user"
        )


def _authentication_result(
    stored: StoredCredential, verified: VerifiedAuthentication
) -> AuthenticationResult:
    reported = verified.new_sign_count
    # Synced passkeys always report 0, so a counter only means something once it is non-zero.
    regressed = stored.sign_count > 0 and reported <= stored.sign_count
    return AuthenticationResult(
        new_sign_count=max(stored.sign_count, reported),
        counter_regressed=regressed,
        user_verified=verified.user_verified,
        backed_up=verified.credential_backed_up,
        reported_sign_count=reported,
    )


def _refusing_on_failure(verify: Callable[[], _Result]) -> _Result:
    try:
        return verify()
    # The library parses untrusted CBOR, JSON and keys and raises many exception types
    # (its own, ValueError, KeyError, TypeError, IndexError, RecursionError...); every one
    # of them means the response is refused.
    except Exception as failure:
        detail = f"{type(failure).__name__}: {failure}"[:_DETAIL_MAX_CHARS]
        raise WebAuthnError(WebAuthnReason.INVALID, detail) from failure


def _require_mapping(value: object, name: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise WebAuthnError(WebAuthnReason.MALFORMED, f"{name} is not a JSON object")
    return value


def _base64url(body: Mapping[str, object], name: str, max_bytes: int) -> str:
    value = body.get(name)
    _decode(value, name, max_bytes)
    return str(value)


def _decode(value: object, name: str, max_bytes: int) -> bytes:
    max_chars = (max_bytes * 4 + 2) // 3 + 2
    if not isinstance(value, str) or len(value) > max_chars or not _BASE64URL.fullmatch(value):
        raise WebAuthnError(WebAuthnReason.MALFORMED, f"{name} is not base64url within bounds")
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
    except binascii.Error as error:
        raise WebAuthnError(WebAuthnReason.MALFORMED, f"{name} is not base64url") from error
    if len(decoded) > max_bytes:
        raise WebAuthnError(WebAuthnReason.MALFORMED, f"{name} is longer than {max_bytes} bytes")
    return decoded
