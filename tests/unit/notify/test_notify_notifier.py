from pathlib import Path

import pytest
from notify_doubles import sms_provider, smtp_server
from pydantic import SecretStr

from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import ConfigurationError
from tradeguard.notify import (
    EmailMessage,
    HttpSmsSender,
    MemorySender,
    Notifier,
    OutboxSender,
    SmsMessage,
    SmtpEmailSender,
    build_notifier,
    notify_production_problems,
    read_outbox,
)

EMAIL = EmailMessage("alice@example.com", "Your code", "Code: 111222", "email.verification")
SMS = SmsMessage("+14155550123", "Code: 333444", "otp.sms")
PRODUCTION_READY = {
    "env": "production",
    "email_backend": "smtp",
    "smtp_security": "tls",
    "sms_backend": "http",
    "sms_base_url": "https://sms.example.com",
    "sms_api_key": "key-1",
}


def test_notifier_when_sending_then_each_channel_goes_to_its_sender() -> None:
    emails, texts = MemorySender(), MemorySender()
    notifier = Notifier(emails, texts)

    notifier.send_email(EMAIL)
    notifier.send_sms(SMS)

    assert (emails.emails, emails.texts) == ([EMAIL], [])
    assert (texts.emails, texts.texts) == ([], [SMS])


def test_memory_sender_when_filtered_then_newest_match_returned() -> None:
    sender = MemorySender()
    other = EmailMessage("bob@example.com", "Hi", "Code: 999000", "email.verification")
    notice = EmailMessage("alice@example.com", "New device", "A new device", "security.new_device")
    for message in (EMAIL, other, notice):
        sender.send_email(message)

    assert sender.last_email() == notice
    assert sender.last_email(to="alice@example.com", kind="email.verification") == EMAIL
    assert sender.last_email(to="bob@example.com") == other
    with pytest.raises(LookupError, match="no email"):
        sender.last_email(to="carol@example.com")
    with pytest.raises(LookupError, match="no text message"):
        sender.last_sms()


def test_memory_sender_when_cleared_then_empty() -> None:
    sender = MemorySender()
    sender.send_sms(SMS)
    sender.send_email(EMAIL)

    sender.clear()

    assert (sender.emails, sender.texts) == ([], [])


def test_build_notifier_when_defaults_then_both_channels_go_to_outbox(
    tmp_path: Path, clock: FixedClock
) -> None:
    notifier = build_notifier(Settings(var_dir=tmp_path), clock)

    assert isinstance(notifier.email_sender, OutboxSender)
    assert isinstance(notifier.sms_sender, OutboxSender)
    notifier.send_email(EMAIL)
    notifier.send_sms(SMS)
    records = read_outbox(tmp_path / "outbox")
    assert [record["text"] for record in records] == ["Code: 111222", "Code: 333444"]


def test_build_notifier_when_outbox_dir_set_then_used(tmp_path: Path, clock: FixedClock) -> None:
    settings = Settings(var_dir=tmp_path, outbox_dir=tmp_path / "mail")

    build_notifier(settings, clock).send_sms(SMS)

    assert len(read_outbox(tmp_path / "mail")) == 1


def test_build_notifier_when_smtp_and_http_then_real_backends_deliver(
    tmp_path: Path, clock: FixedClock
) -> None:
    with smtp_server() as smtp, sms_provider() as provider:
        settings = Settings(
            var_dir=tmp_path,
            email_backend="smtp",
            smtp_port=smtp.port,
            smtp_security="none",
            sms_backend="http",
            sms_base_url=provider.base_url,
            sms_api_key="key-1",
        )
        notifier = build_notifier(settings, clock)
        notifier.send_email(EMAIL)
        notifier.send_sms(SMS)

    assert isinstance(notifier.email_sender, SmtpEmailSender)
    assert isinstance(notifier.sms_sender, HttpSmsSender)
    assert smtp.handler.only_message()["To"] == "alice@example.com"
    assert provider.requests[0].headers["Authorization"] == "Bearer key-1"
    assert not (tmp_path / "outbox").exists()


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"sms_backend": "http", "sms_api_key": "k"}, "SMS_BASE_URL"),
        ({"sms_backend": "http", "sms_base_url": "https://sms.example.com"}, "SMS_API_KEY"),
        (
            {"sms_backend": "http", "sms_base_url": "http://sms.example.com", "sms_api_key": "k"},
            "https",
        ),
        ({"email_backend": "smtp", "smtp_host": " "}, "SMTP_HOST"),
        ({"email_backend": "smtp", "smtp_username": "alerts"}, "SMTP_PASSWORD"),
        ({"email_backend": "smtp", "smtp_password": "pw"}, "SMTP_USERNAME"),
        ({"email_backend": "smtp", "email_from": "TradeGuard <a@b.c>\r\nBcc: x@y.z"}, "EMAIL_FROM"),
        ({"email_backend": "smtp", "email_from": "nobody"}, "EMAIL_FROM"),
    ],
)
def test_build_notifier_when_settings_incomplete_then_configuration_error(
    tmp_path: Path, overrides: dict[str, object], complaint: str
) -> None:
    settings = Settings(var_dir=tmp_path, **overrides)  # type: ignore[arg-type]

    with pytest.raises(ConfigurationError, match=complaint):
        build_notifier(settings)


def test_notify_production_problems_when_outboxes_then_both_named(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, env="production")

    problems = " ".join(notify_production_problems(settings))

    assert "EMAIL_BACKEND=smtp" in problems
    assert "SMS_BACKEND=http" in problems


def test_notify_production_problems_when_smtp_without_tls_then_named(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, **{**PRODUCTION_READY, "smtp_security": "none"})

    assert any("SMTP without TLS" in p for p in notify_production_problems(settings))


def test_build_notifier_when_production_complete_then_built(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, **PRODUCTION_READY)

    assert notify_production_problems(settings) == []
    notifier = build_notifier(settings)
    assert isinstance(notifier.email_sender, SmtpEmailSender)
    assert isinstance(notifier.sms_sender, HttpSmsSender)


def test_build_notifier_when_smtp_credentials_set_then_password_kept_secret(
    tmp_path: Path,
) -> None:
    settings = Settings(
        var_dir=tmp_path,
        email_backend="smtp",
        smtp_username="alerts",
        smtp_password=SecretStr("pw-very-secret"),
    )

    notifier = build_notifier(settings)

    assert "pw-very-secret" not in repr(notifier.email_sender._config)
