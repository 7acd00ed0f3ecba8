import io

import pytest
from notify_doubles import TlsFiles, free_port, log_events, sms_provider
from pydantic import SecretStr

from tradeguard.core.errors import ConfigurationError
from tradeguard.notify import DeliveryError, HttpSmsSender, SmsHttpConfig, SmsMessage

API_KEY = "sk_test_4f9a2c"
CODE = "381920"
MESSAGE = SmsMessage(to="+14155550123", text=f"TradeGuard code: {CODE}", kind="otp.sms")


def _config(base_url: str, **changes: object) -> SmsHttpConfig:
    values: dict[str, object] = {
        "base_url": base_url,
        "api_key": SecretStr(API_KEY),
        "sender": "TradeGuard",
        "timeout_seconds": 5,
    }
    values.update(changes)
    return SmsHttpConfig(**values)  # type: ignore[arg-type]


def test_sms_http_when_sent_then_json_body_and_bearer_arrive() -> None:
    with sms_provider() as provider:
        HttpSmsSender(_config(provider.base_url + "/v1/")).send_sms(MESSAGE)

    [request] = provider.requests
    assert request.path == "/v1/messages"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {
        "to": "+14155550123",
        "from": "TradeGuard",
        "text": f"TradeGuard code: {CODE}",
    }


def test_sms_http_when_https_with_trusted_ca_then_delivered(tls_files: TlsFiles) -> None:
    with sms_provider(tls_files) as provider:
        HttpSmsSender(_config(provider.base_url, ca_file=tls_files.ca_file)).send_sms(MESSAGE)

    assert provider.base_url.startswith("https://")
    assert provider.requests[0].json()["to"] == "+14155550123"


def test_sms_http_when_https_certificate_untrusted_then_delivery_error_and_key_kept(
    tls_files: TlsFiles,
) -> None:
    with sms_provider(tls_files) as provider:
        sender = HttpSmsSender(_config(provider.base_url))  # system CAs only
        with pytest.raises(DeliveryError, match="SSLCertVerificationError"):
            sender.send_sms(MESSAGE)

    assert provider.requests == []


@pytest.mark.parametrize("status", [500, 400, 401, 429])
def test_sms_http_when_provider_answers_error_then_delivery_error_without_text(
    status: int, log_stream: io.StringIO
) -> None:
    with sms_provider() as provider:
        provider.status = status
        with pytest.raises(DeliveryError, match=f"HTTP {status}") as raised:
            HttpSmsSender(_config(provider.base_url)).send_sms(MESSAGE)

    for private in (CODE, API_KEY, "+14155550123"):
        assert private not in str(raised.value)
        assert private not in log_stream.getvalue()
    [failure] = log_events(log_stream, "notify.sms.failed")
    assert failure["to"] == "+1********23"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_sms_http_when_provider_redirects_then_key_not_forwarded(status: int) -> None:
    with sms_provider() as elsewhere, sms_provider() as provider:
        provider.status = status
        provider.location = elsewhere.base_url + "/messages"
        with pytest.raises(DeliveryError, match=f"HTTP {status}"):
            HttpSmsSender(_config(provider.base_url)).send_sms(MESSAGE)

    assert len(provider.requests) == 1
    assert elsewhere.requests == []


def test_sms_http_when_provider_unreachable_then_delivery_error() -> None:
    sender = HttpSmsSender(_config(f"http://127.0.0.1:{free_port()}"))

    with pytest.raises(DeliveryError, match="ConnectionRefusedError") as raised:
        sender.send_sms(MESSAGE)

    assert CODE not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://sms.example.com",
        "http://127.0.0.1.evil.example",
        "http://localhost.evil.example",
        "http://10.0.0.5",
        "ftp://127.0.0.1",
        "file:///etc/passwd",
        "sms.example.com/api",
        "https://user:pass@sms.example.com",
        "https://sms.example.com/api?key=1",
    ],
)
def test_sms_http_config_when_url_unsafe_then_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="SMS base URL"):
        _config(url)


@pytest.mark.parametrize(
    "url",
    ["https://sms.example.com/api", "http://127.0.0.1:8080", "http://localhost", "http://[::1]:81"],
)
def test_sms_http_config_when_https_or_loopback_then_accepted(url: str) -> None:
    assert _config(url).messages_url == url.rstrip("/") + "/messages"


def test_sms_http_config_when_api_key_empty_then_refused() -> None:
    with pytest.raises(ConfigurationError, match="API key"):
        _config("https://sms.example.com", api_key=SecretStr(""))


def test_sms_http_config_when_shown_then_api_key_hidden() -> None:
    assert API_KEY not in repr(_config("https://sms.example.com"))
