"""A software WebAuthn authenticator behind a browser-like client, for tests.

``SoftAuthenticator`` answers the JSON options a relying party sends with the JSON a
browser would post back (``PublicKeyCredential.toJSON()``): base64url fields,
``response.clientDataJSON`` and ``attestationObject`` or ``authenticatorData``,
``signature`` and ``userHandle``. Unlike a real one, it lets a test choose what it claims:
user verification, the signature counter, backup flags, the origin and the RP ID it signs
for, so that attacks and faulty authenticators can be played.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from webauthn.helpers import encode_cbor

ES256 = -7
EDDSA = -8
_FLAG_USER_PRESENT = 0x01
_FLAG_USER_VERIFIED = 0x04
_FLAG_BACKUP_ELIGIBLE = 0x08
_FLAG_BACKED_UP = 0x10
_FLAG_ATTESTED_DATA = 0x40
_PLATFORM_TRANSPORT = "internal"

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


class AuthenticatorRefusedError(Exception):
    """The authenticator declined, where a browser would reject with a DOMException."""


def b64url(data: bytes) -> str:
    """Base64url without padding, as WebAuthn JSON carries bytes."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def from_b64url(text: str) -> bytes:
    """Bytes of a base64url string with or without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    """A key pair the authenticator holds for one relying party and user."""

    credential_id: bytes
    private_key: PrivateKey
    algorithm: int
    rp_id: str
    user_handle: bytes
    resident: bool

    def cose_public_key(self) -> bytes:
        """The public key as a COSE_Key map."""
        public_key = self.private_key.public_key()
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            raw = public_key.public_bytes_raw()
            return encode_cbor({1: 1, 3: EDDSA, -1: 6, -2: raw})
        numbers = public_key.public_numbers()
        x, y = numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
        return encode_cbor({1: 2, 3: ES256, -1: 1, -2: x, -3: y})

    def sign(self, data: bytes) -> bytes:
        """Sign as the credential's algorithm does (DER ECDSA or raw Ed25519)."""
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return self.private_key.sign(data)
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))


class SoftAuthenticator:
    """A software authenticator: platform-like (``internal``) or a roaming security key.

    Each assertion first adds ``counter_step`` to ``counter`` and reports the result;
    set ``counter`` to choose what the next assertion reports (``counter_step=0`` for a
    synced passkey that always reports 0). ``rp_id`` and ``origin`` are what it signs
    and what its client reports, whatever the options say, to play phishing relays.
    """

    def __init__(  # noqa: PLR0913 - each knob is one authenticator property tests vary
        self,
        rp_id: str,
        origin: str,
        *,
        user_verified: bool = True,
        counter: int = 0,
        transport: str = _PLATFORM_TRANSPORT,
        resident: bool = True,
        counter_step: int = 1,
        algorithm: int = ES256,
        backup_eligible: bool = False,
        backed_up: bool = False,
        aaguid: bytes = bytes(16),
    ) -> None:
        self.rp_id = rp_id
        self.origin = origin
        self.user_verified = user_verified
        self.counter = counter
        self.transport = transport
        self.resident = resident
        self.counter_step = counter_step
        self.algorithm = algorithm
        self.backup_eligible = backup_eligible
        self.backed_up = backed_up
        self.aaguid = aaguid
        self.credentials: dict[bytes, SoftCredential] = {}

    def create(self, options_json: Mapping[str, Any]) -> dict[str, Any]:
        """Answer registration options as ``navigator.credentials.create()`` would."""
        self._refuse_excluded(options_json.get("excludeCredentials", []))
        self._refuse_unsupported(options_json)
        credential = self._new_credential(options_json)
        client_data = self._client_data("webauthn.create", options_json["challenge"])
        attested = self._attested_data(credential)
        auth_data = self._authenticator_data(_FLAG_ATTESTED_DATA, self.counter) + attested
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        response = {
            "clientDataJSON": b64url(client_data),
            "attestationObject": b64url(attestation),
            "transports": [self.transport],
        }
        return self._credential_json(credential, response)

    def get(
        self, options_json: Mapping[str, Any], credential_id: bytes | None = None
    ) -> dict[str, Any]:
        """Answer authentication options as ``navigator.credentials.get()`` would."""
        credential = self._pick(options_json.get("allowCredentials") or [], credential_id)
        self.counter += self.counter_step
        client_data = self._client_data("webauthn.get", options_json["challenge"])
        auth_data = self._authenticator_data(0, self.counter)
        signature = credential.sign(auth_data + hashlib.sha256(client_data).digest())
        response = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
        }
        if credential.resident:
            response["userHandle"] = b64url(credential.user_handle)
        return self._credential_json(credential, response)

    def _refuse_excluded(self, excluded: list[Mapping[str, Any]]) -> None:
        if any(from_b64url(item["id"]) in self.credentials for item in excluded):
            raise AuthenticatorRefusedError("InvalidStateError: credential already registered")

    def _refuse_unsupported(self, options_json: Mapping[str, Any]) -> None:
        algorithms = {param["alg"] for param in options_json["pubKeyCredParams"]}
        if self.algorithm not in algorithms:
            raise AuthenticatorRefusedError("NotSupportedError: no common algorithm")
        selection = options_json.get("authenticatorSelection", {})
        if selection.get("residentKey") == "required" and not self.resident:
            raise AuthenticatorRefusedError("NotAllowedError: cannot store a resident key")

    def _new_credential(self, options_json: Mapping[str, Any]) -> SoftCredential:
        private_key: PrivateKey = (
            ed25519.Ed25519PrivateKey.generate()
            if self.algorithm == EDDSA
            else ec.generate_private_key(ec.SECP256R1())
        )
        credential = SoftCredential(
            credential_id=secrets.token_bytes(32),
            private_key=private_key,
            algorithm=self.algorithm,
            rp_id=self.rp_id,
            user_handle=from_b64url(options_json["user"]["id"]),
            resident=self.resident,
        )
        self.credentials[credential.credential_id] = credential
        return credential

    def _pick(
        self, allowed: list[Mapping[str, Any]], credential_id: bytes | None
    ) -> SoftCredential:
        wanted = [from_b64url(item["id"]) for item in allowed]
        candidates = [
            credential
            for credential in self.credentials.values()
            if (credential.credential_id in wanted if wanted else credential.resident)
            and credential_id in {None, credential.credential_id}
        ]
        if not candidates:
            raise AuthenticatorRefusedError("NotAllowedError: no matching credential")
        return candidates[-1]

    def _client_data(self, ceremony: str, challenge: str) -> bytes:
        collected = {
            "type": ceremony,
            "challenge": b64url(from_b64url(challenge)),
            "origin": self.origin,
            "crossOrigin": False,
        }
        return json.dumps(collected, separators=(",", ":")).encode()

    def _authenticator_data(self, extra_flags: int, counter: int) -> bytes:
        flags = _FLAG_USER_PRESENT | extra_flags
        flags |= _FLAG_USER_VERIFIED if self.user_verified else 0
        flags |= _FLAG_BACKUP_ELIGIBLE if self.backup_eligible else 0
        flags |= _FLAG_BACKED_UP if self.backed_up else 0
        rp_id_hash = hashlib.sha256(self.rp_id.encode()).digest()
        return rp_id_hash + bytes([flags]) + struct.pack(">I", counter)

    def _attested_data(self, credential: SoftCredential) -> bytes:
        length = struct.pack(">H", len(credential.credential_id))
        return self.aaguid + length + credential.credential_id + credential.cose_public_key()

    def _credential_json(
        self, credential: SoftCredential, response: dict[str, Any]
    ) -> dict[str, Any]:
        platform = self.transport == _PLATFORM_TRANSPORT
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform" if platform else "cross-platform",
            "response": response,
            "clientExtensionResults": {},
        }
