"""Text messages through an HTTP SMS provider: a JSON POST with a bearer API key.

Plain ``http://`` is accepted only for a loopback host (a local relay or a test
double); redirects are never followed, so the key is sent to the configured host only.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from http import HTTPStatus
from http.client import HTTPException
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from tradeguard.config import Settings
from tradeguard.core.errors import ConfigurationError
from tradeguard.logs import get_logger
from tradeguard.notify.messages import DeliveryError, SmsMessage

MESSAGES_PATH = "/messages"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SmsHttpConfig:
    """The provider endpoint, its API key and the sender name shown to recipients."""

    base_url: str
    api_key: SecretStr
    sender: str
    timeout_seconds: int
    ca_file: Path | None = None

    def __post_init__(self) -> None:
        require_safe_base_url(self.base_url)
        if not self.api_key.get_secret_value():
            raise ConfigurationError("the SMS API key is empty")

    @classmethod
    def from_settings(cls, settings: Settings, *, ca_file: Path | None = None) -> SmsHttpConfig:
        """The provider configuration the settings describe; both URL and key are required."""
        if not settings.sms_base_url or settings.sms_api_key is None:
            raise ConfigurationError(
                "sms_backend=http needs TRADEGUARD_SMS_BASE_URL and TRADEGUARD_SMS_API_KEY"
            )
        return cls(
            base_url=settings.sms_base_url,
            api_key=settings.sms_api_key,
            sender=settings.sms_sender,
            timeout_seconds=settings.sms_timeout_seconds,
            ca_file=ca_file,
        )

    @property
    def messages_url(self) -> str:
        """Where messages are POSTed."""
        return self.base_url.rstrip("/") + MESSAGES_PATH

    @property
    def is_loopback(self) -> bool:
        """Whether the provider runs on this machine."""
        return is_loopback_host(urlsplit(self.base_url).hostname or "")


class HttpSmsSender:
    """Delivers text messages by POSTing ``{"to", "from", "text"}`` to ``BASE/messages``."""

    def __init__(self, config: SmsHttpConfig) -> None:
        self._config = config
        self._opener = _build_opener(config)

    def send_sms(self, message: SmsMessage) -> None:
        """Deliver ``message``; a non-2xx answer or a network error raises `DeliveryError`."""
        try:
            status = self._post(message)
        except (OSError, HTTPException, ValueError) as exc:
            reason = _describe_failure(exc)
            _log.warning(
                "notify.sms.failed", kind=message.kind, to=message.masked_to, reason=reason
            )
            raise DeliveryError(f"text message to {message.masked_to} failed: {reason}") from None
        _log.info("notify.sms.sent", kind=message.kind, to=message.masked_to, status=status)

    def _post(self, message: SmsMessage) -> int:
        body = {"to": message.to, "from": self._config.sender, "text": message.text}
        request = urllib.request.Request(  # noqa: S310 - the scheme was checked in the config
            self._config.messages_url,
            data=json.dumps(body).encode("utf-8"),
            headers={
                "Authorization": f"Bearer {self._config.api_key.get_secret_value()}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            method="POST",
        )
        with self._opener.open(request, timeout=self._config.timeout_seconds) as response:
            response.read()
            return int(response.status)


def require_safe_base_url(url: str) -> None:
    """Raise `ConfigurationError` unless ``url`` is https, or http to a loopback host."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ConfigurationError(f"SMS base URL must be an absolute https URL, not {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError("SMS base URL must not carry credentials; use the API key")
    if parts.query or parts.fragment:
        raise ConfigurationError("SMS base URL must not have a query or fragment")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigurationError("SMS base URL must use https unless the host is loopback")


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine: ``localhost`` or a loopback IP address."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Turns every 3xx into an error instead of re-sending the key elsewhere."""

    def redirect_request(  # noqa: PLR0913, PLR0917 - the base class signature
        self,
        req: urllib.request.Request,  # noqa: ARG002
        fp: object,  # noqa: ARG002
        code: int,  # noqa: ARG002
        msg: str,  # noqa: ARG002
        headers: object,  # noqa: ARG002
        newurl: str,  # noqa: ARG002
    ) -> None:
        """Follow nothing; the opener then raises ``HTTPError`` for the 3xx answer."""
        return


def _build_opener(config: SmsHttpConfig) -> urllib.request.OpenerDirector:
    ca_file = None if config.ca_file is None else str(config.ca_file)
    context = ssl.create_default_context(cafile=ca_file)
    # A loopback provider must not be reached through a proxy from the environment.
    proxies = urllib.request.ProxyHandler({} if config.is_loopback else None)
    return urllib.request.build_opener(
        proxies, _RefuseRedirects(), urllib.request.HTTPSHandler(context=context)
    )


def _describe_failure(exc: BaseException) -> str:
    """The HTTP status or network reason, never the request body or the API key."""
    if isinstance(exc, urllib.error.HTTPError):
        exc.close()
        return f"provider answered HTTP {exc.code} {_phrase(exc.code)}".rstrip()
    if isinstance(exc, urllib.error.URLError):
        return f"{type(exc).__name__} ({_reason(exc.reason)})"
    return _reason(exc)


def _reason(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return f"{type(reason).__name__}: {reason.strerror}"
    if isinstance(reason, BaseException):
        return type(reason).__name__
    return str(reason)


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""
