import io
import json
import logging
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, SecretStr

from tradeguard import logs

VISA = "4111111111111111"
VISA_SPACED = "4111 1111 1111 1111"
VISA_DASHED = "4111-1111-1111-1111"
AMEX = "378282246310005"
VISA_13 = "4222222222222"
UNIONPAY_19 = "6212345678901234569"
ORDER_ID = "1234567812345678"  # 16 digits, fails the Luhn check
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


def _reset_logging() -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, logs._TradeGuardHandler)]:
        root.removeHandler(handler)
        handler.close()
    logging.captureWarnings(capture=False)
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    logs.configure_logging(level="DEBUG", stream=buffer)
    yield buffer
    _reset_logging()


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def _only_line(buffer: io.StringIO) -> dict[str, Any]:
    lines = _lines(buffer)
    assert len(lines) == 1, buffer.getvalue()
    return lines[0]


def _raise(error: Exception) -> None:
    raise error


def _luhn_complete(body: list[int]) -> str:
    """Append the check digit that makes ``body`` Luhn-valid."""
    total = 0
    for position, digit in enumerate(reversed(body)):
        doubled = digit * 2 if position % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return "".join(map(str, body)) + str((10 - total % 10) % 10)


def test_configure_logging_when_event_logged_then_line_has_standard_keys(
    stream: io.StringIO,
) -> None:
    logs.get_logger("tradeguard.test").info("order.placed", symbol="AAPL")

    line = _only_line(stream)
    assert line["event"] == "order.placed"
    assert line["level"] == "info"
    assert line["logger"] == "tradeguard.test"
    assert line["symbol"] == "AAPL"
    assert line["timestamp"].endswith("Z")
    stamp = datetime.fromisoformat(line["timestamp"])
    assert stamp.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60


def test_configure_logging_when_level_unknown_then_value_error() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        logs.configure_logging(level="LOUD", stream=io.StringIO())


def test_configure_logging_when_level_is_warning_then_info_dropped() -> None:
    buffer = io.StringIO()
    logs.configure_logging(level="warning", stream=buffer)
    try:
        logs.get_logger("t").info("quiet")
        logs.get_logger("t").warning("loud")
    finally:
        _reset_logging()
    assert [line["event"] for line in _lines(buffer)] == ["loud"]


def test_configure_logging_when_level_filters_event_then_no_redaction_work() -> None:
    rendered: list[str] = []

    class Probe:
        def __str__(self) -> str:
            rendered.append("rendered")
            return "probe"

    buffer = io.StringIO()
    logs.configure_logging(level="WARNING", stream=buffer)
    try:
        logs.get_logger("t").debug("skipped", probe=Probe())
    finally:
        _reset_logging()
    assert buffer.getvalue() == ""
    assert rendered == []


def test_configure_logging_when_called_twice_then_one_line_per_event(
    stream: io.StringIO,
) -> None:
    logs.configure_logging(level="DEBUG", stream=stream)
    logs.get_logger("t").info("once")
    logging.getLogger("stdlib").warning("also once")

    assert [line["event"] for line in _lines(stream)] == ["once", "also once"]


def test_log_when_secret_keys_at_any_depth_then_values_masked(stream: io.StringIO) -> None:
    logs.get_logger("t").info(
        "login",
        password="hunter2",
        refreshToken="rt-value",
        company="ACME",
        headers={"X-Api-Key": "ak-value", "Cookie": "sid=cookie-value", "Accept": "json"},
        users=[{"PassWord": "pw-value", "name": "ann"}, ({"access_token": "at-value"},)],
        card={"pan": "pan-value", "expand": True},
    )

    raw = stream.getvalue()
    for secret in ("hunter2", "rt-value", "ak-value", "cookie-value", "pw-value", "at-value"):
        assert secret not in raw
    assert "pan-value" not in raw
    line = _only_line(stream)
    assert line["password"] == logs.REDACTED
    assert line["refreshToken"] == logs.REDACTED
    assert line["company"] == "ACME"
    assert line["headers"] == {"X-Api-Key": "[REDACTED]", "Cookie": "[REDACTED]", "Accept": "json"}
    assert line["users"] == [
        {"PassWord": "[REDACTED]", "name": "ann"},
        [{"access_token": "[REDACTED]"}],
    ]
    assert line["card"] == {"pan": "[REDACTED]", "expand": True}


_SECRET_KEYS = [
    "password",
    "DB_PASSWORD",
    "userPassword",
    "passwd",
    "client_secret",
    "refreshToken",
    "id_token",
    "api_key",
    "apiKey",
    "X-API-Key",
    "Authorization",
    "set-cookie",
    "private_key",
    "signature",
    "otp",
    "totpCode",
    "ssn",
    "tax_id",
    "card_number",
    "cardPan",
    "PAN",
    "pans",
    "cvv2",
    "account_number",
    "backup_codes",
]


@pytest.mark.parametrize("key", _SECRET_KEYS)
def test_is_secret_key_when_name_says_secret_then_true(key: str) -> None:
    assert logs.is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    ["company", "expand", "spinner", "footprint", "account_id", "symbol", "event", "request_id"],
)
def test_is_secret_key_when_name_is_ordinary_then_false(key: str) -> None:
    assert not logs.is_secret_key(key)


@pytest.mark.parametrize("card", [VISA, VISA_SPACED, VISA_DASHED, AMEX, VISA_13, UNIONPAY_19])
def test_log_when_card_number_in_message_then_masked(stream: io.StringIO, card: str) -> None:
    logs.get_logger("t").info(f"deposit from card {card} ok")

    line = _only_line(stream)
    assert line["event"] == "deposit from card [REDACTED:PAN] ok"


def test_log_when_card_number_followed_by_more_digits_then_card_still_masked(
    stream: io.StringIO,
) -> None:
    logs.get_logger("t").info(f"card {VISA_SPACED} 12 shares")

    assert _only_line(stream)["event"] == "card [REDACTED:PAN] 12 shares"


def test_log_when_two_card_readings_overlap_then_longest_masked(stream: io.StringIO) -> None:
    # Both the 13 digits alone and all 16 together pass the Luhn check.
    logs.get_logger("t").info(f"card {VISA_13} 006")

    assert _only_line(stream)["event"] == "card [REDACTED:PAN]"


@pytest.mark.parametrize(
    "number",
    [
        ORDER_ID,
        "62123456789012345676",  # Luhn-valid but 20 digits: longer than any card
        "422222222222",  # 12 digits: shorter than any card
    ],
)
def test_log_when_number_is_not_a_card_then_kept(stream: io.StringIO, number: str) -> None:
    logs.get_logger("t").info(f"order {number} filled", order_id=int(number))

    line = _only_line(stream)
    assert line["event"] == f"order {number} filled"
    assert line["order_id"] == int(number)


def test_log_when_card_number_is_an_int_or_positional_arg_then_masked(
    stream: io.StringIO,
) -> None:
    logs.get_logger("t").info("card %s", VISA, number=int(VISA))

    line = _only_line(stream)
    assert line["event"] == "card [REDACTED:PAN]"
    assert line["number"] == logs.REDACTED_PAN


def test_log_when_ssn_in_values_then_masked(stream: io.StringIO) -> None:
    logs.get_logger("t").info("kyc for 123-45-6789", note={"text": "ssn on file 987-65-4321"})

    line = _only_line(stream)
    assert line["event"] == "kyc for [REDACTED:SSN]"
    assert line["note"] == {"text": "ssn on file [REDACTED:SSN]"}


def test_log_when_jwt_or_bearer_in_text_then_masked(stream: io.StringIO) -> None:
    logs.get_logger("t").info(
        "auth", header="Authorization: Bearer opaque-token_123", detail=f"got {JWT} from idp"
    )

    raw = stream.getvalue()
    assert "opaque-token_123" not in raw
    assert JWT.split(".")[2] not in raw
    line = _only_line(stream)
    assert line["header"] == "Authorization: Bearer [REDACTED:TOKEN]"
    assert line["detail"] == "got [REDACTED:TOKEN] from idp"


def test_log_when_dsn_or_query_string_has_password_then_only_secret_masked(
    stream: io.StringIO,
) -> None:
    logs.get_logger("t").info(
        "connecting to postgresql://trader:s3cr3t@db.internal:5432/tg",
        redis="redis://:r3d1s@cache:6379/0",
        url="https://api.example/cb?token=abc123&state=ok",
        text='config {"db_password": "two words"} loaded',
    )

    raw = stream.getvalue()
    for secret in ("s3cr3t", "r3d1s", "abc123", "two words"):
        assert secret not in raw
    line = _only_line(stream)
    assert line["event"] == "connecting to postgresql://trader:[REDACTED]@db.internal:5432/tg"
    assert line["redis"] == "redis://:[REDACTED]@cache:6379/0"
    assert line["url"] == "https://api.example/cb?token=[REDACTED]&state=ok"
    assert line["text"] == 'config {"db_password": "[REDACTED]"} loaded'


def test_log_when_exception_message_has_password_then_traceback_masked(
    stream: io.StringIO,
) -> None:
    try:
        _raise(ConnectionError("login failed: password=hunter2 dsn=mysql://u:pw9@h/db"))
    except ConnectionError:
        logs.get_logger("t").exception("db.down")

    raw = stream.getvalue()
    assert "hunter2" not in raw
    assert "pw9" not in raw
    exception = _only_line(stream)["exception"]
    assert exception.startswith("Traceback (most recent call last):")
    assert "password=[REDACTED] dsn=mysql://u:[REDACTED]@h/db" in exception


def test_stdlib_when_exception_logged_then_traceback_masked(stream: io.StringIO) -> None:
    try:
        _raise(RuntimeError(f"charge failed for {VISA}"))
    except RuntimeError:
        logging.getLogger("payments").exception("charge")

    line = _only_line(stream)
    assert VISA not in stream.getvalue()
    assert "RuntimeError: charge failed for [REDACTED:PAN]" in line["exception"]


def test_stdlib_when_uvicorn_error_logs_then_redacted_json(stream: io.StringIO) -> None:
    logging.getLogger("uvicorn.error").info("client sent %s", "token=tk-9 card " + VISA)

    line = _only_line(stream)
    assert line["logger"] == "uvicorn.error"
    assert line["level"] == "info"
    assert line["event"] == "client sent token=[REDACTED] card [REDACTED:PAN]"


def test_configure_logging_when_uvicorn_access_had_own_handler_then_adopted() -> None:
    access = logging.getLogger("uvicorn.access")
    own = io.StringIO()
    access.addHandler(logging.StreamHandler(own))
    access.propagate = False
    buffer = io.StringIO()
    logs.configure_logging(stream=buffer)
    try:
        access.info('%s - "%s %s HTTP/1.1" %d', "10.0.0.1", "GET", "/x?api_key=k1", 200)
    finally:
        _reset_logging()

    assert own.getvalue() == ""
    line = _only_line(buffer)
    assert line["logger"] == "uvicorn.access"
    assert line["event"] == '10.0.0.1 - "GET /x?api_key=[REDACTED] HTTP/1.1" 200'


def test_configure_logging_when_warning_issued_then_logged_as_redacted_json(
    stream: io.StringIO,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("legacy option password=hunter2", UserWarning, stacklevel=1)

    line = _only_line(stream)
    assert line["logger"] == "py.warnings"
    assert "UserWarning: legacy option password=[REDACTED]" in line["event"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bearer abcdef", "Bearer [REDACTED:TOKEN]"),
        ("header bearer abcdef", "header bearer [REDACTED:TOKEN]"),
        ("Basic dXNlcjpwYXNz", "Basic [REDACTED:TOKEN]"),
        ("id eyJhbGciOi.eyJzdWIi.sig end", "id [REDACTED:TOKEN] end"),
        ("password=a:token=b rest", "password=[REDACTED] rest"),
        ("token=eyJhbGciOi.eyJzdWIi.sig", "token=[REDACTED:TOKEN]"),
        ("passwd is 'x' password='two words' ok", "passwd is 'x' password='[REDACTED]' ok"),
        ("company: ACME, pan: 12", "company: ACME, pan: [REDACTED]"),
    ],
)
def test_redact_when_free_text_has_secret_shapes_then_masked(text: str, expected: str) -> None:
    assert logs.redact(text) == expected


def test_log_when_request_id_bound_in_contextvars_then_in_line(stream: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-42", route="/orders")
    logs.get_logger("t").info("handled")
    logging.getLogger("uvicorn.error").warning("slow")

    for line in _lines(stream):
        assert line["request_id"] == "req-42"
        assert line["route"] == "/orders"
    assert len(_lines(stream)) == 2


def test_log_when_secret_str_or_model_then_value_hidden(stream: io.StringIO) -> None:
    class Login(BaseModel):
        user: str
        answer: SecretStr
        memo: str

    logs.get_logger("t").info(
        "x",
        value=SecretStr("plain-1"),
        model=Login(user="ann", answer=SecretStr("plain-2"), memo="pwd: plain-3"),
    )

    raw = stream.getvalue()
    for secret in ("plain-1", "plain-2", "plain-3"):
        assert secret not in raw
    line = _only_line(stream)
    assert line["value"] == logs.REDACTED
    assert line["model"] == {"user": "ann", "answer": "[REDACTED]", "memo": "pwd: [REDACTED]"}


def test_log_when_value_cannot_be_rendered_then_line_kept_and_marked(
    stream: io.StringIO,
) -> None:
    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    cycle: list[object] = []
    cycle.append(cycle)
    logs.get_logger("t").info("still logged", bad=Hostile(), cycle=cycle)

    line = _only_line(stream)
    assert line["event"] == "still logged"
    assert line["bad"] == logs.REDACTED_ERROR
    assert logs.REDACTED_DEPTH in json.dumps(line["cycle"])


def test_configure_logging_when_console_mode_then_readable_and_redacted() -> None:
    buffer = io.StringIO()
    logs.configure_logging(json=False, stream=buffer)
    try:
        logs.get_logger("t").info(
            "login password=hunter2",
            token="tk-secret-9",
            symbol="AAPL",
        )
    finally:
        _reset_logging()

    text = buffer.getvalue()
    assert "hunter2" not in text
    assert "tk-secret-9" not in text
    assert "symbol=AAPL" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_redact_when_plain_text_then_same_object_returned() -> None:
    message = "user opened the orders page"
    assert logs.redact(message) is message


@pytest.mark.parametrize("text", ["a" * 20_000 + " b:", "eyJ" + "a" * 20_000, "x" * 60_000 + "://"])
def test_redact_when_long_word_then_linear_time(text: str) -> None:
    started = time.perf_counter()
    assert logs.redact(text) == text
    assert time.perf_counter() - started < 1.0  # quadratic scanning takes over 10 s here


def test_redact_when_nested_containers_then_structure_kept() -> None:
    value = {"a": (1, int(VISA), {"Secret": 1}), "b": {"c", "d"}, "n": None, "f": 1.5}

    redacted = logs.redact(value)

    assert isinstance(redacted, dict)
    assert redacted["a"] == (1, logs.REDACTED_PAN, {"Secret": "[REDACTED]"})
    assert sorted(redacted["b"]) == ["c", "d"]
    assert redacted["n"] is None
    assert redacted["f"] == 1.5


_NO_DIGITS = st.text(alphabet=st.characters(exclude_categories=["Nd", "Cs"]), max_size=30)
_SHORT_DIGITS = st.from_regex(r"[0-9]{1,12}", fullmatch=True)
_SEPARATOR = st.sampled_from([" ", "-"])
_LEFT_DIGITS = st.one_of(st.just(""), st.tuples(_SHORT_DIGITS, _SEPARATOR).map("".join))
_RIGHT_DIGITS = st.one_of(st.just(""), st.tuples(_SEPARATOR, _SHORT_DIGITS).map("".join))


@given(
    body=st.lists(st.integers(0, 9), min_size=15, max_size=15),
    layout=st.sampled_from(["", " ", "-"]),
    around=st.tuples(_NO_DIGITS, _LEFT_DIGITS, _RIGHT_DIGITS, _NO_DIGITS),
)
def test_log_when_luhn_card_embedded_in_random_text_then_never_emitted(
    body: list[int], layout: str, around: tuple[str, str, str, str]
) -> None:
    before, left, right, after = around
    digits = _luhn_complete(body)
    assert logs.luhn_valid(digits)
    card = layout.join(digits[i : i + 4] for i in range(0, 16, 4))
    buffer = io.StringIO()
    logs.configure_logging(stream=buffer)
    try:
        logs.get_logger("t").info(f"{before}{left}{card}{right}{after}")
    finally:
        _reset_logging()

    event = _only_line(buffer)["event"]
    assert card not in event
    assert digits not in event


@given(st.text(max_size=200))
def test_redact_when_arbitrary_text_then_returns_text(text: str) -> None:
    assert isinstance(logs.redact(text), str)


_FRAGMENTS = st.sampled_from(
    ["password", "pwd", "token", ":", "=", " ", "Bearer ", "Basic ", "eyJhb", ".x", "://", "@", "-"]
)


@given(st.lists(st.one_of(_FRAGMENTS, _NO_DIGITS), max_size=12).map("".join))
def test_redact_when_fast_path_skips_text_then_no_rule_would_have_matched(text: str) -> None:
    if logs._TRIGGER_RE.search(text) is None:
        assert logs._apply_text_rules(text) == text


def test_info_line_when_json_configured_then_same_line_as_the_structlog_chain(
    stream: io.StringIO,
) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-7")
    fields = {"method": "POST", "route": "/v1/orders", "status": 201, "latency_ms": 1.5}
    logs.get_logger("tradeguard.http").info("http.request", **fields)
    logs.info_line("tradeguard.http", "http.request", dict(fields))

    chained, direct = _lines(stream)
    assert direct.pop("timestamp").endswith("Z")
    chained.pop("timestamp")
    assert direct == chained
    assert direct["request_id"] == "req-7"


def test_info_line_when_values_hold_secrets_then_redacted_like_any_line(
    stream: io.StringIO,
) -> None:
    card = _luhn_complete([4, 1, 1, 1] * 3 + [1, 1, 1])
    structlog.contextvars.bind_contextvars(request_id=card)
    logs.info_line("tradeguard.http", "http.request", {"token": "abc", "route": "/x"})

    line = _only_line(stream)
    assert line["token"] == logs.REDACTED
    assert line["request_id"] == logs.REDACTED_PAN
    assert card not in stream.getvalue()


def test_info_line_when_level_above_info_then_nothing_written() -> None:
    buffer = io.StringIO()
    logs.configure_logging(level="WARNING", stream=buffer)
    try:
        logs.info_line("tradeguard.http", "http.request", {"status": 200})
    finally:
        _reset_logging()
    assert buffer.getvalue() == ""


def test_info_line_when_logs_captured_then_goes_through_structlog(stream: io.StringIO) -> None:
    with structlog.testing.capture_logs() as captured:
        logs.info_line("tradeguard.http", "http.request", {"status": 200})

    assert captured == [{"event": "http.request", "status": 200, "log_level": "info"}]
    assert stream.getvalue() == ""
