"""``tradeguard staff``: the first administrator, invitations, and the links they print."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from functional.identity_flows import Person, login, sign_in_with_security_key, sign_up
from functional.staff_flows import (
    ENROLMENT,
    INVITES,
    Kit,
    StaffMember,
    decide,
    enrol,
    enrolled_with_key,
    events_of,
    first_admin,
    invite_by_api,
    link_token,
    outbox_link,
    tradeguard_command,
    user_role,
)
from tradeguard.config import Settings
from tradeguard.core.clock import NS_PER_SECOND, FixedClock, SystemClock
from tradeguard.notify.notifier import MemorySender

HOUR_NS = 3600 * NS_PER_SECOND


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
def ada(kit: Kit) -> StaffMember:
    """The first administrator, enrolled with a security key."""
    return first_admin(kit.client, kit.tradeguard)


def invite(kit: Kit, email: str, role: str, *extra: str) -> tuple[int, str]:
    """``tradeguard staff invite`` as Ada."""
    return kit.tradeguard("staff", "invite", email, "--role", role, *extra, "--as", "ada")


# Bootstrap


def test_bootstrap_admin_when_no_admin_then_link_makes_an_admin_who_enrols_a_key(
    kit: Kit,
) -> None:
    code, out = kit.tradeguard("staff", "bootstrap-admin", "ada@example.com")

    assert code == 0, out
    assert "a***@example.com" in out
    assert "ada@example.com" not in out
    token = link_token(out)
    assert outbox_link(kit.settings, "ada@example.com") == token
    assert events_of(kit.engine, "staff.") == ["staff.bootstrap.link_issued"]
    assert kit.rows("users") == 0  # the account exists once the link is used

    ada = enrolled_with_key(kit.client, token, Person(username="ada", email="ada@example.com"))

    assert user_role(kit.engine, "ada") == ("ADMIN", "admin", "active")
    me = kit.client.get("/v1/me", headers=ada.person.headers)
    assert me.status_code == 200, me.text
    assert "admin:users" in me.json()["permissions"]
    assert events_of(kit.engine, "staff.") == [
        "staff.bootstrap.link_issued",
        "staff.bootstrap.admin_created",
    ]
    assert "auth.factor.enrolled" in events_of(kit.engine, "auth.factor.")


def test_bootstrap_admin_when_link_used_then_session_may_only_enrol_a_key(kit: Kit) -> None:
    _, out = kit.tradeguard("staff", "bootstrap-admin", "ada@example.com")
    person = Person(username="ada", email="ada@example.com")

    started = enrol(kit.client, link_token(out), person)

    assert started.status_code == 201, started.text
    body = started.json()
    assert (body["role"], body["access_level"]) == ("ADMIN", "admin")
    assert body["authenticators"] == ["security-key"]
    assert body["tokens"]["enrollment_only"] is True
    person.tokens = body["tokens"]
    users = kit.client.get("/v1/admin/users", headers=person.headers)
    assert users.status_code == 403, users.text
    assert users.json()["reason_code"] == "AUTH_MFA_ENROLLMENT_REQUIRED"


def test_bootstrap_admin_when_run_again_before_use_then_only_the_new_link_works(
    kit: Kit,
) -> None:
    _, first = kit.tradeguard("staff", "bootstrap-admin", "ada@example.com")
    _, second = kit.tradeguard("staff", "bootstrap-admin", "ada@example.org")

    old = enrol(kit.client, link_token(first), Person(username="ada", email="ada@example.com"))

    assert old.status_code == 400, old.text
    assert (old.json()["reason_code"], old.json()["state"]) == ("STAFF_LINK_INVALID", "replaced")
    new = enrol(kit.client, link_token(second), Person(username="ada", email="ada@example.org"))
    assert new.status_code == 201, new.text
    assert kit.rows("users", "role = 'ADMIN'") == 1


@pytest.mark.usefixtures("ada")
def test_bootstrap_admin_when_an_admin_exists_then_refused_with_what_to_do(kit: Kit) -> None:
    before = kit.rows("staff_invites")

    code, out = kit.tradeguard("staff", "bootstrap-admin", "eve@example.com")

    assert code == 1
    assert out.startswith("error: STAFF_ADMIN_EXISTS: an administrator already exists;")
    assert "tradeguard staff invite" in out
    assert "Traceback" not in out
    assert kit.rows("staff_invites") == before
    assert events_of(kit.engine, "staff.bootstrap.refused") == ["staff.bootstrap.refused"]


@pytest.mark.parametrize("email", ["not-an-email", "ada@", "@example.com", "a b@example.com"])
def test_bootstrap_admin_when_email_is_bad_then_refused_and_nothing_made(
    kit: Kit, email: str
) -> None:
    code, out = kit.tradeguard("staff", "bootstrap-admin", email)

    assert (code, out.strip()) == (
        1,
        "error: STAFF_EMAIL_INVALID: not an email address: give one like name@example.com",
    )
    assert kit.rows("staff_invites") == 0
    assert events_of(kit.engine, "staff.") == []


def test_bootstrap_admin_when_address_has_an_account_then_refused(kit: Kit) -> None:
    sign_up(kit.client, kit.mailbox, Person(username="tom", email="tom@example.com"))

    code, out = kit.tradeguard("staff", "bootstrap-admin", "Tom@Example.com")

    assert code == 1
    assert out.startswith("error: STAFF_EMAIL_HAS_ACCOUNT:")
    assert kit.rows("staff_invites") == 0


def test_bootstrap_link_when_used_after_it_expired_then_refused(kit: Kit) -> None:
    _, out = kit.tradeguard("staff", "bootstrap-admin", "ada@example.com")
    kit.clock.set(SystemClock().now_ns() + 24 * HOUR_NS + NS_PER_SECOND)  # the command's is real

    late = enrol(kit.client, link_token(out), Person(username="ada", email="ada@example.com"))

    assert late.status_code == 400, late.text
    assert (late.json()["reason_code"], late.json()["state"]) == ("STAFF_LINK_INVALID", "expired")
    assert kit.rows("users") == 0


def test_bootstrap_link_when_used_twice_then_second_use_refused(kit: Kit) -> None:
    _, out = kit.tradeguard("staff", "bootstrap-admin", "ada@example.com")
    token = link_token(out)
    assert enrol(kit.client, token, Person(username="ada")).status_code == 201

    again = enrol(kit.client, token, Person(username="ada2"))

    assert again.status_code == 400, again.text
    assert (again.json()["reason_code"], again.json()["state"]) == (
        "STAFF_LINK_INVALID",
        "redeemed",
    )
    assert kit.rows("users") == 1


def test_enrolment_when_username_or_password_refused_then_link_still_works(kit: Kit) -> None:
    _, out = kit.tradeguard("staff", "bootstrap-admin", "ada@example.com")
    token = link_token(out)

    weak = enrol(kit.client, token, Person(username="ada", password="password1234"))
    bad_name = enrol(kit.client, token, Person(username="a"))

    assert weak.status_code == 422, weak.text
    assert bad_name.status_code == 422, bad_name.text
    assert enrol(kit.client, token, Person(username="ada")).status_code == 201


def test_enrolment_when_username_taken_then_conflict_and_link_still_works(kit: Kit) -> None:
    sign_up(kit.client, kit.mailbox, Person(username="tom", email="tom@example.com"))
    _, out = kit.tradeguard("staff", "bootstrap-admin", "ada@example.com")
    token = link_token(out)

    taken = enrol(kit.client, token, Person(username="Tom"))

    assert (taken.status_code, taken.json()["reason_code"]) == (409, "STAFF_USERNAME_TAKEN")
    assert enrol(kit.client, token, Person(username="ada")).status_code == 201


def test_enrolment_route_when_token_malformed_then_validation_problem(kit: Kit) -> None:
    body = {"token": "x' OR 1=1 --", "username": "ada", "password": "b"}
    answer = kit.client.post(ENROLMENT, json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")


# Invitations


@pytest.mark.usefixtures("ada")
@pytest.mark.parametrize(
    ("role", "stored"),
    [("compliance", ("COMPLIANCE", "read-only")), ("support", ("SUPPORT", "read-only"))],
)
def test_invite_when_by_an_admin_then_link_printed_emailed_and_enrols_that_role(
    kit: Kit, role: str, stored: tuple[str, str]
) -> None:
    code, out = invite(kit, "bob@example.com", role)

    assert code == 0, out
    assert f"as {stored[0]} ({stored[1]})" in out
    token = link_token(out)
    assert outbox_link(kit.settings, "bob@example.com") == token
    assert events_of(kit.engine, "staff.invite.") == ["staff.invite.created"]
    assert kit.outbox_kinds().count("security.staff_invite") == 1  # Ada hears of it

    bob = enrolled_with_key(kit.client, token, Person(username="bob", email="bob@example.com"))

    assert user_role(kit.engine, "bob") == (*stored, "active")
    assert events_of(kit.engine, "staff.invite.accepted") == ["staff.invite.accepted"]
    assert kit.client.get("/v1/me", headers=bob.person.headers).status_code == 200


@pytest.mark.usefixtures("ada")
def test_invite_when_level_named_then_given(kit: Kit) -> None:
    code, out = invite(kit, "cyd@example.com", "compliance", "--level", "operator")

    assert code == 0, out
    person = Person(username="cyd", email="cyd@example.com")
    enrolled_with_key(kit.client, link_token(out), person)
    assert user_role(kit.engine, "cyd") == ("COMPLIANCE", "operator", "active")


@pytest.mark.usefixtures("ada")
@pytest.mark.parametrize("acting", ["sam", "nobody", "tom"])
def test_invite_when_not_by_an_admin_then_refused_audited_and_nothing_made(
    kit: Kit, acting: str
) -> None:
    _, out = invite(kit, "sam@example.com", "support")
    enrolled_with_key(kit.client, link_token(out), Person(username="sam", email="sam@example.com"))
    _, out = invite(kit, "tom@example.com", "admin")
    enrolled_with_key(kit.client, link_token(out), Person(username="tom", email="tom@example.com"))
    with kit.engine.begin() as connection:  # tom is an administrator, but suspended
        connection.exec_driver_sql("UPDATE users SET status = 'suspended' WHERE username = 'tom'")
    invites = kit.rows("staff_invites")

    code, out = kit.tradeguard(
        "staff", "invite", "eve@example.com", "--role", "admin", "--as", acting
    )

    assert code == 1
    assert out.startswith("error: STAFF_INVITER_NOT_ADMIN: only an active administrator")
    assert kit.rows("staff_invites") == invites
    assert events_of(kit.engine, "staff.invite.refused") == ["staff.invite.refused"]


@pytest.mark.usefixtures("ada")
def test_invite_when_address_has_an_account_then_refused_with_the_role_change_hint(
    kit: Kit,
) -> None:
    sign_up(kit.client, kit.mailbox, Person(username="tom", email="tom@example.com"))

    code, out = invite(kit, "tom@example.com", "support")

    assert code == 1
    assert out.startswith("error: STAFF_EMAIL_HAS_ACCOUNT:")
    assert "role change approved by two administrators" in out


@pytest.mark.usefixtures("ada")
def test_invite_when_repeated_before_use_then_the_new_link_replaces_the_old(kit: Kit) -> None:
    _, first = invite(kit, "bob@example.com", "support")
    _, second = invite(kit, "bob@example.com", "compliance")

    old = enrol(kit.client, link_token(first), Person(username="bob"))

    assert old.json()["state"] == "replaced"
    assert enrol(kit.client, link_token(second), Person(username="bob")).status_code == 201
    assert user_role(kit.engine, "bob")[0] == "COMPLIANCE"


# The two-admin rule


@pytest.mark.usefixtures("ada")
def test_admin_invite_when_the_inviter_is_the_only_admin_then_sent_and_compliance_told(
    kit: Kit,
) -> None:
    code, out = invite(kit, "ben@example.com", "admin")

    assert code == 0, out
    assert "compliance was told" in out
    link_token(out)
    assert "staff.sole_admin_invite" in kit.outbox_kinds()


@pytest.fixture
def two_admins(kit: Kit, ada: StaffMember) -> tuple[StaffMember, StaffMember]:
    """Ada, and Ben whom she invited while she was the only administrator."""
    _, out = invite(kit, "ben@example.com", "admin")
    ben = Person(username="ben", email="ben@example.com")
    return ada, enrolled_with_key(kit.client, link_token(out), ben)


def test_admin_invite_when_another_admin_exists_then_waits_for_their_approval(
    kit: Kit, two_admins: tuple[StaffMember, StaffMember]
) -> None:
    ada, ben = two_admins
    code, out = invite(kit, "cyd@example.com", "admin")

    assert code == 0, out
    assert "awaits a second administrator" in out
    assert "token=" not in out
    invite_id = out.split()[1]
    listed = kit.client.get(INVITES, headers=ben.person.headers).json()["invites"]
    assert [(i["id"], i["status"], i["email"]) for i in listed] == [
        (invite_id, "awaiting_approval", "c***@example.com")
    ]
    refused = decide(kit.client, ada.person, invite_id, "approve")
    assert refused.status_code == 403, refused.text
    assert refused.json()["reason_code"] == "STAFF_SELF_APPROVAL"

    approved = decide(kit.client, ben.person, invite_id, "approve")

    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "sent"
    email = kit.mailbox.last_email(to="cyd@example.com", kind="staff.enrolment_link")
    cyd = Person(username="cyd", email="cyd@example.com")
    enrolled_with_key(kit.client, link_token(email.text), cyd)
    assert user_role(kit.engine, "cyd") == ("ADMIN", "admin", "active")
    assert events_of(kit.engine, "staff.invite.approved") == ["staff.invite.approved"]


def test_admin_invite_when_denied_then_no_link_and_address_forgotten(
    kit: Kit, two_admins: tuple[StaffMember, StaffMember]
) -> None:
    ada, ben = two_admins
    created = invite_by_api(kit.client, ben.person, "cyd@example.com", "ADMIN")
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "awaiting_approval"

    denied = decide(kit.client, ada.person, created.json()["id"], "deny")

    assert denied.status_code == 200, denied.text
    assert (denied.json()["status"], denied.json()["email"]) == ("denied", None)
    assert kit.emails_to("cyd@example.com") == []
    again = decide(kit.client, ada.person, created.json()["id"], "approve")
    assert again.json()["reason_code"] == "STAFF_INVITE_DECIDED"
    with kit.engine.connect() as connection:
        kept = connection.exec_driver_sql(
            "SELECT email, email_index FROM staff_invites WHERE status = 'denied'"
        ).one()
    assert tuple(kept) == (None, None)


def test_support_invite_when_two_admins_exist_then_sent_at_once(
    kit: Kit, two_admins: tuple[StaffMember, StaffMember]
) -> None:
    _, ben = two_admins

    made = invite_by_api(kit.client, ben.person, "sam@example.com", "SUPPORT")

    assert made.status_code == 201, made.text
    assert (made.json()["status"], made.json()["role"]) == ("sent", "SUPPORT")
    assert kit.emails_to("sam@example.com") == ["staff.enrolment_link"]


@pytest.mark.usefixtures("ada")
def test_invites_command_when_listing_then_open_ones_masked_and_all_with_flag(kit: Kit) -> None:
    invite(kit, "bob@example.com", "support")

    code, out = kit.tradeguard("staff", "invites")

    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["INVITE", "EMAIL", "ROLE", "LEVEL", "STATUS"]
    assert [line.split()[1:5] for line in lines[1:]] == [
        ["b***@example.com", "SUPPORT", "read-only", "sent"]
    ]
    code, out = kit.tradeguard("staff", "invites", "--all")
    assert [line.split()[2] for line in out.splitlines()[1:]] == ["SUPPORT", "ADMIN"]
    assert "bob@example.com" not in out


def test_staff_member_when_enrolled_then_signs_in_with_password_and_key(
    kit: Kit, ada: StaffMember
) -> None:
    ada.person.tokens = {}
    challenge = login(kit.client, ada.person)
    assert challenge.json()["methods"] == ["webauthn"]
    sign_in_with_security_key(kit.client, ada.person)
    assert kit.client.get("/v1/admin/users", headers=ada.person.headers).status_code == 200
