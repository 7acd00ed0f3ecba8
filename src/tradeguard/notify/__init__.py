"""Delivery of email and text messages: development outbox, SMTP and an HTTP SMS provider."""

from tradeguard.notify.messages import (
    DeliveryError,
    EmailMessage,
    EmailSender,
    SmsMessage,
    SmsSender,
    mask_email,
    mask_phone,
)
from tradeguard.notify.notifier import (
    MemorySender,
    Notifier,
    build_notifier,
    notify_production_problems,
)
from tradeguard.notify.outbox import OutboxSender, read_outbox
from tradeguard.notify.sms_http import HttpSmsSender, SmsHttpConfig
from tradeguard.notify.smtp import SmtpConfig, SmtpEmailSender

__all__ = [
    "DeliveryError",
    "EmailMessage",
    "EmailSender",
    "HttpSmsSender",
    "MemorySender",
    "Notifier",
    "OutboxSender",
    "SmsHttpConfig",
    "SmsMessage",
    "SmsSender",
    "SmtpConfig",
    "SmtpEmailSender",
    "build_notifier",
    "mask_email",
    "mask_phone",
    "notify_production_problems",
    "read_outbox",
]
