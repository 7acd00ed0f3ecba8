"""Development outbox: every message becomes one private JSON file instead of being sent.

The files hold the full text, codes included, so the directory is owner-only (0700)
and each file 0600; the log line names the channel, the kind and a masked recipient.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tradeguard.core.clock import NS_PER_SECOND, Clock, ns_to_datetime, ns_to_rfc3339
from tradeguard.core.ids import new_id
from tradeguard.core.secure_files import PRIVATE_MODE, write_atomically
from tradeguard.logs import get_logger
from tradeguard.notify.messages import EMAIL_CHANNEL, SMS_CHANNEL, EmailMessage, SmsMessage

DIRECTORY_MODE = 0o700

_log = get_logger(__name__)


class OutboxSender:
    """Writes email and text messages to files under ``directory``; sends nothing."""

    def __init__(self, directory: Path, clock: Clock) -> None:
        self._directory = directory
        self._clock = clock

    @property
    def directory(self) -> Path:
        """Where the message files go."""
        return self._directory

    def send_email(self, message: EmailMessage) -> None:
        """Write ``message`` to the outbox."""
        self._write(EMAIL_CHANNEL, message.kind, message.masked_to, _email_fields(message))

    def send_sms(self, message: SmsMessage) -> None:
        """Write ``message`` to the outbox."""
        self._write(SMS_CHANNEL, message.kind, message.masked_to, _sms_fields(message))

    def _write(self, channel: str, kind: str, masked_to: str, fields: dict[str, Any]) -> None:
        now_ns = self._clock.now_ns()
        message_id = new_id(self._clock)
        record = {"id": str(message_id), "channel": channel, **fields}
        record["sent_at"] = ns_to_rfc3339(now_ns)
        path = self._directory / f"{_file_timestamp(now_ns)}-{kind}-{message_id}.json"
        self._directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        write_atomically(path, _encode(record), PRIVATE_MODE)
        _log.info("notify.outbox", channel=channel, kind=kind, to=masked_to, file=path.name)


def read_outbox(directory: Path) -> list[dict[str, Any]]:
    """Every message in the outbox ``directory``, oldest first (empty when there is none)."""
    if not directory.is_dir():
        return []
    records = [json.loads(path.read_text(encoding="utf-8")) for path in directory.glob("*.json")]
    # Same-instant messages keep their writing order: the UUIDv7 ids increase per clock.
    return sorted(records, key=lambda record: (record["sent_at"], record["id"]))


def _email_fields(message: EmailMessage) -> dict[str, Any]:
    return {
        "to": message.to,
        "subject": message.subject,
        "text": message.text,
        "kind": message.kind,
    }


def _sms_fields(message: SmsMessage) -> dict[str, Any]:
    return {"to": message.to, "subject": None, "text": message.text, "kind": message.kind}


def _file_timestamp(now_ns: int) -> str:
    """``20261121T093000.123456789Z``: sortable, and safe in file names on every system."""
    moment = ns_to_datetime(now_ns)
    return f"{moment:%Y%m%dT%H%M%S}.{now_ns % NS_PER_SECOND:09d}Z"


def _encode(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
