"""Time-based one-time passwords (RFC 6238): secrets, enrolment QR codes and verification.

The verifier returns the time step a code matched; the caller stores it and passes it
back as ``last_used_step``, so a code (or an older one still inside the window) is
accepted at most once (ASVS 2.8.4).
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import pyotp
import segno

from tradeguard.core.clock import NS_PER_SECOND, datetime_to_ns
from tradeguard.identity.secrets import constant_time_equal

SECRET_BYTES = 20
DEFAULT_ISSUER = "TradeGuard"
MIN_DIGITS = 6
MAX_DIGITS = 10
MAX_PERIOD_SECONDS = 120
MAX_WINDOW = 2
_QR_SCALE = 4
_LABEL_SEPARATOR = ":"


class TotpAlgorithm(StrEnum):
    """The HMAC digest of the code, as named in ``otpauth://`` URIs."""

    SHA1 = "SHA1"
    SHA256 = "SHA256"
    SHA512 = "SHA512"


_DIGESTS: dict[TotpAlgorithm, Callable[..., Any]] = {
    TotpAlgorithm.SHA1: hashlib.sha1,
    TotpAlgorithm.SHA256: hashlib.sha256,
    TotpAlgorithm.SHA512: hashlib.sha512,
}


def new_totp_secret() -> str:
    """A fresh 160-bit secret in unpadded base32, as authenticator apps expect."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


@dataclass(frozen=True, slots=True)
class TotpVerifier:
    """Checks TOTP codes within ``window`` steps either side of now, refusing replays."""

    digits: int = MIN_DIGITS
    period: int = 30
    window: int = 1
    algorithm: TotpAlgorithm = TotpAlgorithm.SHA1

    def __post_init__(self) -> None:
        if not MIN_DIGITS <= self.digits <= MAX_DIGITS:
            raise ValueError(f"digits must be between {MIN_DIGITS} and {MAX_DIGITS}")
        if not 0 < self.period <= MAX_PERIOD_SECONDS:
            raise ValueError(f"period must be between 1 and {MAX_PERIOD_SECONDS} seconds")
        if not 0 <= self.window <= MAX_WINDOW:
            raise ValueError(f"window must be between 0 and {MAX_WINDOW} steps")

    def time_step(self, now: datetime) -> int:
        """The RFC 6238 counter for an instant: whole periods since the Unix epoch."""
        return datetime_to_ns(now) // (self.period * NS_PER_SECOND)

    def code_at(self, secret: str, step: int) -> str:
        """The code for one time step."""
        return self._otp(secret).generate_otp(step)

    def verify(
        self, secret: str, code: str, *, now: datetime, last_used_step: int | None
    ) -> int | None:
        """The time step the code matches, or None when it is wrong, stale or replayed."""
        if not self._well_formed(code):
            return None
        otp = self._otp(secret)
        matched: int | None = None
        # Every candidate is computed and compared, so timing does not tell which matched.
        for step in self._candidate_steps(now, last_used_step):
            if constant_time_equal(otp.generate_otp(step), code) and matched is None:
                matched = step
        return matched

    def provisioning_uri(self, secret: str, account_name: str, issuer: str = DEFAULT_ISSUER) -> str:
        """The ``otpauth://`` URI that enrols the secret with these settings."""
        _require_label_part("account_name", account_name)
        _require_label_part("issuer", issuer)
        return self._otp(secret).provisioning_uri(name=account_name, issuer_name=issuer)

    def _well_formed(self, code: str) -> bool:
        # isdigit() alone would accept other scripts' digits such as "٣".
        return len(code) == self.digits and code.isascii() and code.isdigit()

    def _candidate_steps(self, now: datetime, last_used_step: int | None) -> list[int]:
        current = self.time_step(now)
        floor = 0 if last_used_step is None else last_used_step + 1
        steps = range(current - self.window, current + self.window + 1)
        return [step for step in steps if step >= floor]

    def _otp(self, secret: str) -> pyotp.TOTP:
        return pyotp.TOTP(
            secret,
            digits=self.digits,
            digest=_DIGESTS[self.algorithm],
            interval=self.period,
        )


DEFAULT_TOTP_VERIFIER = TotpVerifier()


def provisioning_uri(secret: str, account_name: str, issuer: str = DEFAULT_ISSUER) -> str:
    """The ``otpauth://`` URI for the default settings (6 digits, 30 s, SHA-1)."""
    return DEFAULT_TOTP_VERIFIER.provisioning_uri(secret, account_name, issuer)


def qr_svg(uri: str) -> str:
    """An SVG QR code of the URI: no XML declaration, dark modules only.

    The SVG namespace is declared so the code renders both inline and as an image.
    """
    qr = segno.make_qr(uri, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", xmldecl=False, scale=_QR_SCALE, dark="#000", light=None)
    return buffer.getvalue().decode("ascii").strip()


def _require_label_part(name: str, value: str) -> None:
    # The URI label is "issuer:account"; a colon inside either part would be ambiguous.
    if not value or _LABEL_SEPARATOR in value:
        raise ValueError(f"{name} must be non-empty and contain no colon")
