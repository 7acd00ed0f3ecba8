"""User enumeration: sign-in, sign-up and password reset answer alike, whoever exists.

Each pair of requests below differs only in whether the account exists; the answers
must match in status, body (apart from the per-request ``request_id`` and ``instance``)
and the headers a client could read a difference from. The timing tests compare median
times: a sign-in for an unknown name against a wrong password, and a sign-up with an
address that has an account against a new one.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from functional.identity_flows import (
    STRONG_PASSWORD,
    Person,
    build_app,
    client_at,
    code_in,
    problem_of,
    register,
    sign_up,
)
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

WRONG_PASSWORD = "not-the-" + STRONG_PASSWORD
COMPARED_HEADERS = ("content-type", "www-authenticate", "retry-after", "cache-control")
TIMING_SAMPLES = 30
MAX_DELAY_SECONDS = 60
EQUAL_TIME_FLOOR_MS = 200  # the default; the test settings turn it off elsewhere


def _answer(response: Any) -> tuple[int, dict[str, Any], dict[str, str | None]]:
    body = problem_of(response) if response.status_code >= 400 else response.json()
    headers = {name: response.headers.get(name) for name in COMPARED_HEADERS}
    return response.status_code, body, headers


def _login(client: TestClient, name: str, password: str = WRONG_PASSWORD) -> Any:
    return client.post("/v1/auth/login", json={"login": name, "password": password})


def test_login_when_name_unknown_answers_like_a_wrong_password(
    client: TestClient, mailbox: MemorySender
) -> None:
    sign_up(client, mailbox, Person())
    wrong_password = _login(client, "alice")
    unknown_name = _login(client, "mallory")
    assert wrong_password.status_code == 401
    assert _answer(unknown_name) == _answer(wrong_password)


def test_login_when_address_unknown_answers_like_a_wrong_password(
    client: TestClient, mailbox: MemorySender
) -> None:
    sign_up(client, mailbox, Person())
    wrong_password = _login(client, "alice@example.com")
    unknown_address = _login(client, "mallory@example.com")
    assert wrong_password.status_code == 401
    assert _answer(unknown_address) == _answer(wrong_password)


def test_login_when_account_unverified_and_password_wrong_answers_like_unknown(
    client: TestClient,
) -> None:
    register(client, Person())
    unverified = _login(client, "alice")
    unknown = _login(client, "mallory")
    assert _answer(unverified) == _answer(unknown)


def test_register_answers_alike_for_new_taken_address_and_taken_username(
    client: TestClient, mailbox: MemorySender
) -> None:
    new = register(client, Person())
    taken_address = register(client, Person(username="mallory"))
    taken_username = register(client, Person(email="someone.else@example.com"))
    assert new.status_code == 202
    assert _answer(taken_address) == _answer(new)
    assert _answer(taken_username) == _answer(new)
    assert len(mailbox.emails) == 3  # one to each address given, whatever it says


def test_forgot_password_answers_alike_for_known_and_unknown_addresses(
    client: TestClient, mailbox: MemorySender
) -> None:
    sign_up(client, mailbox, Person())
    known = client.post("/v1/auth/password/forgot", json={"email": "alice@example.com"})
    unknown = client.post("/v1/auth/password/forgot", json={"email": "mallory@example.com"})
    assert known.status_code == 202
    assert _answer(unknown) == _answer(known)


def test_reset_password_answers_alike_for_unknown_address_and_wrong_code(
    client: TestClient, mailbox: MemorySender
) -> None:
    sign_up(client, mailbox, Person())
    client.post("/v1/auth/password/forgot", json={"email": "alice@example.com"})
    code = code_in(mailbox.last_email(kind="email.password_reset").text)
    wrong_code = f"{(int(code) + 1) % 1_000_000:06d}"
    bodies = [
        {"email": address, "code": wrong_code, "new_password": "saffron-Kettle-orbit-82-lantern"}
        for address in ("alice@example.com", "mallory@example.com")
    ]
    known, unknown = (client.post("/v1/auth/password/reset", json=body) for body in bodies)
    assert known.status_code == 400
    assert _answer(unknown) == _answer(known)


def test_verify_email_and_resend_answer_alike_for_unknown_addresses(
    client: TestClient, mailbox: MemorySender
) -> None:
    register(client, Person())
    code = code_in(mailbox.last_email(kind="email.verification").text)
    wrong_code = f"{(int(code) + 1) % 1_000_000:06d}"
    verify = [
        client.post("/v1/auth/verify-email", json={"email": address, "code": wrong_code})
        for address in ("alice@example.com", "mallory@example.com")
    ]
    assert verify[0].status_code == 400
    assert _answer(verify[1]) == _answer(verify[0])
    resend = [
        client.post("/v1/auth/verify-email/resend", json={"email": address})
        for address in ("alice@example.com", "mallory@example.com")
    ]
    assert _answer(resend[1]) == _answer(resend[0])


def _timed_login(client: TestClient, name: str, clock: FixedClock) -> float:
    started = time.perf_counter()
    response = _login(client, name)
    elapsed = time.perf_counter() - started
    assert response.status_code == 401, response.text  # the real check ran, not the throttle
    clock.advance(seconds=MAX_DELAY_SECONDS + 1)  # past any progressive delay
    return elapsed


def test_login_timing_when_name_unknown_matches_a_wrong_password(
    settings_for: Callable[..., Settings],
    clean_database,
    clock: FixedClock,
    mailbox: MemorySender,
) -> None:
    # Statistical, with a deliberately generous bound so that a loaded machine does not
    # fail it: both paths verify one Argon2id hash (a throw-away one for an unknown name),
    # which dominates the time, so the medians of 30 alternating samples must agree within
    # a factor of two. Skipping the hash for unknown names would make them differ by far more.
    settings = settings_for(
        login_failures_per_account=100,
        login_failures_per_ip=10_000,
        equal_time_floor_ms=EQUAL_TIME_FLOOR_MS,
    )
    client = client_at(build_app(settings, clean_database.engine, clock, mailbox))
    sign_up(client, mailbox, Person())
    for name in ("alice", "mallory"):  # warm-up: caches, connections, first queries
        _timed_login(client, name, clock)
    known: list[float] = []
    unknown: list[float] = []
    for _ in range(TIMING_SAMPLES):
        known.append(_timed_login(client, "alice", clock))
        unknown.append(_timed_login(client, "mallory", clock))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 <= ratio <= 2.0, (ratio, statistics.median(known), statistics.median(unknown))


def _timed_register(client: TestClient, person: Person) -> float:
    started = time.perf_counter()
    response = register(client, person)
    elapsed = time.perf_counter() - started
    assert response.status_code == 202, response.text
    return elapsed


def test_register_timing_when_address_taken_matches_a_new_account(
    settings_for: Callable[..., Settings],
    clean_database,
    clock: FixedClock,
    mailbox: MemorySender,
) -> None:
    # Same statistical approach and generous bound as the sign-in timing test: both paths
    # check the password policy and hash the password before looking the address up.
    settings = settings_for(equal_time_floor_ms=EQUAL_TIME_FLOOR_MS)
    client = client_at(build_app(settings, clean_database.engine, clock, mailbox))
    sign_up(client, mailbox, Person())
    new: list[float] = []
    taken: list[float] = []
    for sample in range(TIMING_SAMPLES // 2 + 1):
        fresh = Person(username=f"trader{sample}", email=f"trader{sample}@example.com")
        new.append(_timed_register(client, fresh))
        taken.append(_timed_register(client, Person(username=f"other{sample}")))
    new, taken = new[1:], taken[1:]  # the first pair warms up
    ratio = statistics.median(taken) / statistics.median(new)
    assert 0.5 <= ratio <= 2.0, (ratio, statistics.median(new), statistics.median(taken))


def _timed_forgot(client: TestClient, email: str) -> float:
    started = time.perf_counter()
    response = client.post("/v1/auth/password/forgot", json={"email": email})
    elapsed = time.perf_counter() - started
    assert response.status_code == 202, response.text
    return elapsed


def test_forgot_password_timing_when_address_unknown_matches_a_known_one(
    settings_for: Callable[..., Settings],
    clean_database,
    clock: FixedClock,
    mailbox: MemorySender,
) -> None:
    # Only a known address gets a code written, so the responses are held to a common
    # floor (tradeguard.gateway.equal_timing); the same generous bound as above.
    settings = settings_for(
        otp_sends_per_hour=100, otp_resend_seconds=0, equal_time_floor_ms=EQUAL_TIME_FLOOR_MS
    )
    client = client_at(build_app(settings, clean_database.engine, clock, mailbox))
    sign_up(client, mailbox, Person())
    known: list[float] = []
    unknown: list[float] = []
    for _ in range(TIMING_SAMPLES // 3):
        known.append(_timed_forgot(client, "alice@example.com"))
        unknown.append(_timed_forgot(client, "mallory@example.com"))
    assert len(mailbox.emails) > TIMING_SAMPLES // 3  # the known address really got codes
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 <= ratio <= 2.0, (ratio, statistics.median(known), statistics.median(unknown))
