"""The order feed, WebSocket ``/v1/stream``: authentication, own events only, limits, ends.

Three ways in: the application in-process (``TestClient``'s WebSocket support), the same
application behind the real TLS server in a thread (``server_config``: the HTTP protocol,
its upgrade and uvicorn's WebSocket protocol), and ``tradeguard serve`` as shipped. Events
are published through ``registry_of(app).trading_feed`` as the trading desk does after a commit.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect
from trading_flows import add_instrument, funded_trader, place
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

from functional.identity_flows import (
    Person,
    audit_event_types,
    bearer,
    build_app,
    enrolment_session,
    refresh,
    set_user_status,
    signed_up_with_totp,
    staff_signed_in,
)
from live_api import Api
from live_api import Person as LivePerson
from support import LiveServer, TestDatabase, registry_of, running_server
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.gateway.server import server_config
from tradeguard.gateway.tls import DevCertificatePaths, ensure_dev_certificate
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind
from tradeguard.trading.feed.hub import FeedHub

FEED = "/v1/stream"
OWN_ORIGIN = "https://localhost:8443"
PATIENCE_SECONDS = 20
"""How long a client here waits for anything; far beyond every configured limit."""
POLICY = 1008
FEED_LIMITS: dict[str, object] = {
    "feed_auth_timeout_seconds": 1,
    "feed_session_check_seconds": 1,
    "feed_max_connections_per_user": 2,
    "feed_max_connections": 3,
    "feed_max_pending_events": 4,
    "header_timeout_seconds": 3,
}


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(**FEED_LIMITS)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The served feed in one process: the per-user cap counts per gateway worker
    (decision 23), and this module checks the cap itself."""
    workdir = tmp_path_factory.mktemp("live-feed")
    (workdir / ".env").write_text("TRADEGUARD_SERVE_WORKERS=1\n")
    with running_server(workdir) as server:
        yield server


# ---------------------------------------------------------------- helpers


def hub_of(app: FastAPI) -> FeedHub:
    hub: FeedHub = registry_of(app).trading_feed
    return hub


def trader(client: TestClient, mailbox: MemorySender, clock: FixedClock, name: str) -> Person:
    return signed_up_with_totp(client, mailbox, clock, Person(name, f"{name}@example.com"))


def token_of(person: Person) -> str:
    token: str = person.tokens["access_token"]
    return token


def user_id_of(person: Person) -> str:
    user_id: str = claims_of(token_of(person))["sub"]
    return user_id


def order_event(number: int, note: str = "") -> dict[str, Any]:
    return {"type": "order", "order": {"id": f"o-{number}", "status": "NEW", "note": note}}


@contextmanager
def feed_of(client: TestClient, token: str) -> Iterator[WebSocketTestSession]:
    """An open feed (authenticated by header), past its ``ready`` message."""
    with client.websocket_connect(FEED, headers=bearer(token)) as websocket:
        ready = websocket.receive_json()
        assert ready["type"] == "ready", ready
        yield websocket


def refusal(websocket: WebSocketTestSession) -> tuple[int, str]:
    """The close code and reason of a feed the server ends, after its ``error`` message."""
    error = websocket.receive_json()
    assert error["type"] == "error", error
    with pytest.raises(WebSocketDisconnect) as closed:
        websocket.receive_text()
    assert closed.value.reason == error["reason_code"]
    return closed.value.code, str(closed.value.reason)


def refused_with(client: TestClient, **connect: Any) -> tuple[int, str]:
    """How the server ends a connection opened with these handshake options."""
    with client.websocket_connect(FEED, **connect) as websocket:
        return refusal(websocket)


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a token, unchecked."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def forged(token: str) -> str:
    """The token with its expiry a day later: the signature no longer matches."""
    header, _, signature = token.split(".")
    claims = claims_of(token)
    claims["exp"] += 86_400
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{changed}.{signature}"


def wait_until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


# ---------------------------------------------------------------- in-process: own events


def test_feed_when_two_users_listen_then_each_receives_only_their_own_events(
    client: TestClient, app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    bob = trader(client, mailbox, clock, "bob")
    hub = hub_of(app)
    with feed_of(client, token_of(alice)) as alice_feed, feed_of(client, token_of(bob)) as bob_feed:
        hub.publish(user_id_of(alice), order_event(1))
        hub.publish(user_id_of(bob), {"type": "execution", "execution": {"id": "x-1"}})
        hub.publish(user_id_of(alice), order_event(2))
        assert alice_feed.receive_json() == {**order_event(1), "seq": 1}
        assert alice_feed.receive_json() == {**order_event(2), "seq": 2}
        assert bob_feed.receive_json() == {
            "type": "execution",
            "execution": {"id": "x-1"},
            "seq": 1,
        }
        bob_feed.send_json({"type": "ping"})
        assert bob_feed.receive_json() == {"type": "pong"}  # nothing of alice's came first


def test_feed_when_token_comes_in_the_first_message_then_ready_with_seq_and_expiry(
    client: TestClient, app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    with client.websocket_connect(FEED) as websocket:
        websocket.send_json({"type": "auth", "token": token_of(alice)})
        ready = websocket.receive_json()
        expires = claims_of(token_of(alice))["exp"]
        assert ready["type"] == "ready"
        assert ready["seq"] == 0
        assert datetime.fromisoformat(ready["expires_at"]).timestamp() == expires
        hub_of(app).publish(user_id_of(alice), order_event(1))
        assert websocket.receive_json()["seq"] == 1


def feed_messages(websocket: WebSocketTestSession, count: int) -> list[dict[str, Any]]:
    return [websocket.receive_json() for _ in range(count)]


def test_feed_when_orders_trade_at_the_desk_then_each_trader_gets_only_their_own_events(
    client: TestClient, app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> None:
    add_instrument(app, "ACME", "100.00")
    alice = funded_trader(client, mailbox, clock, app, "alice")
    bob = funded_trader(client, mailbox, clock, app, "bob", kind=AccountKind.MARGIN)
    add_instrument(app, "ACME", "100.00")  # a fresh reference price after the sign-ups
    with feed_of(client, token_of(alice)) as alice_feed, feed_of(client, token_of(bob)) as bob_feed:
        bought = place(client, alice, side="buy", quantity=5, limit_price="100.00").json()
        sold = place(client, bob, side="sell_short", quantity=5, limit_price="100.00").json()
        # alice: her order resting, then filled, and its fill; bob: his order and its fill
        alice_events, bob_events = feed_messages(alice_feed, 3), feed_messages(bob_feed, 2)
    assert [event["seq"] for event in alice_events] == [1, 2, 3]
    assert [event["seq"] for event in bob_events] == [1, 2]
    assert {own_order_id(event) for event in alice_events} == {bought["id"]}
    assert {own_order_id(event) for event in bob_events} == {sold["id"]}
    assert sorted(event["type"] for event in alice_events) == ["execution", "order", "order"]
    assert alice_events[0]["order"]["status"] == "open"


def own_order_id(event: dict[str, Any]) -> str:
    """The order an event is about."""
    order_id: str = (
        event["order"]["id"] if event["type"] == "order" else event["execution"]["order_id"]
    )
    return order_id


# ---------------------------------------------------------------- in-process: refusals


@pytest.mark.parametrize("delivery", ["header", "message"])
@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("garbage", "AUTH_TOKEN_INVALID"),
        ("forged", "AUTH_TOKEN_INVALID"),
        ("expired", "AUTH_TOKEN_EXPIRED"),
    ],
)
def test_feed_when_token_is_not_good_then_closed_with_policy_violation(  # noqa: PLR0913 - fixtures and cases
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    settings: Settings,
    *,
    kind: str,
    reason: str,
    delivery: str,
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    token = {"garbage": "not.a-token.at-all", "forged": forged(token_of(alice))}.get(
        kind, token_of(alice)
    )
    if kind == "expired":
        clock.advance(seconds=settings.access_token_seconds)
    if delivery == "header":
        assert refused_with(client, headers=bearer(token)) == (POLICY, reason)
    else:
        with client.websocket_connect(FEED) as websocket:
            websocket.send_json({"type": "auth", "token": token})
            assert refusal(websocket) == (POLICY, reason)


@pytest.mark.parametrize(
    "first",
    [
        None,
        '{"type": "ping"}',
        "not json",
        '{"type": "auth"}',
        '{"type": "auth", "token": 42}',
    ],
)
def test_feed_when_no_auth_message_comes_first_then_auth_required(
    client: TestClient, first: str | None
) -> None:
    with client.websocket_connect(FEED) as websocket:
        if first is not None:
            websocket.send_text(first)
        assert refusal(websocket) == (POLICY, "AUTH_REQUIRED")


def test_feed_when_authorization_is_not_a_bearer_token_then_auth_required(
    client: TestClient,
) -> None:
    headers = {"Authorization": "Basic YWxpY2U6c2VjcmV0"}
    assert refused_with(client, headers=headers) == (POLICY, "AUTH_REQUIRED")


def test_feed_when_session_is_enrolment_only_then_refused_until_a_factor_is_enrolled(
    client: TestClient, mailbox: MemorySender
) -> None:
    person = enrolment_session(client, mailbox, Person("carol", "carol@example.com"))
    refused = refused_with(client, headers=person.headers)
    assert refused == (POLICY, "AUTH_MFA_ENROLLMENT_REQUIRED")


def test_feed_when_caller_lacks_account_view_then_access_denied_and_audited(
    client: TestClient,
    app: FastAPI,
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database: TestDatabase,
) -> None:
    support = staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="SUPPORT", level="operator"
    )
    assert refused_with(client, headers=support.headers) == (POLICY, "ACCESS_DENIED")
    registry_of(app).access_checks.flush()
    assert "access.check.denied" in audit_event_types(clean_database.engine)


@pytest.mark.parametrize(
    ("origin", "opens"),
    [
        (OWN_ORIGIN, True),
        ("HTTPS://LOCALHOST:8443", True),
        ("https://evil.example", False),
        ("https://localhost:8444", False),
        ("null", False),
    ],
)
def test_feed_when_browser_origin_is_checked_then_only_the_service_origin_opens(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    origin: str,
    *,
    opens: bool,
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    headers = {**bearer(token_of(alice)), "Origin": origin}
    with client.websocket_connect(FEED, headers=headers) as websocket:
        if opens:
            assert websocket.receive_json()["type"] == "ready"
        else:
            assert refusal(websocket) == (POLICY, "FEED_ORIGIN_NOT_ALLOWED")


def test_feed_when_handshakes_pass_the_address_limit_then_rate_limited(
    settings_for: Callable[..., Settings],
    clean_database: TestDatabase,
    clock: FixedClock,
    mailbox: MemorySender,
) -> None:
    limited = settings_for(**FEED_LIMITS, rate_limit_ip_read="2/minute")
    app = build_app(limited, clean_database.engine, clock, mailbox)
    with TestClient(app, base_url="https://testserver") as client:
        for _ in range(2):
            assert refused_with(client)[1] == "AUTH_REQUIRED"  # counted, then no token
        with client.websocket_connect(FEED) as websocket:
            error = websocket.receive_json()
            assert error["reason_code"] == "RATE_LIMITED"
            assert error["retry_after_seconds"] > 0
            with pytest.raises(WebSocketDisconnect) as closed:
                websocket.receive_text()
            assert (closed.value.code, closed.value.reason) == (POLICY, "RATE_LIMITED")


def test_feed_when_sign_ins_pass_the_users_read_limit_then_rate_limited(
    settings_for: Callable[..., Settings],
    clean_database: TestDatabase,
    clock: FixedClock,
    mailbox: MemorySender,
) -> None:
    limited = settings_for(**FEED_LIMITS, rate_limit_user_read="3/minute")
    app = build_app(limited, clean_database.engine, clock, mailbox)
    with TestClient(app, base_url="https://testserver") as client:
        token = token_of(trader(client, mailbox, clock, "alice"))
        endings = []
        for _ in range(4):
            with client.websocket_connect(FEED, headers=bearer(token)) as websocket:
                first = websocket.receive_json()
                endings.append(first.get("reason_code", first["type"]))
        assert endings[-1] == "RATE_LIMITED", endings
        assert "ready" in endings, endings


# ---------------------------------------------------------------- in-process: messages


def test_feed_when_client_sends_junk_then_error_replies_and_the_feed_goes_on(
    client: TestClient, app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    junk = ["not json", "[]", '{"type": "subscribe"}', '{"type": "auth"}', "{" * 4000, '""']
    with feed_of(client, token_of(alice)) as websocket:
        for text in junk:
            websocket.send_text(text)
            answer = websocket.receive_json()
            assert (answer["type"], answer["reason_code"]) == ("error", "FEED_BAD_MESSAGE")
        websocket.send_json({"type": "ping", "extra": [1, 2]})
        assert websocket.receive_json() == {"type": "pong"}
        hub_of(app).publish(user_id_of(alice), order_event(1))
        assert websocket.receive_json()["seq"] == 1


@pytest.mark.parametrize(
    ("message", "ending"),
    [
        ({"bytes": b'{"type": "ping"}'}, (1003, "FEED_BINARY_NOT_ACCEPTED")),
        ({"text": " " * 9000}, (1009, "FEED_MESSAGE_TOO_BIG")),
    ],
)
def test_feed_when_client_sends_binary_or_oversized_data_then_closed(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    message: dict[str, Any],
    ending: tuple[int, str],
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    with feed_of(client, token_of(alice)) as websocket:
        websocket.send({"type": "websocket.receive", **message})
        assert refusal(websocket) == ending
    with client.websocket_connect(FEED) as websocket:  # also in place of the auth message
        websocket.send({"type": "websocket.receive", **message})
        assert refusal(websocket) == ending


# ---------------------------------------------------------------- in-process: limits and ends


def test_feed_when_a_user_opens_more_than_allowed_then_the_extra_one_is_refused(
    client: TestClient, app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    bob = trader(client, mailbox, clock, "bob")
    with feed_of(client, token_of(alice)), feed_of(client, token_of(alice)):
        refused = refused_with(client, headers=alice.headers)
        assert refused == (POLICY, "FEED_TOO_MANY_CONNECTIONS")
        with feed_of(client, token_of(bob)):
            assert hub_of(app).watching(user_id_of(bob)) == 1
    wait_until(lambda: hub_of(app).watching(user_id_of(alice)) == 0)
    with feed_of(client, token_of(alice)):
        assert hub_of(app).watching(user_id_of(alice)) == 1


def test_feed_when_the_access_token_expires_then_the_feed_is_closed(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, settings: Settings
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    with feed_of(client, token_of(alice)) as websocket:
        clock.advance(seconds=settings.access_token_seconds)
        assert refusal(websocket) == (POLICY, "AUTH_TOKEN_EXPIRED")


def test_feed_when_a_fresh_token_comes_before_expiry_then_the_feed_lives_on_until_it_expires(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, settings: Settings
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    lifetime = settings.access_token_seconds
    with feed_of(client, token_of(alice)) as websocket:
        clock.advance(seconds=lifetime - 60)
        fresh = refresh(client, alice.tokens["refresh_token"]).json()["access_token"]
        websocket.send_json({"type": "auth", "token": fresh})
        assert websocket.receive_json()["type"] == "authenticated"
        clock.advance(seconds=120)  # past the first token's expiry
        assert client.get("/v1/me", headers=bearer(fresh)).status_code == 200  # not idle
        time.sleep(settings.feed_session_check_seconds * 2)  # the guard has looked again
        websocket.send_json({"type": "ping"})
        assert websocket.receive_json() == {"type": "pong"}
        clock.advance(seconds=lifetime - 120)  # the fresh token's expiry
        assert refusal(websocket) == (POLICY, "AUTH_TOKEN_EXPIRED")


def test_feed_when_a_fresh_token_is_of_another_user_then_closed(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    bob = trader(client, mailbox, clock, "bob")
    with feed_of(client, token_of(alice)) as websocket:
        websocket.send_json({"type": "auth", "token": token_of(bob)})
        assert refusal(websocket) == (POLICY, "FEED_USER_MISMATCH")


def test_feed_when_the_session_is_signed_out_then_the_feed_is_closed(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    with feed_of(client, token_of(alice)) as websocket:
        assert client.post("/v1/auth/logout", headers=alice.headers).status_code == 204
        assert refusal(websocket) == (POLICY, "AUTH_SESSION_REVOKED")


def test_feed_when_the_account_is_suspended_then_the_feed_is_closed(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database: TestDatabase
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    with feed_of(client, token_of(alice)) as websocket:
        set_user_status(clean_database.engine, alice.username, "suspended")
        assert refusal(websocket) == (POLICY, "AUTH_ACCOUNT_SUSPENDED")


def test_feed_when_the_users_feeds_are_closed_by_the_service_then_closed_at_once(
    client: TestClient, app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    bob = trader(client, mailbox, clock, "bob")
    with feed_of(client, token_of(alice)) as alice_feed, feed_of(client, token_of(bob)) as bob_feed:
        hub_of(app).close_user(user_id_of(alice))
        assert refusal(alice_feed) == (POLICY, "AUTH_SESSION_REVOKED")
        bob_feed.send_json({"type": "ping"})
        assert bob_feed.receive_json() == {"type": "pong"}


def test_feed_when_the_application_shuts_down_then_feeds_end_going_away(
    app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        alice = trader(client, mailbox, clock, "alice")
        with feed_of(client, token_of(alice)) as websocket:
            hub_of(app).close()
            assert refusal(websocket) == (1001, "FEED_SHUTTING_DOWN")
            assert refused_with(client, headers=alice.headers) == (1001, "FEED_SHUTTING_DOWN")


# ---------------------------------------------------------------- the real TLS server


@dataclass(frozen=True)
class TlsServer:
    port: int
    ca_file: Path

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def feed(self, token: str | None = None, **options: Any) -> ClientConnection:
        headers = bearer(token) if token else {}
        return connect(
            f"wss://localhost:{self.port}{FEED}",
            ssl=self.context(),
            additional_headers=headers,
            open_timeout=PATIENCE_SECONDS,
            close_timeout=PATIENCE_SECONDS,
            ping_interval=None,
            **options,
        )

    def tls_socket(self) -> ssl.SSLSocket:
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE_SECONDS)
        return self.context().wrap_socket(raw, server_hostname="localhost")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(app: FastAPI, settings: Settings) -> Iterator[tuple[TlsServer, uvicorn.Server]]:
    """``app`` behind the real server (``server_config``) in a thread, on a free port."""
    ensure_dev_certificate(settings.tls_dir, datetime.now(UTC))
    config = server_config(app, settings)
    config.port = _free_port()
    config.lifespan = "off"  # the TestClient runs the application's lifespan
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started)
        yield TlsServer(config.port, DevCertificatePaths.under(settings.tls_dir).ca_cert), server
    finally:
        server.should_exit = True
        thread.join(timeout=PATIENCE_SECONDS * 2)
        assert not thread.is_alive(), "the server did not stop"


@pytest.fixture
def tls_server(app: FastAPI, settings: Settings, client: TestClient) -> Iterator[TlsServer]:
    del client  # started first: its lifespan is the application's
    with serving(app, settings) as (server, _):
        yield server


def read_response(tls: ssl.SSLSocket) -> bytes:
    """One whole HTTP response (head and ``Content-Length`` body), nothing after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += tls.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length: *(\d+)", head)
    assert length is not None, head
    while len(body) < int(length.group(1)):
        body += tls.recv(4096)
    return data


def ready_of(websocket: ClientConnection) -> dict[str, Any]:
    ready: dict[str, Any] = json.loads(websocket.recv(timeout=PATIENCE_SECONDS))
    assert ready["type"] == "ready", ready
    return ready


def events_until_closed(websocket: ClientConnection) -> list[dict[str, Any]]:
    """Every message until the server closes (a silence of ``PATIENCE_SECONDS`` fails)."""
    received = []
    try:
        while True:
            received.append(json.loads(websocket.recv(timeout=PATIENCE_SECONDS)))
    except ConnectionClosed:
        return received


@pytest.mark.live_server
def test_tls_feed_when_events_are_published_then_each_owner_receives_theirs_over_wss(
    tls_server: TlsServer,
    app: FastAPI,
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    bob = trader(client, mailbox, clock, "bob")
    with tls_server.feed(token_of(alice)) as alice_feed, tls_server.feed() as bob_feed:
        bob_feed.send(json.dumps({"type": "auth", "token": token_of(bob)}))
        ready_of(alice_feed), ready_of(bob_feed)
        hub_of(app).publish(user_id_of(alice), order_event(1))
        hub_of(app).publish(user_id_of(bob), order_event(2))
        assert json.loads(alice_feed.recv(timeout=PATIENCE_SECONDS))["order"]["id"] == "o-1"
        assert json.loads(bob_feed.recv(timeout=PATIENCE_SECONDS))["order"]["id"] == "o-2"
        alice_feed.send(json.dumps({"type": "ping"}))
        assert json.loads(alice_feed.recv(timeout=PATIENCE_SECONDS)) == {"type": "pong"}


@pytest.mark.live_server
def test_tls_feed_when_a_client_stops_reading_then_it_is_cut_off_with_a_reason(
    tls_server: TlsServer,
    app: FastAPI,
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    user_id, hub = user_id_of(alice), hub_of(app)
    published = 0
    with tls_server.feed(token_of(alice), max_queue=4) as websocket:
        ready_of(websocket)
        # The client reads nothing: the socket buffers fill, then the hub's backlog.
        while hub.watching(user_id) and published < 20_000:
            for _ in range(200):
                published += 1
                hub.publish(user_id, order_event(published, note="x" * 4000))
            time.sleep(0.02)
        assert hub.watching(user_id) == 0
        received = events_until_closed(websocket)
        assert (websocket.close_code, websocket.close_reason) == (POLICY, "FEED_SLOW_CONSUMER")
    seqs = [event["seq"] for event in received if event["type"] == "order"]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) < published
    assert received[-1]["reason_code"] == "FEED_SLOW_CONSUMER"


@pytest.mark.live_server
def test_tls_feed_when_upgraded_on_a_kept_alive_connection_then_the_head_deadline_spares_it(
    tls_server: TlsServer,
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    settings: Settings,
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    tls = tls_server.tls_socket()
    tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert read_response(tls).startswith(b"HTTP/1.1 200")
    # the same connection, already TLS: "ws://" so the client does not wrap it again
    with connect(
        f"ws://localhost:{tls_server.port}{FEED}",
        sock=tls,
        additional_headers=bearer(token_of(alice)),
        open_timeout=PATIENCE_SECONDS,
        ping_interval=None,
    ) as websocket:
        ready_of(websocket)
        time.sleep(settings.header_timeout_seconds * 1.5)  # past the head deadline
        websocket.send(json.dumps({"type": "ping"}))
        assert json.loads(websocket.recv(timeout=PATIENCE_SECONDS)) == {"type": "pong"}


@pytest.mark.live_server
def test_tls_feed_when_websocket_connections_fill_the_server_then_upgrades_get_503(
    tls_server: TlsServer,
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    settings: Settings,
) -> None:
    people = [trader(client, mailbox, clock, name) for name in ("alice", "bob")]
    tokens = [token_of(people[0]), token_of(people[0]), token_of(people[1])]
    assert len(tokens) == settings.feed_max_connections
    with ExitStack() as opened:
        for token in tokens:
            ready_of(opened.enter_context(tls_server.feed(token)))
        with pytest.raises(InvalidStatus) as refused, tls_server.feed(token_of(people[1])):
            pass
        response = refused.value.response
        assert response.status_code == 503
        assert json.loads(response.body or b"{}")["reason_code"] == "SERVER_BUSY"
    with tls_server.feed(token_of(people[1])) as websocket:  # room again
        ready_of(websocket)


@pytest.mark.live_server
def test_tls_feed_when_a_message_passes_the_size_limit_then_closed_1009(
    tls_server: TlsServer, client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    with tls_server.feed(token_of(alice)) as websocket:
        ready_of(websocket)
        websocket.send(json.dumps({"type": "ping", "pad": "x" * 10_000}))
        events_until_closed(websocket)
        assert websocket.close_code == 1009


@pytest.mark.live_server
def test_tls_server_when_stopped_while_a_client_close_is_in_flight_then_it_stops_cleanly(
    app: FastAPI, settings: Settings, client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = trader(client, mailbox, clock, "alice")
    hub, user_id = hub_of(app), user_id_of(alice)
    with serving(app, settings) as (server, uvicorn_server), server.tls_socket() as tls:
        protocol = ClientProtocol(parse_uri(f"wss://localhost:{server.port}{FEED}"))
        request = protocol.connect()
        request.headers["Authorization"] = f"Bearer {token_of(alice)}"
        protocol.send_request(request)
        tls.sendall(b"".join(protocol.data_to_send()))
        while protocol.state is State.CONNECTING:
            protocol.receive_data(tls.recv(65536))
        assert protocol.state is State.OPEN, protocol.handshake_exc
        wait_until(lambda: hub.watching(user_id) == 1)
        protocol.send_close(1000)
        tls.sendall(b"".join(protocol.data_to_send()))
        wait_until(lambda: hub.watching(user_id) == 0)  # the server has the close frame
        uvicorn_server.should_exit = True  # ... and stops while the client sits on it
        time.sleep(1)
    # A failed shutdown would have raised in the server thread (an error of this test).


# ---------------------------------------------------------------- ``tradeguard serve``


@pytest.mark.live_server
def test_served_feed_when_signed_in_then_wss_works_and_bad_tokens_and_extra_feeds_are_refused(
    live_server: LiveServer,
) -> None:
    api, person = Api(live_server), LivePerson()
    token = api.sign_up_with_totp(person)["access_token"]
    server = TlsServer(live_server.port, live_server.ca_file)
    with server.feed() as websocket:
        websocket.send(json.dumps({"type": "auth", "token": forged(token)}))
        assert json.loads(websocket.recv(timeout=PATIENCE_SECONDS))["type"] == "error"
        events_until_closed(websocket)
        assert (websocket.close_code, websocket.close_reason) == (POLICY, "AUTH_TOKEN_INVALID")
    with ExitStack() as opened:
        feeds = [opened.enter_context(server.feed(token)) for _ in range(5)]
        assert all(ready_of(websocket)["seq"] == 0 for websocket in feeds)
        with server.feed() as extra:
            extra.send(json.dumps({"type": "auth", "token": token}))
            events_until_closed(extra)
            assert (extra.close_code, extra.close_reason) == (POLICY, "FEED_TOO_MANY_CONNECTIONS")
        feeds[0].send(json.dumps({"type": "ping"}))
        assert json.loads(feeds[0].recv(timeout=PATIENCE_SECONDS)) == {"type": "pong"}
