import io
import re
import stat
from pathlib import Path

from notify_doubles import log_events

from tradeguard.core.clock import FixedClock
from tradeguard.notify import EmailMessage, OutboxSender, SmsMessage, read_outbox

CODE = "493817"
EMAIL = EmailMessage(
    to="alice@example.com",
    subject="Verify your email",
    text=f"Code: {CODE}",
    kind="email.verification",
)
SMS = SmsMessage(to="+14155550123", text=f"TradeGuard code {CODE}", kind="otp.sms")
FILE_NAME = re.compile(
    r"20261121T093000\.000000000Z-email\.verification-[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}"
    r"-[0-9a-f]{4}-[0-9a-f]{12}\.json"
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_outbox_when_email_sent_then_private_file_with_message(
    outbox_dir: Path, clock: FixedClock
) -> None:
    OutboxSender(outbox_dir, clock).send_email(EMAIL)

    [path] = list(outbox_dir.iterdir())
    assert FILE_NAME.fullmatch(path.name), path.name
    assert _mode(outbox_dir) == 0o700
    assert _mode(path) == 0o600
    [record] = read_outbox(outbox_dir)
    assert record["channel"] == "email"
    assert record["to"] == "alice@example.com"
    assert record["subject"] == "Verify your email"
    assert record["text"] == f"Code: {CODE}"
    assert record["kind"] == "email.verification"
    assert record["sent_at"] == "2026-11-21T09:30:00.000000000Z"


def test_outbox_when_sms_sent_then_file_has_sms_channel_and_no_subject(
    outbox_dir: Path, clock: FixedClock
) -> None:
    OutboxSender(outbox_dir, clock).send_sms(SMS)

    [path] = list(outbox_dir.iterdir())
    assert path.name.startswith("20261121T093000.000000000Z-otp.sms-")
    assert _mode(path) == 0o600
    [record] = read_outbox(outbox_dir)
    assert (record["channel"], record["to"], record["subject"]) == ("sms", "+14155550123", None)
    assert record["text"] == f"TradeGuard code {CODE}"


def test_read_outbox_when_several_messages_then_oldest_first(
    outbox_dir: Path, clock: FixedClock
) -> None:
    sender = OutboxSender(outbox_dir, clock)
    clock.advance(seconds=5)
    sender.send_sms(SmsMessage(to="+14155550123", text="third", kind="a.late"))
    clock.advance(nanoseconds=1)
    sender.send_sms(SmsMessage(to="+14155550123", text="fourth", kind="a.late"))
    clock.set(clock.now_ns() - 10 * 1_000_000_000)
    # Same instant, kinds in reverse alphabetical order: the writing order must win.
    sender.send_email(EmailMessage("b@example.com", "s", "first", "z.kind"))
    sender.send_email(EmailMessage("b@example.com", "s", "second", "a.kind"))

    assert [record["text"] for record in read_outbox(outbox_dir)] == [
        "first",
        "second",
        "third",
        "fourth",
    ]


def test_read_outbox_when_directory_missing_then_empty(tmp_path: Path) -> None:
    assert read_outbox(tmp_path / "never-created") == []


def test_outbox_when_sent_then_log_masks_recipient_and_omits_text(
    outbox_dir: Path, clock: FixedClock, log_stream: io.StringIO
) -> None:
    sender = OutboxSender(outbox_dir, clock)
    sender.send_email(EMAIL)
    sender.send_sms(SMS)

    email_line, sms_line = log_events(log_stream, "notify.outbox")
    assert (email_line["channel"], email_line["kind"]) == ("email", "email.verification")
    assert email_line["to"] == "a***@example.com"
    assert (sms_line["channel"], sms_line["kind"]) == ("sms", "otp.sms")
    assert sms_line["to"] == "+1********23"
    output = log_stream.getvalue()
    for private in (CODE, "alice@example.com", "+14155550123", "Verify your email"):
        assert private not in output


def test_outbox_when_directory_exists_then_files_still_private(
    outbox_dir: Path, clock: FixedClock
) -> None:
    outbox_dir.mkdir(mode=0o755)
    OutboxSender(outbox_dir, clock).send_sms(SMS)

    [path] = list(outbox_dir.iterdir())
    assert _mode(path) == 0o600
