import io
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime
from typing import Any

import pytest
from notify_doubles import (
    LOOPBACK,
    SMTP_LOGIN,
    SMTP_PASSWORD,
    TlsFiles,
    free_port,
    log_events,
    smtp_server,
)
from pydantic import SecretStr

from tradeguard.config import SmtpSecurity
from tradeguard.core.clock import FixedClock
from tradeguard.notify import DeliveryError, EmailMessage, SmtpConfig, SmtpEmailSender

SENDER = "TradeGuard <no-reply@broker.example>"
CODE = "720431"
MESSAGE = EmailMessage(
    to="alice@example.com",
    subject="Bestätigen Sie Ihre E-Mail-Adresse",
    text=f"Your verification code is {CODE}.\nIt expires in 10 minutes. Grüße.\n",
    kind="email.verification",
)


def _body(received: MimeMessage) -> str:
    """The text as written: SMTP carries lines ending in CRLF."""
    return str(received.get_content()).replace("\r\n", "\n")


def _sender(
    port: int, clock: FixedClock, security: SmtpSecurity, **options: Any
) -> SmtpEmailSender:
    config = SmtpConfig(
        host=LOOPBACK, port=port, security=security, sender=SENDER, timeout_seconds=5, **options
    )
    return SmtpEmailSender(config, clock)


def test_smtp_when_plain_server_then_headers_and_body_arrive_intact(clock: FixedClock) -> None:
    with smtp_server() as server:
        _sender(server.port, clock, SmtpSecurity.NONE).send_email(MESSAGE)

    envelope = server.handler.envelopes[0]
    assert envelope.mail_from == "no-reply@broker.example"
    assert envelope.rcpt_tos == ["alice@example.com"]
    received = server.handler.only_message()
    assert received["From"] == SENDER
    assert received["To"] == "alice@example.com"
    assert received["Subject"] == MESSAGE.subject
    assert received["Date"] == format_datetime(clock.now())
    assert received["Message-ID"].endswith("@broker.example>")
    assert received["X-TradeGuard-Kind"] == "email.verification"
    assert _body(received) == MESSAGE.text


def test_smtp_when_two_messages_then_message_ids_differ(clock: FixedClock) -> None:
    with smtp_server() as server:
        sender = _sender(server.port, clock, SmtpSecurity.NONE)
        sender.send_email(MESSAGE)
        sender.send_email(MESSAGE)

    first, second = (envelope.original_content for envelope in server.handler.envelopes)
    assert first != second  # only Message-ID differs: the clock stood still


def test_smtp_when_starttls_with_trusted_ca_then_delivered_over_tls(
    clock: FixedClock, tls_files: TlsFiles
) -> None:
    with smtp_server(tls_context=tls_files.server_context(), require_starttls=True) as server:
        _sender(server.port, clock, SmtpSecurity.STARTTLS, ca_file=tls_files.ca_file).send_email(
            MESSAGE
        )

    assert _body(server.handler.only_message()) == MESSAGE.text


def test_smtp_when_implicit_tls_then_delivered(clock: FixedClock, tls_files: TlsFiles) -> None:
    with smtp_server(ssl_context=tls_files.server_context()) as server:
        _sender(server.port, clock, SmtpSecurity.TLS, ca_file=tls_files.ca_file).send_email(MESSAGE)

    assert server.handler.only_message()["Subject"] == MESSAGE.subject


def test_smtp_when_starttls_and_certificate_untrusted_then_delivery_error(
    clock: FixedClock, tls_files: TlsFiles
) -> None:
    with smtp_server(tls_context=tls_files.server_context(), require_starttls=True) as server:
        sender = _sender(server.port, clock, SmtpSecurity.STARTTLS)  # system CAs only
        with pytest.raises(DeliveryError, match="SSLCertVerificationError"):
            sender.send_email(MESSAGE)

    assert server.handler.envelopes == []


def test_smtp_when_starttls_required_but_server_offers_none_then_not_sent_in_clear(
    clock: FixedClock, tls_files: TlsFiles
) -> None:
    with smtp_server() as server:
        sender = _sender(server.port, clock, SmtpSecurity.STARTTLS, ca_file=tls_files.ca_file)
        with pytest.raises(DeliveryError, match="STARTTLS"):
            sender.send_email(MESSAGE)

    assert server.handler.envelopes == []


def test_smtp_when_login_accepted_over_starttls_then_delivered(
    clock: FixedClock, tls_files: TlsFiles
) -> None:
    options = {"tls_context": tls_files.server_context(), "require_starttls": True}
    with smtp_server(with_auth=True, **options) as server:
        _sender(
            server.port,
            clock,
            SmtpSecurity.STARTTLS,
            ca_file=tls_files.ca_file,
            username=SMTP_LOGIN,
            password=SecretStr(SMTP_PASSWORD),
        ).send_email(MESSAGE)

    assert server.handler.logins == [SMTP_LOGIN.encode()]
    assert server.handler.only_message()["To"] == "alice@example.com"


def test_smtp_when_login_refused_then_delivery_error_without_body_or_password(
    clock: FixedClock, tls_files: TlsFiles, log_stream: io.StringIO
) -> None:
    options = {"tls_context": tls_files.server_context(), "require_starttls": True}
    with smtp_server(with_auth=True, **options) as server:
        sender = _sender(
            server.port,
            clock,
            SmtpSecurity.STARTTLS,
            ca_file=tls_files.ca_file,
            username=SMTP_LOGIN,
            password=SecretStr("wrong password"),
        )
        with pytest.raises(DeliveryError, match="SMTPAuthenticationError") as raised:
            sender.send_email(MESSAGE)

    assert server.handler.envelopes == []
    assert CODE not in str(raised.value)
    assert "wrong password" not in str(raised.value)
    [failure] = log_events(log_stream, "notify.smtp.failed")
    assert failure["to"] == "a***@example.com"
    assert CODE not in log_stream.getvalue()


def test_smtp_when_server_requires_auth_and_none_given_then_delivery_error(
    clock: FixedClock, tls_files: TlsFiles
) -> None:
    options = {"tls_context": tls_files.server_context(), "require_starttls": True}
    with smtp_server(with_auth=True, **options) as server:
        sender = _sender(server.port, clock, SmtpSecurity.STARTTLS, ca_file=tls_files.ca_file)
        with pytest.raises(DeliveryError, match="SMTP 530"):
            sender.send_email(MESSAGE)

    assert server.handler.envelopes == []


def test_smtp_when_server_stopped_then_delivery_error_without_body(clock: FixedClock) -> None:
    sender = _sender(free_port(), clock, SmtpSecurity.NONE)

    with pytest.raises(DeliveryError, match="ConnectionRefusedError") as raised:
        sender.send_email(MESSAGE)

    assert CODE not in str(raised.value)
    assert "alice@example.com" not in str(raised.value)
    assert "a***@example.com" in str(raised.value)


def test_smtp_config_when_sender_injects_header_then_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        SmtpConfig(
            host=LOOPBACK,
            port=25,
            security=SmtpSecurity.NONE,
            sender="TradeGuard <a@b.c>\r\nBcc: x@y.z",
            timeout_seconds=5,
        )


def test_smtp_when_mime_composed_then_recipient_is_the_only_one(clock: FixedClock) -> None:
    mime = _sender(25, clock, SmtpSecurity.NONE).compose(MESSAGE)

    assert mime.get_all("To") == ["alice@example.com"]
    assert mime.get_all("Bcc") is None
    assert mime.get_all("Cc") is None
