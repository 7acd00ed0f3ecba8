"""The notification facade identity code uses, its factory, and an in-memory sender for tests."""

from __future__ import annotations

import threading
from pathlib import Path

from tradeguard.config import EmailBackend, Settings, SmsBackend, SmtpSecurity
from tradeguard.core.clock import Clock, SystemClock
from tradeguard.core.errors import ConfigurationError
from tradeguard.notify.messages import EmailMessage, EmailSender, SmsMessage, SmsSender
from tradeguard.notify.outbox import OutboxSender
from tradeguard.notify.sms_http import HttpSmsSender, SmsHttpConfig
from tradeguard.notify.smtp import SmtpConfig, SmtpEmailSender


class Notifier:
    """Sends email and text messages through whichever backends were configured."""

    def __init__(self, email: EmailSender, sms: SmsSender) -> None:
        self._email = email
        self._sms = sms

    @property
    def email_sender(self) -> EmailSender:
        """The backend email goes through."""
        return self._email

    @property
    def sms_sender(self) -> SmsSender:
        """The backend text messages go through."""
        return self._sms

    def send_email(self, message: EmailMessage) -> None:
        """Deliver one email; raises `DeliveryError` when the backend fails."""
        self._email.send_email(message)

    def send_sms(self, message: SmsMessage) -> None:
        """Deliver one text message; raises `DeliveryError` when the backend fails."""
        self._sms.send_sms(message)


class MemorySender:
    """Keeps every message in memory instead of sending it, so tests can read the codes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._emails: list[EmailMessage] = []
        self._texts: list[SmsMessage] = []

    @property
    def emails(self) -> list[EmailMessage]:
        """The emails sent so far, oldest first (a copy)."""
        with self._lock:
            return list(self._emails)

    @property
    def texts(self) -> list[SmsMessage]:
        """The text messages sent so far, oldest first (a copy)."""
        with self._lock:
            return list(self._texts)

    def send_email(self, message: EmailMessage) -> None:
        """Record ``message``."""
        with self._lock:
            self._emails.append(message)

    def send_sms(self, message: SmsMessage) -> None:
        """Record ``message``."""
        with self._lock:
            self._texts.append(message)

    def last_email(self, to: str | None = None, kind: str | None = None) -> EmailMessage:
        """The newest email, optionally to ``to`` and of ``kind``; ``LookupError`` if none."""
        for message in reversed(self.emails):
            if to in {None, message.to} and kind in {None, message.kind}:
                return message
        raise LookupError(f"no email sent (to={to!r}, kind={kind!r})")

    def last_sms(self, to: str | None = None, kind: str | None = None) -> SmsMessage:
        """The newest text message, optionally to ``to`` and of ``kind``; else ``LookupError``."""
        for message in reversed(self.texts):
            if to in {None, message.to} and kind in {None, message.kind}:
                return message
        raise LookupError(f"no text message sent (to={to!r}, kind={kind!r})")

    def clear(self) -> None:
        """Forget every recorded message."""
        with self._lock:
            self._emails.clear()
            self._texts.clear()


def notify_production_problems(settings: Settings) -> list[str]:
    """Everything in the notification settings that is unfit for production, as sentences."""
    problems: list[str] = []
    if settings.email_backend is EmailBackend.OUTBOX:
        problems.append("email goes to the development outbox: set TRADEGUARD_EMAIL_BACKEND=smtp")
    elif settings.smtp_security is SmtpSecurity.NONE:
        problems.append("SMTP without TLS: set TRADEGUARD_SMTP_SECURITY to starttls or tls")
    if settings.sms_backend is SmsBackend.OUTBOX:
        problems.append("SMS goes to the development outbox: set TRADEGUARD_SMS_BACKEND=http")
    return problems


def build_notifier(
    settings: Settings,
    clock: Clock | None = None,
    *,
    smtp_ca_file: Path | None = None,
    sms_ca_file: Path | None = None,
) -> Notifier:
    """The notifier the settings describe; ``ConfigurationError`` when they are incomplete."""
    used_clock: Clock = SystemClock() if clock is None else clock
    outbox = OutboxSender(settings.effective_outbox_dir, used_clock)
    email: EmailSender = outbox
    sms: SmsSender = outbox
    if settings.email_backend is EmailBackend.SMTP:
        email = SmtpEmailSender(_smtp_config(settings, smtp_ca_file), used_clock)
    if settings.sms_backend is SmsBackend.HTTP:
        sms = HttpSmsSender(SmsHttpConfig.from_settings(settings, ca_file=sms_ca_file))
    return Notifier(email, sms)


def _smtp_config(settings: Settings, ca_file: Path | None) -> SmtpConfig:
    if not settings.smtp_host.strip():
        raise ConfigurationError("email_backend=smtp needs TRADEGUARD_SMTP_HOST")
    if (settings.smtp_username is None) != (settings.smtp_password is None):
        raise ConfigurationError(
            "set both TRADEGUARD_SMTP_USERNAME and TRADEGUARD_SMTP_PASSWORD, or neither"
        )
    try:
        return SmtpConfig.from_settings(settings, ca_file=ca_file)
    except ValueError as exc:
        raise ConfigurationError(f"TRADEGUARD_EMAIL_FROM is not usable: {exc}") from None
