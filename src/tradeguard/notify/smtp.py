"""Email over SMTP with the standard library: STARTTLS, implicit TLS or (development) none."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

from pydantic import SecretStr

from tradeguard.config import Settings, SmtpSecurity
from tradeguard.core.clock import Clock
from tradeguard.core.ids import new_id
from tradeguard.logs import get_logger
from tradeguard.notify.messages import (
    DeliveryError,
    EmailMessage,
    refuse_header_injection,
    validate_email_address,
)

KIND_HEADER = "X-TradeGuard-Kind"
_FALLBACK_DOMAIN = "tradeguard.localhost"

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to reach the SMTP server, and who the mail is from."""

    host: str
    port: int
    security: SmtpSecurity
    sender: str
    timeout_seconds: int
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = None

    def __post_init__(self) -> None:
        refuse_header_injection("sender", self.sender)
        validate_email_address(parseaddr(self.sender)[1])

    @classmethod
    def from_settings(cls, settings: Settings, *, ca_file: Path | None = None) -> SmtpConfig:
        """The SMTP configuration the settings describe; ``ca_file`` replaces the system CAs."""
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            sender=settings.email_from,
            timeout_seconds=settings.smtp_timeout_seconds,
            username=settings.smtp_username,
            password=settings.smtp_password,
            ca_file=ca_file,
        )

    @property
    def sender_domain(self) -> str:
        """The domain of the sender address, used for Message-ID."""
        return parseaddr(self.sender)[1].rpartition("@")[2] or _FALLBACK_DOMAIN


class SmtpEmailSender:
    """Delivers email through one SMTP server, opening a connection per message."""

    def __init__(self, config: SmtpConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock

    def send_email(self, message: EmailMessage) -> None:
        """Deliver ``message``; any failure raises `DeliveryError` without the body."""
        mime = self.compose(message)
        try:
            self._deliver(mime)
        except (smtplib.SMTPException, OSError) as exc:
            reason = _describe_failure(exc)
            _log.warning(
                "notify.smtp.failed", kind=message.kind, to=message.masked_to, reason=reason
            )
            raise DeliveryError(
                f"email to {message.masked_to} via {self._address} failed: {reason}"
            ) from None
        _log.info("notify.smtp.sent", kind=message.kind, to=message.masked_to)

    def compose(self, message: EmailMessage) -> MimeMessage:
        """The MIME message for ``message``, with Date and Message-ID from the clock."""
        mime = MimeMessage()
        mime["From"] = self._config.sender
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Date"] = format_datetime(self._clock.now())
        mime["Message-ID"] = f"<{new_id(self._clock).hex}@{self._config.sender_domain}>"
        mime[KIND_HEADER] = message.kind
        mime.set_content(message.text)
        return mime

    @property
    def _address(self) -> str:
        return f"{self._config.host}:{self._config.port}"

    def _deliver(self, mime: MimeMessage) -> None:
        with self._connect() as client:
            if self._config.username is not None:
                password = self._config.password
                client.login(self._config.username, password.get_secret_value() if password else "")
            client.send_message(mime)

    def _connect(self) -> smtplib.SMTP:
        config = self._config
        if config.security is SmtpSecurity.TLS:
            return smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout_seconds, context=self._tls()
            )
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
        if config.security is SmtpSecurity.STARTTLS:
            _start_tls(client, self._tls())
        return client

    def _tls(self) -> ssl.SSLContext:
        ca_file = self._config.ca_file
        return ssl.create_default_context(cafile=None if ca_file is None else str(ca_file))


def _describe_failure(exc: BaseException) -> str:
    """A short reason for a failed delivery: the error class, SMTP code or OS reason."""
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{name} ({exc})"  # a fixed sentence from smtplib, e.g. no STARTTLS offered
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{name} (SMTP {exc.smtp_code})"
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return f"{name} ({exc.reason})"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{name} ({exc.strerror})"
    return name


def _start_tls(client: smtplib.SMTP, context: ssl.SSLContext) -> None:
    """Upgrade to TLS; a server that does not offer STARTTLS is refused, never used in clear."""
    try:
        client.starttls(context=context)
    except BaseException:
        client.close()
        raise
