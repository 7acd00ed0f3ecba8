"""Attacks on second factors: replayed TOTP and backup codes (one after the other and
racing), one-time-code brute force, and codes moved between challenges."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi.testclient import TestClient

from functional.identity_flows import (
    Person,
    answer_challenge,
    assert_refused,
    audit_event_types,
    enrol_code_factor,
    enrolment_session,
    last_code,
    login,
    new_backup_codes,
    patiently,
    send_login_code,
    signed_up_with_totp,
    start_login,
    totp_at,
    totp_now,
    wrong_code,
)
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

PHONE = "+15555550100"
LOCK_SECONDS = 900


def _race(attempts: list[Callable[[], Any]]) -> list[Any]:
    """Run the attempts in threads released together; their responses."""
    barrier = threading.Barrier(len(attempts))
    answers: list[Any] = []

    def run(attempt: Callable[[], Any]) -> None:
        barrier.wait()
        answers.append(attempt())

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == len(attempts)
    return answers


def _statuses(answers: list[Any]) -> list[int]:
    return sorted(answer.status_code for answer in answers)


def _sms_user(client: TestClient, mailbox: MemorySender) -> Person:
    carol = enrolment_session(client, mailbox, Person("carol", "carol@example.com"))
    enrol_code_factor(client, mailbox, carol, "sms", PHONE)
    return carol


def _live_sessions(client: TestClient, person: Person) -> int:
    return len(client.get("/v1/sessions", headers=person.headers).json())


# TOTP replay


def test_totp_code_when_replayed_in_the_same_step_then_refused(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    code = totp_now(alice, clock)
    first = start_login(client, alice)["challenge_id"]
    assert answer_challenge(client, first, "totp", code=code).status_code == 200
    sessions = _live_sessions(client, alice)
    second = start_login(client, alice)["challenge_id"]
    assert_refused(answer_challenge(client, second, "totp", code=code), 401, "AUTH_MFA_INVALID")
    assert _live_sessions(client, alice) == sessions
    assert audit_event_types(clean_database.engine).count("auth.mfa.failed") == 1


def test_totp_code_when_older_than_the_last_used_then_refused(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    clock.advance(seconds=60)
    newer = start_login(client, alice)["challenge_id"]
    assert answer_challenge(client, newer, "totp", code=totp_at(alice, clock, 1)).status_code == 200
    older = start_login(client, alice)["challenge_id"]
    stale = answer_challenge(client, older, "totp", code=totp_at(alice, clock, 0))
    assert_refused(stale, 401, "AUTH_MFA_INVALID")


def test_totp_code_when_two_sign_ins_race_with_it_then_only_one_succeeds(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    for _ in range(3):
        code = totp_now(alice, clock)
        challenges = [start_login(client, alice)["challenge_id"] for _ in range(2)]
        answers = _race(
            [partial(answer_challenge, client, each, "totp", code=code) for each in challenges]
        )
        assert _statuses(answers) == [200, 401]
        clock.advance(seconds=30)


# Backup codes


def test_backup_code_when_two_sign_ins_race_with_it_then_only_one_succeeds(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    codes = new_backup_codes(client, alice)
    for code in codes[:3]:
        challenges = [start_login(client, alice)["challenge_id"] for _ in range(2)]
        answers = _race(
            [
                partial(answer_challenge, client, each, "backup_code", code=code)
                for each in challenges
            ]
        )
        assert _statuses(answers) == [200, 401]
        clock.advance(seconds=5)  # past the throttle's delay after a failure
    used = [email for email in mailbox.emails if email.kind == "security.backup_code_used"]
    assert len(used) == 3


# One-time codes


def test_one_time_code_when_two_answers_race_on_one_challenge_then_only_one_succeeds(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    carol = _sms_user(client, mailbox)
    for _ in range(3):
        challenge_id = start_login(client, carol)["challenge_id"]
        assert send_login_code(client, challenge_id, "sms").status_code == 202
        code = last_code(mailbox, carol, "sms", PHONE)
        answer = partial(answer_challenge, client, challenge_id, "sms", code=code)
        answers = _race([answer, answer])
        assert _statuses(answers) == [200, 400]
        clock.advance(seconds=31)  # codes are sent at most every 30 seconds


def test_one_time_code_when_brute_forced_then_code_dies_and_account_locks(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    carol = _sms_user(client, mailbox)
    challenge_id = start_login(client, carol)["challenge_id"]
    assert send_login_code(client, challenge_id, "sms").status_code == 202
    code = last_code(mailbox, carol, "sms", PHONE)

    def guess() -> Any:
        return answer_challenge(client, challenge_id, "sms", code=wrong_code(code))

    for _ in range(5):
        assert_refused(patiently(clock, guess), 401, "AUTH_MFA_INVALID")
    right = answer_challenge(client, challenge_id, "sms", code=code)
    assert_refused(right, 400, "AUTH_CHALLENGE_INVALID")
    locked = login(client, carol)
    assert_refused(locked, 429, "AUTH_THROTTLED")
    assert int(locked.headers["Retry-After"]) == LOCK_SECONDS
    assert mailbox.last_email(to=carol.email, kind="security.account_locked")
    assert "auth.login.locked" in audit_event_types(clean_database.engine)
    clock.advance(seconds=LOCK_SECONDS)
    assert start_login(client, carol)["methods"] == ["sms"]


def test_one_time_code_when_guessing_across_new_challenges_then_account_locks(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    carol = _sms_user(client, mailbox)
    for guesses in (3, 2):
        challenge_id = start_login(client, carol)["challenge_id"]
        assert send_login_code(client, challenge_id, "sms").status_code == 202
        code = last_code(mailbox, carol, "sms", PHONE)
        for _ in range(guesses):
            guess = partial(answer_challenge, client, challenge_id, "sms", code=wrong_code(code))
            guessed = patiently(clock, guess)
            assert_refused(guessed, 401, "AUTH_MFA_INVALID")
        clock.advance(seconds=31)
    assert_refused(login(client, carol), 429, "AUTH_THROTTLED")


def test_one_time_code_when_sent_for_one_challenge_then_does_not_answer_another(
    client: TestClient, mailbox: MemorySender
) -> None:
    carol = _sms_user(client, mailbox)
    sent_for = start_login(client, carol)["challenge_id"]
    assert send_login_code(client, sent_for, "sms").status_code == 202
    code = last_code(mailbox, carol, "sms", PHONE)
    other = start_login(client, carol)["challenge_id"]
    assert_refused(answer_challenge(client, other, "sms", code=code), 401, "AUTH_MFA_INVALID")
    assert answer_challenge(client, sent_for, "sms", code=code).status_code == 200


def test_enrolment_code_when_offered_at_sign_in_then_refused(
    client: TestClient, mailbox: MemorySender
) -> None:
    alice = enrolment_session(client, mailbox, Person())
    enrol_code_factor(client, mailbox, alice, "email")
    enrolment_code = last_code(mailbox, alice, "email")
    challenge_id = start_login(client, alice)["challenge_id"]
    refused = answer_challenge(client, challenge_id, "email", code=enrolment_code)
    assert_refused(refused, 401, "AUTH_MFA_INVALID")
