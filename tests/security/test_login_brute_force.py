"""Password guessing: progressive delay, temporary lock, per-IP limit, no existence oracle.

From the second failure of an account name (or address) the next attempt must wait
1, 2, 4, ... seconds; the fifth failure locks the name for the lock period, audited and
emailed to the owner. Attempts refused by the throttle do not reach the password check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from functional.identity_flows import (
    STRONG_PASSWORD,
    Person,
    audit_event_types,
    build_app,
    client_at,
    login,
    problem_of,
    reason_of,
    sign_up,
)
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

WRONG_PASSWORD = "not-the-" + STRONG_PASSWORD
LOCK_SECONDS = 900
THROTTLED = (429, "AUTH_THROTTLED")
REFUSED = (401, "AUTH_INVALID_CREDENTIALS")


def _guess(client: TestClient, name: str, password: str = WRONG_PASSWORD) -> Any:
    return client.post("/v1/auth/login", json={"login": name, "password": password})


def _retry_after(response: Any) -> int:
    assert reason_of(response) == THROTTLED, response.text
    seconds = int(response.headers["Retry-After"])
    assert response.json()["retry_after_seconds"] == seconds
    return seconds


def _fail_until_locked(client: TestClient, name: str, clock: FixedClock) -> list[int]:
    """Five wrong passwords, waiting out each delay but the lock; the wait each one imposed.

    The wait is read from an attempt with the right password, which the throttle refuses
    before any password check (after the first failure there is no wait to read).
    """
    waits = [0]
    assert reason_of(_guess(client, name)) == REFUSED
    for _ in range(4):
        assert reason_of(_guess(client, name)) == REFUSED
        waits.append(_retry_after(_guess(client, name, STRONG_PASSWORD)))
        if len(waits) < 5:  # the lock that follows the fifth is not waited out
            clock.advance(seconds=waits[-1])
    return waits


def test_second_failure_then_throttled_with_retry_after_until_the_clock_advances(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = Person()
    sign_up(client, mailbox, alice)
    assert reason_of(login(client, Person(password=WRONG_PASSWORD))) == REFUSED
    # One mistyped password costs no delay: the next attempt is checked at once.
    assert reason_of(login(client, Person(password=WRONG_PASSWORD))) == REFUSED
    assert _retry_after(login(client, alice)) == 1
    clock.advance(milliseconds=999)
    assert _retry_after(login(client, alice)) == 1
    clock.advance(milliseconds=1)
    assert login(client, alice).status_code == 200


def test_delay_doubles_with_each_failure_and_the_fifth_locks_the_account(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    alice = Person()
    sign_up(client, mailbox, alice)
    mailbox.clear()
    assert _fail_until_locked(client, alice.username, clock) == [0, 1, 2, 4, LOCK_SECONDS]
    events = audit_event_types(clean_database.engine)
    assert events.count("auth.login.failed") == 5
    assert "auth.login.locked" in events
    notice = mailbox.last_email(to=alice.email, kind="security.account_locked")
    assert "15 minutes" in notice.text


def test_locked_account_refuses_the_right_password_until_the_lock_expires(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    alice = Person()
    sign_up(client, mailbox, alice)
    _fail_until_locked(client, alice.username, clock)
    assert reason_of(_guess(client, alice.email, STRONG_PASSWORD)) == THROTTLED
    clock.advance(seconds=LOCK_SECONDS - 1)
    assert _retry_after(login(client, alice)) == 1
    assert "auth.session.started" not in audit_event_types(clean_database.engine)
    clock.advance(seconds=1)
    assert login(client, alice).status_code == 200
    assert "auth.session.started" in audit_event_types(clean_database.engine)


def test_account_lock_leaves_other_accounts_alone(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice, bob = Person(), Person("bob", "bob@example.com")
    sign_up(client, mailbox, alice)
    sign_up(client, mailbox, bob)
    _fail_until_locked(client, alice.username, clock)
    clock.advance(seconds=60)  # the address's own short delay, not its limit
    assert login(client, bob).status_code == 200
    assert reason_of(login(client, alice)) == THROTTLED
    assert [m.to for m in mailbox.emails if m.kind == "security.account_locked"] == [alice.email]


def test_per_ip_limit_locks_the_address_across_account_names(
    settings_for: Callable[..., Settings],
    clean_database,
    clock: FixedClock,
    mailbox: MemorySender,
) -> None:
    app = build_app(settings_for(login_failures_per_ip=4), clean_database.engine, clock, mailbox)
    attacker, elsewhere = client_at(app, "192.0.2.66"), client_at(app, "198.51.100.20")
    alice = Person()
    sign_up(elsewhere, mailbox, alice)
    mailbox.clear()
    *first_names, last_name = ("carol", "dave", alice.username, "erin@example.com")
    for name in first_names:
        assert reason_of(_guess(attacker, name)) == REFUSED
        clock.advance(seconds=2)  # the address's delays so far: none, 1 s, 2 s
    assert reason_of(_guess(attacker, last_name)) == REFUSED
    # Each name failed once, so no name is delayed: the address alone is locked.
    assert _retry_after(login(attacker, alice)) == LOCK_SECONDS
    assert reason_of(_guess(attacker, "frank")) == THROTTLED
    assert login(elsewhere, alice).status_code == 200
    assert "auth.login.locked" in audit_event_types(clean_database.engine)
    assert [m for m in mailbox.emails if m.kind == "security.account_locked"] == []


def _throttle_trace(client: TestClient, name: str, clock: FixedClock) -> list[tuple[Any, ...]]:
    """Twelve wrong guesses at ``name``, waiting out every delay: what each one got."""
    trace: list[tuple[Any, ...]] = []
    for _ in range(12):
        response = _guess(client, name)
        retry_after = response.headers.get("Retry-After")
        trace.append((response.status_code, problem_of(response), retry_after))
        clock.advance(seconds=int(retry_after or 0))
    return trace


def test_unknown_account_name_is_throttled_exactly_like_a_known_one(
    app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> None:
    known_from, unknown_from = client_at(app, "192.0.2.10"), client_at(app, "192.0.2.11")
    sign_up(known_from, mailbox, Person())
    known = _throttle_trace(known_from, "alice", clock)
    unknown = _throttle_trace(unknown_from, "mallory", clock)
    assert known == unknown
    statuses = [status for status, _, _ in known]
    assert statuses[:3] == [401, 401, 429]
    assert (429, str(LOCK_SECONDS)) in [(status, retry) for status, _, retry in known]
