"""HashiCorp Vault transit as the key-encryption key: the wrapping key never leaves Vault.

Transit's own associated-data support depends on the Vault version and key type,
so the associated data is bound here instead: SHA-256 of it is prefixed to the
plaintext before encryption and compared in constant time after decryption.
A stored blob is the format byte ``0x02`` followed by Vault's ASCII ciphertext
(``vault:v<N>:<base64>``), so it names the key version that wrapped it.

Content problems (wrong marker, tampered or foreign ciphertext, other associated
data) raise ``UnwrapError``; Vault being unreachable, sealed or refusing the
token raises ``KekUnavailableError``. Messages never carry the token or key
material.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable
from http import HTTPStatus
from ipaddress import ip_address
from urllib.parse import urlsplit

import hvac
from hvac import exceptions as vault_errors

from tradeguard.config import Settings
from tradeguard.core.errors import ConfigurationError, TradeGuardError
from tradeguard.crypto.kek import UnwrapError
from tradeguard.crypto.runtime import require_vault_settings

VAULT_FORMAT = b"\x02"
AD_DIGEST_BYTES = 32
DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_MOUNT_POINT = "transit"
NO_CONTENT = HTTPStatus.NO_CONTENT

_CIPHERTEXT = re.compile(r"vault:v(?P<version>[1-9][0-9]{0,9}):(?P<body>[A-Za-z0-9+/]+={0,2})")
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
_LOOPBACK_NAMES = frozenset({"localhost"})
_CONTENT_REFUSAL = "the ciphertext is not from this key, was altered, or is malformed"
_KEY_REFUSAL = "check that the key exists and its type allows it"
_REFUSAL_HINTS = {
    "encrypt": _KEY_REFUSAL,
    "decrypt": _CONTENT_REFUSAL,
    "rewrap": _CONTENT_REFUSAL,
    "rotate": _KEY_REFUSAL,
}


class KekUnavailableError(TradeGuardError):
    """Vault could not be used: unreachable, timed out, sealed, or the token was refused."""


class VaultTransitKek:
    """Wraps secrets with a named key of Vault's transit engine."""

    def __init__(
        self, client: hvac.Client, *, key_name: str, mount_point: str = DEFAULT_MOUNT_POINT
    ) -> None:
        _check_path(mount_point, "transit mount point", allow_slashes=True)
        _check_path(key_name, "transit key name", allow_slashes=False)
        self._client = client
        self._mount_point = mount_point
        self._key_name = key_name

    @classmethod
    def connect(  # noqa: PLR0913 - each argument is one independent Vault connection setting
        cls,
        url: str,
        token: str,
        *,
        key_name: str,
        mount_point: str = DEFAULT_MOUNT_POINT,
        namespace: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        verify: bool | str = True,
    ) -> VaultTransitKek:
        """Build a client with a short timeout, no redirects and no environment fallbacks."""
        _check_url(url)
        if not token:
            raise ConfigurationError("the Vault token is empty")
        # Redirects are refused: requests would replay the X-Vault-Token header to the new host.
        client = hvac.Client(
            url=url,
            token=token,
            namespace=namespace,
            timeout=timeout,
            verify=verify,
            allow_redirects=False,
        )
        return cls(client, key_name=key_name, mount_point=mount_point)

    @property
    def kek_id(self) -> str:
        """``vault:<mount>/<key>``, naming the transit key that wraps the blobs."""
        return f"vault:{self._mount_point}/{self._key_name}"

    def wrap(self, secret: bytes, associated_data: bytes) -> bytes:
        """Encrypt the AD digest and ``secret`` in Vault under the key's latest version."""
        plaintext = _ad_digest(associated_data) + secret
        response = self._transit(
            "encrypt",
            KekUnavailableError,
            lambda: self._client.secrets.transit.encrypt_data(
                name=self._key_name, plaintext=_b64(plaintext), mount_point=self._mount_point
            ),
        )
        return VAULT_FORMAT + self._returned_ciphertext(response).encode("ascii")

    def unwrap(self, blob: bytes, associated_data: bytes) -> bytes:
        """Decrypt a blob from ``wrap`` in Vault and check its associated-data binding."""
        ciphertext = _parse_blob(blob)[0]
        response = self._transit(
            "decrypt",
            UnwrapError,
            lambda: self._client.secrets.transit.decrypt_data(
                name=self._key_name, ciphertext=ciphertext, mount_point=self._mount_point
            ),
        )
        return _strip_ad_digest(self._returned_plaintext(response), associated_data)

    def rewrap(self, blob: bytes, associated_data: bytes) -> bytes:
        """Re-encrypt a blob under the latest key version without the secret leaving Vault."""
        ciphertext = _parse_blob(blob)[0]
        response = self._transit(
            "rewrap",
            UnwrapError,
            lambda: self._client.secrets.transit.rewrap_data(
                name=self._key_name, ciphertext=ciphertext, mount_point=self._mount_point
            ),
        )
        rewrapped = VAULT_FORMAT + self._returned_ciphertext(response).encode("ascii")
        # Fail closed: hand back only a blob proven to open under the same associated data.
        self.unwrap(rewrapped, associated_data)
        return rewrapped

    def rotate(self) -> None:
        """Add a new key version in Vault; new wraps use it, old blobs still unwrap."""
        response = self._transit(
            "rotate",
            KekUnavailableError,
            lambda: self._client.secrets.transit.rotate_key(
                name=self._key_name, mount_point=self._mount_point
            ),
        )
        # Vault answers 200 with the key (newer versions) or 204; anything else, such as a
        # redirect that was not followed, means the rotation did not happen.
        if not isinstance(response, dict) and getattr(response, "status_code", None) != NO_CONTENT:
            raise KekUnavailableError(f"Vault did not confirm rotating {self.kek_id}")

    def close(self) -> None:
        """Close the HTTP session to Vault."""
        self._client.adapter.close()

    def _transit(
        self, operation: str, refused: type[TradeGuardError], call: Callable[[], object]
    ) -> object:
        """Run one transit call, mapping failures to ``refused`` (HTTP 400) or unavailability."""
        try:
            return call()
        except vault_errors.InvalidRequest as exc:
            raise refused(
                f"Vault transit key {self.kek_id} refused to {operation}: "
                f"{_REFUSAL_HINTS[operation]}"
            ) from exc
        # requests' exceptions (connection refused, timeout, TLS, bad JSON) derive from OSError.
        except (vault_errors.VaultError, OSError) as exc:
            raise KekUnavailableError(
                f"Vault transit key {self.kek_id} is unavailable for {operation}: {_reason(exc)}"
            ) from exc

    def _returned_ciphertext(self, response: object) -> str:
        """The ``vault:v<N>:...`` ciphertext of an encrypt or rewrap response."""
        ciphertext = _data_field(response, "ciphertext")
        if ciphertext is None or not _CIPHERTEXT.fullmatch(ciphertext):
            raise KekUnavailableError(f"Vault transit key {self.kek_id} returned no ciphertext")
        return ciphertext

    def _returned_plaintext(self, response: object) -> bytes:
        """The decoded plaintext of a decrypt response."""
        encoded = _data_field(response, "plaintext")
        if encoded is None:
            raise KekUnavailableError(f"Vault transit key {self.kek_id} returned no plaintext")
        try:
            return base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise UnwrapError(
                f"Vault transit key {self.kek_id} returned a malformed plaintext"
            ) from None


def vault_kek_from_settings(settings: Settings) -> VaultTransitKek:
    """The transit KEK named by the ``TRADEGUARD_VAULT_*`` settings."""
    url, token = require_vault_settings(settings)
    return VaultTransitKek.connect(
        url, token, key_name=settings.vault_transit_key, mount_point=settings.vault_transit_mount
    )


def wrapped_key_version(blob: bytes) -> int:
    """The transit key version that wrapped ``blob``; raises UnwrapError if it is not one."""
    return int(_parse_blob(blob)["version"])


def _parse_blob(blob: bytes) -> re.Match[str]:
    """Vault's ciphertext inside a blob (whole match), after checking marker, shape and base64."""
    if blob[:1] != VAULT_FORMAT:
        raise UnwrapError("wrapped key has an unknown format (not a Vault transit blob)")
    try:
        ciphertext = blob[1:].decode("ascii")
    except UnicodeDecodeError:
        raise UnwrapError("wrapped key is not a Vault transit ciphertext") from None
    match = _CIPHERTEXT.fullmatch(ciphertext)
    if match is None:
        raise UnwrapError("wrapped key is not a Vault transit ciphertext")
    try:
        base64.b64decode(match["body"], validate=True)
    except binascii.Error:
        raise UnwrapError("wrapped key has malformed base64") from None
    return match


def _strip_ad_digest(plaintext: bytes, associated_data: bytes) -> bytes:
    """The secret after its AD digest, if the digest matches ``associated_data``."""
    digest, secret = plaintext[:AD_DIGEST_BYTES], plaintext[AD_DIGEST_BYTES:]
    if len(digest) != AD_DIGEST_BYTES or not hmac.compare_digest(
        digest, _ad_digest(associated_data)
    ):
        raise UnwrapError("wrapped key was bound to different associated data")
    return secret


def _ad_digest(associated_data: bytes) -> bytes:
    return hashlib.sha256(associated_data).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _data_field(response: object, name: str) -> str | None:
    """A string field of a Vault response's ``data`` object, or None."""
    data = response.get("data") if isinstance(response, dict) else None
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _reason(exc: Exception) -> str:
    """Why Vault could not be used, without echoing the request (and so the token)."""
    if isinstance(exc, vault_errors.Forbidden | vault_errors.Unauthorized):
        return "Vault refused the token (permission denied); check the token and its policy"
    if isinstance(exc, vault_errors.InvalidPath):
        return "no such path; check the transit mount point"
    if isinstance(exc, vault_errors.VaultDown):
        return "Vault is sealed or in maintenance"
    if isinstance(exc, vault_errors.VaultError):
        return f"Vault answered with an error ({type(exc).__name__})"
    return f"Vault is unreachable or did not answer in time ({type(exc).__name__})"


def _check_path(value: str, what: str, *, allow_slashes: bool) -> None:
    segments = value.split("/") if allow_slashes else [value]
    if not all(_PATH_SEGMENT.fullmatch(segment) for segment in segments):
        raise ConfigurationError(f"invalid {what} {value!r}: use letters, digits, '_', '.', '-'")


def _check_url(url: str) -> None:
    """Refuse a URL that would send the token in clear beyond this machine."""
    if not _is_safe_url(url):
        raise ConfigurationError(
            "the Vault address must be an https:// URL (plain http:// only on loopback)"
        )


def _is_safe_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and _is_loopback(parts.hostname or "")


def _is_loopback(hostname: str) -> bool:
    if hostname in _LOOPBACK_NAMES:
        return True
    try:
        return ip_address(hostname).is_loopback
    except ValueError:
        return False
