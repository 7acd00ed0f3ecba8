import pytest

from tradeguard.notify import EmailMessage, SmsMessage, mask_email, mask_phone


def _email(**changes: str) -> EmailMessage:
    fields = {
        "to": "alice@example.com",
        "subject": "Your code",
        "text": "Code: 123456",
        "kind": "email.verification",
    }
    fields.update(changes)
    return EmailMessage(**fields)


def test_email_message_when_valid_then_fields_kept() -> None:
    message = _email()

    assert (message.to, message.subject, message.kind) == (
        "alice@example.com",
        "Your code",
        "email.verification",
    )
    assert message.masked_to == "a***@example.com"


@pytest.mark.parametrize(
    "address",
    [
        "a@b.c\r\nBcc: x@y.z",
        "a@b.c\nBcc: x@y.z",
        "a@b.c\rBcc: x@y.z",
        "a@b.c\x00",
        "a@b.c\u2028Bcc: x@y.z",
    ],
)
def test_email_message_when_recipient_injects_header_then_refused(address: str) -> None:
    with pytest.raises(ValueError, match="line break or control character"):
        _email(to=address)


@pytest.mark.parametrize(
    "subject", ["Code\r\nBcc: x@y.z", "Code\nX-Priority: 1", "Code\r", "Code\t\x7f"]
)
def test_email_message_when_subject_injects_header_then_refused(subject: str) -> None:
    with pytest.raises(ValueError, match="line break or control character"):
        _email(subject=subject)


@pytest.mark.parametrize(
    "address",
    [
        "alice",
        "@example.com",
        "alice@",
        "alice@@example.com",
        "a@b@example.com",
        "alice@example.com, mallory@evil.test",
        "alice@example.com;mallory@evil.test",
        "Alice <alice@example.com>",
        "alice @example.com",
        "a" * 250 + "@b.cd",
    ],
)
def test_email_message_when_address_not_one_bare_address_then_refused(address: str) -> None:
    with pytest.raises(ValueError, match="email address"):
        _email(to=address)


def test_email_message_when_text_holds_line_breaks_then_accepted() -> None:
    assert _email(text="line one\r\nline two\n").text == "line one\r\nline two\n"


@pytest.mark.parametrize("field", ["subject", "text"])
def test_email_message_when_subject_or_text_blank_then_refused(field: str) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        _email(**{field: "  "})


@pytest.mark.parametrize(
    "kind", ["../../etc/passwd", "otp/sms", "OTP.SMS", "otp..sms", ".otp", "", "k" * 65, "otp sms"]
)
def test_message_when_kind_not_a_safe_name_then_refused(kind: str) -> None:
    with pytest.raises(ValueError, match="kind"):
        _email(kind=kind)
    with pytest.raises(ValueError, match="kind"):
        SmsMessage(to="+14155550123", text="Code 1", kind=kind)


@pytest.mark.parametrize("number", ["+14155550123", "+12345678", "+123456789012345"])
def test_sms_message_when_e164_then_accepted(number: str) -> None:
    assert SmsMessage(to=number, text="Code: 123456", kind="otp.sms").to == number


@pytest.mark.parametrize(
    "number",
    [
        "14155550123",
        "+1234567",
        "+1234567890123456",
        "+04155550123",
        "+1415555012a",
        "+1 415 555 0123",
        "+14155550123\n",
        "+١٤١٥٥٥٥٠١٢٣",  # Arabic-Indic digits match \d but are not E.164
        "",
    ],
)
def test_sms_message_when_not_e164_then_refused(number: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        SmsMessage(to=number, text="Code: 123456", kind="otp.sms")


def test_sms_message_when_text_too_long_then_refused() -> None:
    with pytest.raises(ValueError, match="longer than"):
        SmsMessage(to="+14155550123", text="x" * 1601, kind="otp.sms")


def test_messages_when_frozen_then_cannot_be_changed() -> None:
    message = SmsMessage(to="+14155550123", text="Code: 123456", kind="otp.sms")
    with pytest.raises(AttributeError):
        message.text = "other"  # type: ignore[misc]


def test_mask_when_recipients_masked_then_only_hints_remain() -> None:
    assert mask_email("alice@example.com") == "a***@example.com"
    assert mask_phone("+14155550123") == "+1********23"
    assert "555" not in mask_phone("+14155550123")
