"""Attacks on staff bootstrap and invitations: reused, expired and forged links, invitations
by non-administrators, a second first administrator, one administrator approving alone,
and a weaker authenticator passed off as a staff key. Each test fails if the attack works."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from functional.identity_flows import (
    Person,
    assert_refused,
    build_app,
    client_at,
    staff_signed_in,
)
from functional.staff_flows import (
    Kit,
    decide,
    enrol,
    enrolled_with_key,
    events_of,
    first_admin,
    invite_by_api,
    link_token,
    register_staff_key,
    tradeguard_command,
)
from tradeguard.config import Settings
from tradeguard.core.clock import NS_PER_SECOND, FixedClock, SystemClock
from tradeguard.identity.secrets import token_digest
from tradeguard.notify.notifier import MemorySender

LINK_INVALID = "STAFF_LINK_INVALID"
NOT_ADMIN = "STAFF_INVITER_NOT_ADMIN"
LINK_HOURS = 24
REASON = "incident 77: nobody else is on call tonight"


@pytest.fixture
def kit(  # noqa: PLR0913, PLR0917 - the pieces a staff test works with
    client: TestClient,
    settings: Settings,
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Kit:
    run = tradeguard_command(settings, monkeypatch, capsys)
    return Kit(client, run, settings, clean_database.engine, mailbox, clock)


@pytest.fixture
def bootstrap_link(kit: Kit) -> str:
    """The token of a fresh first-administrator link."""
    code, out = kit.tradeguard("staff", "bootstrap-admin", "ada@example.com")
    assert code == 0, out
    return link_token(out)


def staff(kit: Kit, role: str, level: str, username: str = "sid") -> Person:
    """A staff member made the old way (a reviewed database change), signed in with a key."""
    return staff_signed_in(
        kit.client, kit.mailbox, kit.clock, kit.engine, role=role, level=level, username=username
    )


def random_token(real: str) -> str:
    del real
    return secrets.token_urlsafe(32)


# Links


def test_link_when_used_a_second_time_then_refused_and_no_second_account(
    kit: Kit, bootstrap_link: str
) -> None:
    ada = Person(username="ada", email="ada@example.com")
    enrolled_with_key(kit.client, bootstrap_link, ada)

    replayed = enrol(kit.client, bootstrap_link, Person(username="mallory"))

    assert_refused(replayed, 400, LINK_INVALID)
    assert kit.rows("users") == 1
    assert kit.rows("users", "username = 'mallory'") == 0
    assert events_of(kit.engine, "staff.link.refused") == ["staff.link.refused"]


def test_link_when_presented_at_its_expiry_then_refused_and_a_second_before_accepted(
    kit: Kit, bootstrap_link: str
) -> None:
    with kit.engine.connect() as connection:
        expires = connection.exec_driver_sql("SELECT link_expires_at_ns FROM staff_invites")
        expires_ns = expires.scalar()
    assert isinstance(expires_ns, int)
    lifetime = expires_ns - SystemClock().now_ns()
    assert abs(lifetime - LINK_HOURS * 3600 * NS_PER_SECOND) < 60 * NS_PER_SECOND

    kit.clock.set(expires_ns)
    late = enrol(kit.client, bootstrap_link, Person(username="ada"))

    assert_refused(late, 400, LINK_INVALID)
    assert late.json()["state"] == "expired"
    assert kit.rows("users") == 0
    kit.clock.set(expires_ns - NS_PER_SECOND)
    assert enrol(kit.client, bootstrap_link, Person(username="ada")).status_code == 201


@pytest.mark.parametrize(
    "forge",
    [
        random_token,
        lambda real: real[:-1] + ("A" if real[-1] != "A" else "B"),
        lambda real: real.upper() if real.upper() != real else real.lower(),
        lambda real: real[:-1],
    ],
    ids=["random", "last-character-changed", "case-changed", "shortened"],
)
def test_link_when_forged_then_refused_and_nothing_made(
    kit: Kit, bootstrap_link: str, forge: Callable[[str], str]
) -> None:
    forged = enrol(kit.client, forge(bootstrap_link), Person(username="mallory"))

    assert_refused(forged, 400, LINK_INVALID)
    assert forged.json()["state"] == "unknown"
    assert kit.rows("users") == 0
    assert enrol(kit.client, bootstrap_link, Person(username="ada")).status_code == 201


def test_link_when_its_stored_digest_is_presented_then_refused(
    kit: Kit, bootstrap_link: str
) -> None:
    """A leaked invitation table holds digests, which are no links."""
    digest = base64.urlsafe_b64encode(token_digest(bootstrap_link)).rstrip(b"=").decode()

    assert_refused(enrol(kit.client, digest, Person(username="mallory")), 400, LINK_INVALID)
    assert kit.rows("users") == 0


@pytest.mark.usefixtures("bootstrap_link")
@pytest.mark.parametrize("token", ["", "short", "a" * 129, "abc/../../etc", "x' OR '1'='1"])
def test_link_when_malformed_then_validation_problem_and_nothing_made(kit: Kit, token: str) -> None:
    answer = enrol(kit.client, token, Person(username="mallory"))

    assert_refused(answer, 422, "VALIDATION_FAILED")
    assert kit.rows("users") == 0


# A second first administrator


def test_bootstrap_when_an_admin_exists_then_refused_and_no_link_made_or_sent(kit: Kit) -> None:
    staff(kit, "ADMIN", "admin", username="ada")

    code, out = kit.tradeguard("staff", "bootstrap-admin", "mallory@example.com")

    assert code == 1
    assert out.startswith("error: STAFF_ADMIN_EXISTS:")
    assert "token=" not in out
    assert kit.rows("staff_invites") == 0
    assert "staff.enrolment_link" not in kit.outbox_kinds()
    assert events_of(kit.engine, "staff.bootstrap.") == ["staff.bootstrap.refused"]


def test_bootstrap_link_when_an_admin_appeared_meanwhile_then_refused(
    kit: Kit, bootstrap_link: str
) -> None:
    staff(kit, "ADMIN", "admin", username="ben")

    late = enrol(kit.client, bootstrap_link, Person(username="mallory", email="ada@example.com"))

    assert_refused(late, 400, LINK_INVALID)
    assert kit.rows("users", "role = 'ADMIN'") == 1
    assert kit.rows("users", "username = 'mallory'") == 0


# Invitations by someone who is no administrator


@pytest.fixture
def ada(kit: Kit) -> Person:
    return first_admin(kit.client, kit.tradeguard).person


@pytest.mark.usefixtures("ada")
@pytest.mark.parametrize(
    ("role", "level"), [("SUPPORT", "admin"), ("COMPLIANCE", "admin"), ("ADMIN", "engineer")]
)
def test_invite_api_when_caller_is_not_an_admin_then_access_denied_and_nothing_sent(
    kit: Kit, role: str, level: str
) -> None:
    sid = staff(kit, role, level)
    invites = kit.rows("staff_invites")

    answer = invite_by_api(kit.client, sid, "mallory@example.com", "ADMIN")

    assert_refused(answer, 403, "ACCESS_DENIED")
    assert kit.rows("staff_invites") == invites
    assert kit.emails_to("mallory@example.com") == []


@pytest.mark.usefixtures("ada")
def test_invite_api_when_support_holds_admin_users_by_break_glass_then_still_refused(
    kit: Kit,
) -> None:
    sid = staff(kit, "SUPPORT", "operator")
    body = {"permission": "admin:users", "reason": REASON, "duration_minutes": 30}
    glass = kit.client.post("/v1/access/break-glass", json=body, headers=sid.headers)
    assert glass.status_code == 201, glass.text
    assert kit.client.get("/v1/admin/users", headers=sid.headers).status_code == 200
    invites = kit.rows("staff_invites")

    answer = invite_by_api(kit.client, sid, "mallory@example.com", "SUPPORT")

    assert_refused(answer, 403, NOT_ADMIN)
    assert kit.rows("staff_invites") == invites
    assert kit.emails_to("mallory@example.com") == []
    assert "staff.invite.refused" in events_of(kit.engine, "staff.invite.")


@pytest.mark.usefixtures("ada")
def test_invite_cli_when_acting_as_a_support_agent_then_refused_and_nothing_sent(
    kit: Kit,
) -> None:
    staff(kit, "SUPPORT", "admin")
    sent = kit.outbox_kinds().count("staff.enrolment_link")

    code, out = kit.tradeguard("staff", "invite", "m@example.com", "--role", "admin", "--as", "sid")

    assert code == 1
    assert out.startswith(f"error: {NOT_ADMIN}:")
    assert kit.outbox_kinds().count("staff.enrolment_link") == sent


def test_invite_cli_when_acting_as_an_admin_without_a_key_then_refused(
    kit: Kit, bootstrap_link: str
) -> None:
    started = enrol(kit.client, bootstrap_link, Person(username="ada", email="ada@example.com"))
    assert started.status_code == 201, started.text  # an administrator who registered no key

    code, out = kit.tradeguard(
        "staff", "invite", "m@example.com", "--role", "support", "--as", "ada"
    )

    assert code == 1
    assert out.startswith(f"error: {NOT_ADMIN}:")
    assert kit.rows("staff_invites", "kind = 'invitation'") == 0


# One administrator alone


def test_admin_invite_when_its_inviter_approves_then_refused_and_no_link(
    kit: Kit, ada: Person
) -> None:
    _, out = kit.tradeguard("staff", "invite", "ben@example.com", "--role", "admin", "--as", "ada")
    enrolled_with_key(kit.client, link_token(out), Person(username="ben", email="ben@example.com"))
    made = invite_by_api(kit.client, ada, "mallory@example.com", "ADMIN")
    assert made.json()["status"] == "awaiting_approval", made.text

    approved = decide(kit.client, ada, made.json()["id"], "approve")

    assert_refused(approved, 403, "STAFF_SELF_APPROVAL")
    assert kit.emails_to("mallory@example.com") == []


# A weaker authenticator as a staff key


def test_platform_passkey_when_registered_by_new_staff_then_not_their_staff_key(
    kit: Kit, bootstrap_link: str
) -> None:
    person = Person(username="ada", email="ada@example.com")
    person.tokens = enrol(kit.client, bootstrap_link, person).json()["tokens"]

    created = register_staff_key(kit.client, person, authenticator="platform")

    assert created.json()["tokens"] is None
    refused = kit.client.get("/v1/admin/users", headers=person.headers)
    assert_refused(refused, 403, "AUTH_MFA_ENROLLMENT_REQUIRED")


@pytest.fixture
def development_client(settings_for: Callable[..., Settings], kit: Kit) -> Iterator[TestClient]:
    """An app that lets a platform passkey stand in for a staff key (development only)."""
    settings = settings_for(staff_platform_keys_allowed=True)
    with client_at(build_app(settings, kit.engine, kit.clock, kit.mailbox)) as started:
        yield started


def test_platform_passkey_when_development_setting_on_then_counts_as_the_staff_key(
    development_client: TestClient, bootstrap_link: str
) -> None:
    person = Person(username="ada", email="ada@example.com")
    started = enrol(development_client, bootstrap_link, person)
    assert started.json()["authenticators"] == ["security-key", "platform"]
    person.tokens = started.json()["tokens"]

    register_staff_key(development_client, person, authenticator="platform")

    assert person.tokens["enrollment_only"] is False
    assert development_client.get("/v1/admin/users", headers=person.headers).status_code == 200


# Personal data at rest


def test_invited_address_when_stored_then_only_ciphertext_and_the_link_only_a_digest(
    kit: Kit, bootstrap_link: str
) -> None:
    with kit.engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT email, email_index, link_digest FROM staff_invites"
        ).one()
    stored = b"".join(bytes(value) for value in row)

    assert b"ada@example.com" not in stored
    assert b"example.com" not in stored
    assert bootstrap_link.encode() not in stored
    assert bytes(row[2]) == token_digest(bootstrap_link)
