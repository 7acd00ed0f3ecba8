"""Messages to deliver, the sender protocols and the delivery error.

Messages validate themselves on construction: an address that could smuggle extra
headers or recipients is refused with ``ValueError`` before any backend sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from tradeguard.core.errors import TradeGuardError

EMAIL_CHANNEL = "email"
SMS_CHANNEL = "sms"
MAX_ADDRESS_LENGTH = 254
MAX_SUBJECT_LENGTH = 200
MAX_KIND_LENGTH = 64
MAX_SMS_LENGTH = 1600

# C0 controls, DEL and the Unicode line breaks some mail libraries honour.
_LINE_BREAK_OR_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
_ADDRESS_FORBIDDEN = re.compile(r"[\s<>,;:\"()\[\]\\]")
_E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_KIND = re.compile(r"[a-z][a-z0-9_-]*(?:\.[a-z][a-z0-9_-]*)*")


class DeliveryError(TradeGuardError):
    """A message could not be handed to its backend; the text never appears here."""


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One plain-text email to one recipient."""

    to: str
    subject: str
    text: str
    kind: str

    def __post_init__(self) -> None:
        validate_email_address(self.to)
        _validate_subject(self.subject)
        _require_text(self.text)
        validate_kind(self.kind)

    @property
    def masked_to(self) -> str:
        """The recipient as it may appear in logs."""
        return mask_email(self.to)


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """One text message to one E.164 phone number."""

    to: str
    text: str
    kind: str

    def __post_init__(self) -> None:
        validate_phone_number(self.to)
        _require_text(self.text)
        if len(self.text) > MAX_SMS_LENGTH:
            raise ValueError(f"text message longer than {MAX_SMS_LENGTH} characters")
        validate_kind(self.kind)

    @property
    def masked_to(self) -> str:
        """The recipient as it may appear in logs."""
        return mask_phone(self.to)


class EmailSender(Protocol):
    """Something that delivers email."""

    def send_email(self, message: EmailMessage) -> None:
        """Deliver ``message`` or raise `DeliveryError`."""
        ...


class SmsSender(Protocol):
    """Something that delivers text messages."""

    def send_sms(self, message: SmsMessage) -> None:
        """Deliver ``message`` or raise `DeliveryError`."""
        ...


def validate_email_address(address: str) -> str:
    """Return ``address`` if it is one bare ``local@domain`` address, else raise ``ValueError``."""
    refuse_header_injection("email address", address)
    if len(address) > MAX_ADDRESS_LENGTH:
        raise ValueError(f"email address longer than {MAX_ADDRESS_LENGTH} characters")
    local, at, domain = address.partition("@")
    if not at or not local or not domain or "@" in domain:
        raise ValueError("email address must have exactly one '@' between two non-empty parts")
    if _ADDRESS_FORBIDDEN.search(address):
        raise ValueError("email address must be a bare address without spaces or separators")
    return address


def validate_phone_number(number: str) -> str:
    """Return ``number`` if it is E.164 (``+`` and 8 to 15 digits), else raise ``ValueError``."""
    if not _E164.fullmatch(number):
        raise ValueError("phone number must be E.164: '+' then 8 to 15 digits")
    return number


def validate_kind(kind: str) -> str:
    """Return ``kind`` if it is a short dotted machine name, else raise ``ValueError``."""
    if len(kind) > MAX_KIND_LENGTH or not _KIND.fullmatch(kind):
        raise ValueError("kind must be a short lowercase dotted name such as 'otp.sms'")
    return kind


def refuse_header_injection(what: str, value: str) -> None:
    """Raise ``ValueError`` when a header value holds a line break or control character."""
    if _LINE_BREAK_OR_CONTROL.search(value):
        raise ValueError(f"{what} contains a line break or control character")


def mask_email(address: str) -> str:
    """``alice@example.com`` as ``a***@example.com``: enough to tell recipients apart in logs."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(number: str) -> str:
    """``+14155550123`` as ``+1********23``: the first digit and the last two only."""
    digits = number.removeprefix("+")
    hidden = max(len(digits) - 3, 0)
    return f"+{digits[:1]}{'*' * hidden}{digits[-2:]}"


def _validate_subject(subject: str) -> None:
    refuse_header_injection("subject", subject)
    if not subject.strip():
        raise ValueError("subject must not be empty")
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise ValueError(f"subject longer than {MAX_SUBJECT_LENGTH} characters")


def _require_text(text: str) -> None:
    if not text.strip():
        raise ValueError("message text must not be empty")
