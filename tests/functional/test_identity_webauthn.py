"""WebAuthn through the API with a software authenticator: platform authenticators and
security keys as second factors, passkeys as the only factor, and refused assertions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from identity_flows import (
    Person,
    answer_challenge,
    assert_refused,
    audit_event_types,
    enrolment_session,
    factors_of,
    start_login,
)

from tradeguard.notify.notifier import MemorySender
from unit.identity.webauthn_authenticator import SoftAuthenticator, b64url

RP_ID = "localhost"
ORIGIN = "https://localhost:8443"
PLATFORM = "platform"
SECURITY_KEY = "security-key"


def platform_authenticator(**knobs: Any) -> SoftAuthenticator:
    """A platform authenticator (Touch ID, Windows Hello) that keeps passkeys."""
    return SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN, **knobs)


def security_key(**knobs: Any) -> SoftAuthenticator:
    """A roaming USB security key that keeps no resident credential."""
    return SoftAuthenticator(rp_id=RP_ID, origin=ORIGIN, transport="usb", resident=False, **knobs)


def registration_options(client: TestClient, person: Person, kind: str) -> dict[str, Any]:
    """Registration options (and the ceremony id) for ``kind`` of authenticator."""
    options = client.post(
        "/v1/mfa/webauthn/options", json={"authenticator": kind}, headers=person.headers
    )
    assert options.status_code == 200, options.text
    body: dict[str, Any] = options.json()
    return body


def register(
    client: TestClient,
    person: Person,
    authenticator: SoftAuthenticator,
    kind: str,
    name: str | None = None,
) -> Any:
    """Create a credential on ``authenticator`` and post it."""
    options = registration_options(client, person, kind)
    body: dict[str, Any] = {
        "challenge_id": options["challenge_id"],
        "credential": authenticator.create(options["publicKey"]),
    }
    if name is not None:
        body["name"] = name
    return client.post("/v1/mfa/webauthn", json=body, headers=person.headers)


def registered(
    client: TestClient,
    person: Person,
    authenticator: SoftAuthenticator,
    kind: str,
    name: str | None = None,
) -> dict[str, Any]:
    """Register a credential; the new factor (the session upgrades if it was the first)."""
    created = register(client, person, authenticator, kind, name)
    assert created.status_code == 201, created.text
    if created.json().get("tokens"):
        person.tokens = created.json()["tokens"]
    factor: dict[str, Any] = created.json()["factor"]
    return factor


def assertion_options(client: TestClient, challenge_id: str) -> dict[str, Any]:
    """The assertion options of a login challenge."""
    options = client.post("/v1/auth/mfa/webauthn/options", json={"challenge_id": challenge_id})
    assert options.status_code == 200, options.text
    public_key: dict[str, Any] = options.json()["publicKey"]
    return public_key


def sign_in_with_key(
    client: TestClient, person: Person, authenticator: SoftAuthenticator
) -> tuple[Any, dict[str, Any]]:
    """Password, then an assertion of ``authenticator``; the answer and the assertion."""
    challenge_id = start_login(client, person)["challenge_id"]
    credential = authenticator.get(assertion_options(client, challenge_id))
    return answer_challenge(client, challenge_id, "webauthn", credential=credential), credential


def passkey_options(client: TestClient) -> dict[str, Any]:
    """Options of a passwordless sign-in."""
    options = client.post("/v1/auth/passkey/options")
    assert options.status_code == 200, options.text
    body: dict[str, Any] = options.json()
    return body


def passkey_login(client: TestClient, challenge_id: str, credential: dict[str, Any]) -> Any:
    """Post a passkey assertion for a passwordless sign-in."""
    return client.post(
        "/v1/auth/passkey/login", json={"challenge_id": challenge_id, "credential": credential}
    )


def passkey_sign_in(client: TestClient, authenticator: SoftAuthenticator) -> Any:
    """Sign in with a passkey alone."""
    options = passkey_options(client)
    return passkey_login(client, options["challenge_id"], authenticator.get(options["publicKey"]))


def current_session(client: TestClient, tokens: dict[str, Any]) -> dict[str, Any]:
    """The session the tokens belong to, as GET /v1/sessions shows it."""
    listed = client.get(
        "/v1/sessions", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert listed.status_code == 200, listed.text
    session: dict[str, Any] = next(item for item in listed.json() if item["current"])
    return session


@pytest.fixture
def alice(client: TestClient, mailbox: MemorySender) -> Person:
    """Alice, signed in to an enrolment-only session."""
    return enrolment_session(client, mailbox, Person())


@pytest.fixture
def laptop() -> SoftAuthenticator:
    """Alice's platform authenticator."""
    return platform_authenticator()


@pytest.fixture
def yubikey() -> SoftAuthenticator:
    """Alice's security key."""
    return security_key()


def test_registration_when_platform_authenticator_and_security_key_then_both_are_factors(
    client: TestClient,
    mailbox: MemorySender,
    alice: Person,
    laptop: SoftAuthenticator,
    yubikey: SoftAuthenticator,
) -> None:
    first = registered(client, alice, laptop, PLATFORM, "Laptop")
    assert (first["kind"], first["authenticator"]) == ("webauthn", PLATFORM)
    assert first["name"] == "Laptop"
    assert alice.tokens["enrollment_only"] is False
    options = registration_options(client, alice, SECURITY_KEY)
    excluded = [item["id"] for item in options["publicKey"]["excludeCredentials"]]
    assert excluded == [b64url(next(iter(laptop.credentials)))]
    second = registered(client, alice, yubikey, SECURITY_KEY)
    assert (second["authenticator"], second["name"]) == (SECURITY_KEY, "Security key")
    assert [factor["id"] for factor in factors_of(client, alice)] == [first["id"], second["id"]]
    assert start_login(client, alice)["methods"] == ["webauthn"]
    added = [email for email in mailbox.emails if email.kind == "security.factor_added"]
    assert len(added) == 2


@pytest.mark.parametrize(
    ("kind", "attachment", "resident_key"),
    [(PLATFORM, "platform", "required"), (SECURITY_KEY, "cross-platform", "discouraged")],
)
def test_registration_options_when_kind_chosen_then_ask_for_it_with_user_verification(
    client: TestClient, alice: Person, kind: str, attachment: str, resident_key: str
) -> None:
    options = registration_options(client, alice, kind)["publicKey"]
    selection = options["authenticatorSelection"]
    assert selection["authenticatorAttachment"] == attachment
    assert selection["residentKey"] == resident_key
    assert selection["userVerification"] == "required"
    assert options["rp"]["id"] == RP_ID
    assert options["user"]["name"] == "alice"


@pytest.mark.parametrize("which", ["laptop", "yubikey"])
def test_second_factor_when_either_credential_answers_then_signed_in(
    client: TestClient,
    alice: Person,
    laptop: SoftAuthenticator,
    yubikey: SoftAuthenticator,
    which: str,
) -> None:
    registered(client, alice, laptop, PLATFORM)
    registered(client, alice, yubikey, SECURITY_KEY)
    answered, _ = sign_in_with_key(client, alice, {"laptop": laptop, "yubikey": yubikey}[which])
    assert answered.status_code == 200, answered.text
    assert current_session(client, answered.json())["amr"] == ["pwd", "hwk", "user", "mfa"]


def test_registration_when_user_not_verified_then_refused(
    client: TestClient, alice: Person
) -> None:
    refused = register(client, alice, platform_authenticator(user_verified=False), PLATFORM)
    assert_refused(refused, 400, "WEBAUTHN_INVALID")
    assert refused.json()["webauthn_reason"] == "WEBAUTHN_USER_NOT_VERIFIED"
    assert factors_of(client, alice) == []
    assert client.get("/v1/me", headers=alice.headers).json()["enrollment_only"] is True


def test_registration_when_signed_for_another_origin_then_refused(
    client: TestClient, alice: Person
) -> None:
    relayed = SoftAuthenticator(rp_id=RP_ID, origin="https://tradeguard-login.example")
    assert_refused(register(client, alice, relayed, PLATFORM), 400, "WEBAUTHN_INVALID")
    assert factors_of(client, alice) == []


def test_registration_when_ceremony_used_twice_then_refused(
    client: TestClient, alice: Person, laptop: SoftAuthenticator
) -> None:
    options = registration_options(client, alice, "any")
    posts = [
        client.post(
            "/v1/mfa/webauthn",
            json={
                "challenge_id": options["challenge_id"],
                "credential": authenticator.create(options["publicKey"]),
            },
            headers=alice.headers,
        )
        for authenticator in (laptop, platform_authenticator())
    ]
    assert posts[0].status_code == 201, posts[0].text
    assert_refused(posts[1], 400, "AUTH_CHALLENGE_INVALID")
    assert len(factors_of(client, alice)) == 1


def test_passkey_when_resident_then_signs_in_without_password(
    client: TestClient, clean_database, alice: Person, laptop: SoftAuthenticator
) -> None:
    registered(client, alice, laptop, PLATFORM)
    before = audit_event_types(clean_database.engine).count("auth.login.succeeded")
    signed_in = passkey_sign_in(client, laptop)
    assert signed_in.status_code == 200, signed_in.text
    tokens = signed_in.json()
    assert tokens["enrollment_only"] is False
    assert current_session(client, tokens)["amr"] == ["hwk", "user", "mfa"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["username"] == "alice"
    after = audit_event_types(clean_database.engine).count("auth.login.succeeded")
    assert after == before + 1


def test_assertion_when_counter_regresses_then_refused_and_audited(
    client: TestClient, clean_database, alice: Person, laptop: SoftAuthenticator
) -> None:
    registered(client, alice, laptop, PLATFORM)
    first, _ = sign_in_with_key(client, alice, laptop)
    assert first.status_code == 200, first.text  # the authenticator reported 1
    laptop.counter = 0  # a clone that reports 1 again
    cloned, _ = sign_in_with_key(client, alice, laptop)
    assert_refused(cloned, 401, "AUTH_MFA_INVALID")
    laptop.counter = 0
    assert_refused(passkey_sign_in(client, laptop), 401, "AUTH_MFA_INVALID")
    events = audit_event_types(clean_database.engine)
    assert events.count("auth.webauthn.counter_regressed") == 2
    laptop.counter = 5  # the genuine authenticator moves on
    assert passkey_sign_in(client, laptop).status_code == 200


def test_assertion_when_counter_always_zero_then_accepted(
    client: TestClient, clean_database, alice: Person
) -> None:
    synced = platform_authenticator(counter_step=0, backup_eligible=True, backed_up=True)
    registered(client, alice, synced, PLATFORM)
    for _ in range(2):
        answered, _ = sign_in_with_key(client, alice, synced)
        assert answered.status_code == 200, answered.text
        assert passkey_sign_in(client, synced).status_code == 200
    assert "auth.webauthn.counter_regressed" not in audit_event_types(clean_database.engine)


def test_assertion_when_replayed_against_a_new_challenge_then_refused(
    client: TestClient, alice: Person, laptop: SoftAuthenticator
) -> None:
    registered(client, alice, laptop, PLATFORM)
    answered, assertion = sign_in_with_key(client, alice, laptop)
    assert answered.status_code == 200, answered.text
    challenge_id = start_login(client, alice)["challenge_id"]
    assertion_options(client, challenge_id)
    replayed = answer_challenge(client, challenge_id, "webauthn", credential=assertion)
    assert_refused(replayed, 401, "AUTH_MFA_INVALID")


def test_passkey_assertion_when_replayed_against_a_new_challenge_then_refused(
    client: TestClient, alice: Person, laptop: SoftAuthenticator
) -> None:
    registered(client, alice, laptop, PLATFORM)
    options = passkey_options(client)
    assertion = laptop.get(options["publicKey"])
    assert passkey_login(client, options["challenge_id"], assertion).status_code == 200
    again = passkey_login(client, options["challenge_id"], assertion)
    assert_refused(again, 400, "AUTH_CHALLENGE_INVALID")
    fresh = passkey_options(client)["challenge_id"]
    assert_refused(passkey_login(client, fresh, assertion), 401, "AUTH_MFA_INVALID")


def test_assertion_when_credential_of_another_user_then_refused(
    client: TestClient, mailbox: MemorySender, alice: Person, laptop: SoftAuthenticator
) -> None:
    registered(client, alice, laptop, PLATFORM)
    bob = enrolment_session(client, mailbox, Person("bob", "bob@example.com"))
    bobs_laptop = platform_authenticator()
    registered(client, bob, bobs_laptop, PLATFORM)
    challenge_id = start_login(client, alice)["challenge_id"]
    options = assertion_options(client, challenge_id)
    foreign = bobs_laptop.get({**options, "allowCredentials": []})
    refused = answer_challenge(client, challenge_id, "webauthn", credential=foreign)
    assert_refused(refused, 401, "AUTH_MFA_INVALID")
    answered = answer_challenge(client, challenge_id, "webauthn", credential=laptop.get(options))
    assert answered.status_code == 200, answered.text


def test_passkey_when_user_handle_swapped_to_another_user_then_refused(
    client: TestClient, mailbox: MemorySender, alice: Person, laptop: SoftAuthenticator
) -> None:
    alice_handle = registration_options(client, alice, PLATFORM)["publicKey"]["user"]["id"]
    registered(client, alice, laptop, PLATFORM)
    bob = enrolment_session(client, mailbox, Person("bob", "bob@example.com"))
    bobs_laptop = platform_authenticator()
    registered(client, bob, bobs_laptop, PLATFORM)
    options = passkey_options(client)
    assertion = bobs_laptop.get(options["publicKey"])
    assertion["response"]["userHandle"] = alice_handle
    refused = passkey_login(client, options["challenge_id"], assertion)
    assert_refused(refused, 401, "AUTH_MFA_INVALID")
