"""The feed's pure checks: origins, the re-check of a session, client messages, endings."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import ip_network

import pytest
from starlette.requests import HTTPConnection

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.core.principal import SessionState
from tradeguard.gateway.feed_gate import origin_of
from tradeguard.identity.problems import AuthReason, unauthenticated
from tradeguard.identity.sessions import session_refusal
from tradeguard.ratelimit.verdicts import limits_unavailable
from tradeguard.trading.feed.api import hub_ending
from tradeguard.trading.feed.hub import FeedEndReason
from tradeguard.trading.feed.protocol import (
    AuthMessage,
    Ending,
    FeedRefusalError,
    PingMessage,
    handshake_token,
    parse_client_message,
)

NOW = 1_800_000_000 * NS_PER_SECOND
STATE = SessionState(
    session_id="s-1",
    user_id="u-1",
    revoked=False,
    last_active_ns=NOW - 60 * NS_PER_SECOND,
    idle_timeout_ns=900 * NS_PER_SECOND,
    expires_at_ns=NOW + 3600 * NS_PER_SECOND,
    step_up_at_ns=None,
    user_active=True,
    permission_version=3,
    ip_allowlist=(),
)


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://localhost:8443", "https://localhost:8443"),
        ("HTTPS://Trade.Example.COM:443/", "https://trade.example.com"),
        ("https://trade.example.com/app/page", "https://trade.example.com"),
        ("http://127.0.0.1:80", "http://127.0.0.1"),
        ("https://[::1]:8443", "https://[::1]:8443"),
        ("null", None),
        ("file:///etc/passwd", None),
        ("https://", None),
        ("https://host:99999", None),
        ("javascript:alert(1)", None),
    ],
)
def test_origin_of_when_given_a_url_then_scheme_host_and_explicit_port_only(
    url: str, origin: str | None
) -> None:
    assert origin_of(url) == origin


def test_session_refusal_when_the_session_stands_then_none() -> None:
    assert session_refusal(STATE, "u-1", 3, NOW, "203.0.113.7") is None


@pytest.mark.parametrize(
    ("changed", "reason"),
    [
        ({"revoked": True}, "AUTH_SESSION_REVOKED"),
        ({"user_id": "u-2"}, "AUTH_SESSION_REVOKED"),
        ({"user_active": False}, "AUTH_ACCOUNT_SUSPENDED"),
        ({"permission_version": 4}, "AUTH_TOKEN_STALE"),
        ({"expires_at_ns": NOW}, "AUTH_SESSION_EXPIRED"),
        ({"last_active_ns": NOW - 901 * NS_PER_SECOND}, "AUTH_SESSION_EXPIRED"),
        ({"ip_allowlist": (ip_network("198.51.100.0/24"),)}, "AUTH_IP_NOT_ALLOWED"),
    ],
)
def test_session_refusal_when_the_session_changed_then_the_reason(
    changed: dict[str, object], reason: str
) -> None:
    refused = session_refusal(replace(STATE, **changed), "u-1", 3, NOW, "203.0.113.7")  # type: ignore[arg-type]
    assert refused is not None
    assert refused.reason == reason


def test_session_refusal_when_the_session_is_gone_then_revoked() -> None:
    refused = session_refusal(None, "u-1", 3, NOW, None)
    assert refused is not None
    assert (refused.reason, refused.detail) == ("AUTH_SESSION_REVOKED", "the session has ended")


def test_session_refusal_when_idle_then_marked_idle_and_a_401() -> None:
    idle = replace(STATE, last_active_ns=NOW - 901 * NS_PER_SECOND)
    refused = session_refusal(idle, "u-1", 3, NOW, None)
    assert refused is not None
    assert refused.idle
    assert refused.problem().status == 401


def test_session_refusal_when_address_not_allowed_then_a_403() -> None:
    fenced = replace(STATE, ip_allowlist=(ip_network("198.51.100.0/24"),))
    refused = session_refusal(fenced, "u-1", 3, NOW, "203.0.113.7")
    assert refused is not None
    assert (refused.problem().status, refused.idle) == (403, False)


def _handshake(*headers: tuple[bytes, bytes]) -> HTTPConnection:
    return HTTPConnection({"type": "websocket", "headers": list(headers), "path": "/v1/stream"})


def test_handshake_token_when_bearer_header_then_the_token_else_none() -> None:
    assert handshake_token(_handshake((b"authorization", b"bEaReR  abc.def.ghi "))) == "abc.def.ghi"
    assert handshake_token(_handshake()) is None
    with pytest.raises(FeedRefusalError) as refused:
        handshake_token(_handshake((b"authorization", b"Basic YTpi")))
    assert refused.value.ending.reason_code == "AUTH_REQUIRED"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ('{"type":"ping"}', PingMessage(type="ping")),
        ('{"type":"ping","id":7}', PingMessage(type="ping")),
        ('{"type":"auth","token":"a.b.c"}', AuthMessage(type="auth", token="a.b.c")),
        ('{"type":"auth","token":"' + "a" * 5000 + '"}', None),
        ('{"type":"auth","token":null}', None),
        ('{"type":"order"}', None),
        ('{"type":["ping"]}', None),
        ('"ping"', None),
        ("[" * 5000 + "]" * 5000, None),
        ("\x00", None),
    ],
)
def test_parse_client_message_when_anything_arrives_then_a_message_or_none(
    text: str, parsed: object
) -> None:
    assert parse_client_message(text) == parsed


def test_ending_of_a_problem_when_the_limits_are_down_then_try_again_later() -> None:
    ending = Ending.of_problem(limits_unavailable())
    assert (ending.code, ending.reason_code) == (1013, "RATE_LIMIT_UNAVAILABLE")
    assert ending.message()["retry_after_seconds"] == ending.retry_after_seconds > 0


def test_ending_of_a_problem_when_refused_then_policy_violation_without_retry() -> None:
    ending = Ending.of_problem(unauthenticated(AuthReason.TOKEN_INVALID, "bad signature"))
    assert (ending.code, ending.reason_code, ending.detail) == (
        1008,
        "AUTH_TOKEN_INVALID",
        "bad signature",
    )
    assert "retry_after_seconds" not in ending.message()


def test_hub_ending_when_shutting_down_then_going_away_else_policy_violation() -> None:
    assert hub_ending(FeedEndReason.SHUTTING_DOWN).code == 1001
    slow = hub_ending(FeedEndReason.SLOW_CONSUMER)
    assert (slow.code, slow.reason_code) == (1008, "FEED_SLOW_CONSUMER")
    assert "REST" in slow.detail
